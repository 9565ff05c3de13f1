//! `berth`: Docker-compatible command-line client for berthd (or dockerd).

mod auth;
mod build;
mod cli;
mod containers;
mod context;
mod copy;
mod fmtutil;
mod images;
mod login;
mod mountopts;
mod netopts;
mod network;
mod progress;
mod refs;
mod stream;
mod system;
mod template;
mod transfer;
mod tty;
mod volume;

use std::io::Write;

use api_client::Client;
use clap::Parser;

use cli::{Cli, Cmd, ContainerCmd, ImageCmd, NetworkCmd, SystemCmd, VolumeCmd};

/// A command failure: message for stderr (may be empty) and exit status.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub msg: String,
}

impl Failure {
    pub fn new(code: i32, msg: impl Into<String>) -> Failure {
        Failure {
            code,
            msg: msg.into(),
        }
    }
    /// Exit with `code` without printing anything more.
    pub fn silent(code: i32) -> Failure {
        Failure {
            code,
            msg: String::new(),
        }
    }
}

impl From<api_client::Error> for Failure {
    fn from(e: api_client::Error) -> Failure {
        Failure::new(1, e.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        Failure::new(1, e.to_string())
    }
}

/// Result of a command: Ok(exit status).
pub type CmdResult = Result<i32, Failure>;

/// Format a `--format`/template error like docker does.
pub fn template_error(e: String) -> Failure {
    Failure::new(1, e)
}

fn subcommand_name(args: &[String]) -> String {
    // First non-flag argument after global options, for help hints.
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        if ["-H", "--host", "--log-level", "--config", "-c", "--context"].contains(&a.as_str()) {
            it.next();
            continue;
        }
        if a.starts_with('-') {
            continue;
        }
        return a.clone();
    }
    String::new()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::{ContextKind, ErrorKind};
            match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    std::process::exit(0);
                }
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    std::process::exit(0);
                }
                _ => {}
            }
            let sub = subcommand_name(&args);
            let hint = if sub.is_empty() {
                "Run 'berth --help' for more information".to_string()
            } else {
                format!("Run 'berth {sub} --help' for more information")
            };
            let msg = match e.kind() {
                ErrorKind::UnknownArgument => {
                    let arg = e
                        .get(ContextKind::InvalidArg)
                        .map(|v| v.to_string())
                        .unwrap_or_default();
                    if arg.starts_with("--") {
                        format!("unknown flag: {arg}")
                    } else if arg.starts_with('-') {
                        format!(
                            "unknown shorthand flag: '{}' in {arg}",
                            arg.trim_start_matches('-')
                        )
                    } else {
                        format!("berth: '{arg}' is not a berth command.")
                    }
                }
                ErrorKind::InvalidSubcommand => {
                    let arg = e
                        .get(ContextKind::InvalidSubcommand)
                        .map(|v| v.to_string())
                        .unwrap_or_default();
                    format!("berth: unknown command: berth {arg}")
                }
                _ => {
                    let rendered = e.render().to_string();
                    let first = rendered
                        .lines()
                        .next()
                        .unwrap_or("")
                        .trim_start_matches("error: ")
                        .to_string();
                    first
                }
            };
            eprintln!("{msg}\n\n{hint}");
            std::process::exit(125);
        }
    };

    if cli.version && cli.cmd.is_none() {
        println!("berth version {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    let Some(cmd) = cli.cmd else {
        let _ = <Cli as clap::CommandFactory>::command().print_help();
        return;
    };

    if let Some(dir) = cli.config.as_deref().filter(|d| !d.is_empty()) {
        // Read by `auth::config_dir`, like docker's `--config`. Still single-threaded here.
        std::env::set_var("DOCKER_CONFIG", dir);
    }
    // TLS as the docker CLI decides it: --tlsverify or DOCKER_TLS_VERIFY
    // (verify), --tls (encrypt only); the files from the flags, else
    // DOCKER_CERT_PATH, else the config directory.
    let verify = cli.tlsverify || std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty());
    let tls = (cli.tls || verify).then(|| {
        let dir = std::env::var_os("DOCKER_CERT_PATH")
            .filter(|d| !d.is_empty())
            .map(std::path::PathBuf::from)
            .unwrap_or_else(auth::config_dir);
        api_client::tls::TlsOptions {
            verify,
            ca: Some(cli.tlscacert.clone().unwrap_or_else(|| dir.join("ca.pem"))),
            cert: Some(cli.tlscert.clone().unwrap_or_else(|| dir.join("cert.pem"))),
            key: Some(cli.tlskey.clone().unwrap_or_else(|| dir.join("key.pem"))),
        }
    });
    // The context: --context, -H, the host variables, DOCKER_CONTEXT,
    // config.json's currentContext, "default" (the flags and environment).
    let selection = match context::Selection::resolve(context::Flags {
        context: cli.context.clone().filter(|c| !c.is_empty()),
        host: cli.host.clone(),
        tls,
    }) {
        Ok(s) => s,
        Err(f) => {
            eprintln!("{}", f.msg);
            std::process::exit(f.code);
        }
    };
    // Commands that never talk to a daemon need no endpoint.
    let cmd = match cmd {
        Cmd::Context(c) => finish(context::run(&selection, c)),
        Cmd::Logout(a) => finish(login::logout(a)),
        cmd => cmd,
    };
    let client = match selection.client() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };

    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("failed to start runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = rt.block_on(dispatch(client, cmd));
    rt.shutdown_background();
    finish(result)
}

/// Reports a command's result and exits with its status.
fn finish(result: CmdResult) -> ! {
    let code = match result {
        Ok(code) => code,
        Err(f) => {
            if !f.msg.is_empty() {
                eprintln!("{}", f.msg);
            }
            f.code
        }
    };
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(code);
}

async fn dispatch(client: Client, cmd: Cmd) -> CmdResult {
    use containers as c;
    use images as i;
    match cmd {
        Cmd::Version(a) => system::version(&client, a).await,
        Cmd::Info(a) | Cmd::System(SystemCmd::Info(a)) => system::info(&client, a).await,
        Cmd::Run(a) | Cmd::Container(ContainerCmd::Run(a)) => c::run(&client, a).await,
        Cmd::Create(a) | Cmd::Container(ContainerCmd::Create(a)) => c::create(&client, a).await,
        Cmd::Start(a) | Cmd::Container(ContainerCmd::Start(a)) => c::start(&client, a).await,
        Cmd::Stop(a) | Cmd::Container(ContainerCmd::Stop(a)) => c::stop(&client, a, "stop").await,
        Cmd::Restart(a) | Cmd::Container(ContainerCmd::Restart(a)) => {
            c::stop(&client, a, "restart").await
        }
        Cmd::Kill(a) | Cmd::Container(ContainerCmd::Kill(a)) => c::kill(&client, a).await,
        Cmd::Rm(a) | Cmd::Container(ContainerCmd::Rm(a)) => c::rm(&client, a).await,
        Cmd::Ps(a) | Cmd::Container(ContainerCmd::Ls(a)) => c::ps(&client, a).await,
        Cmd::Logs(a) | Cmd::Container(ContainerCmd::Logs(a)) => c::logs(&client, a).await,
        Cmd::Inspect(a) => c::inspect(&client, a, None).await,
        Cmd::Container(ContainerCmd::Inspect(a)) => c::inspect(&client, a, Some("container")).await,
        Cmd::Image(ImageCmd::Inspect(a)) => c::inspect(&client, a, Some("image")).await,
        Cmd::Wait(a) | Cmd::Container(ContainerCmd::Wait(a)) => c::wait(&client, a).await,
        Cmd::Exec(a) | Cmd::Container(ContainerCmd::Exec(a)) => c::exec(&client, a).await,
        Cmd::Attach(a) | Cmd::Container(ContainerCmd::Attach(a)) => c::attach(&client, a).await,
        Cmd::Rename(a) | Cmd::Container(ContainerCmd::Rename(a)) => c::rename(&client, a).await,
        Cmd::Update(a) | Cmd::Container(ContainerCmd::Update(a)) => c::update(&client, a).await,
        Cmd::Commit(a) | Cmd::Container(ContainerCmd::Commit(a)) => i::commit(&client, a).await,
        Cmd::Top(a) | Cmd::Container(ContainerCmd::Top(a)) => c::top(&client, a).await,
        Cmd::Stats(a) | Cmd::Container(ContainerCmd::Stats(a)) => c::stats(&client, a).await,
        Cmd::Events(a) => c::events(&client, a).await,
        Cmd::Container(ContainerCmd::Prune(a)) => c::prune(&client, a).await,
        Cmd::Diff(a) | Cmd::Container(ContainerCmd::Diff(a)) => c::diff(&client, a).await,
        Cmd::Pause(a) | Cmd::Container(ContainerCmd::Pause(a)) => {
            c::simple_each(&client, a, "pause").await
        }
        Cmd::Unpause(a) | Cmd::Container(ContainerCmd::Unpause(a)) => {
            c::simple_each(&client, a, "unpause").await
        }
        Cmd::Import(a) | Cmd::Image(ImageCmd::Import(a)) => i::import(&client, a).await,
        Cmd::Images(a) | Cmd::Image(ImageCmd::Ls(a)) => i::images(&client, a).await,
        Cmd::Tag(a) | Cmd::Image(ImageCmd::Tag(a)) => i::tag(&client, a).await,
        Cmd::Rmi(a) | Cmd::Image(ImageCmd::Rm(a)) => i::rmi(&client, a).await,
        Cmd::Pull(a) | Cmd::Image(ImageCmd::Pull(a)) => transfer::pull(&client, a).await,
        Cmd::Push(a) | Cmd::Image(ImageCmd::Push(a)) => transfer::push(&client, a).await,
        Cmd::Save(a) | Cmd::Image(ImageCmd::Save(a)) => transfer::save(&client, a).await,
        Cmd::Load(a) | Cmd::Image(ImageCmd::Load(a)) => transfer::load(&client, a).await,
        Cmd::Build(a) | Cmd::Image(ImageCmd::Build(a)) => build::build(&client, *a).await,
        Cmd::Export(a) | Cmd::Container(ContainerCmd::Export(a)) => {
            transfer::export(&client, a).await
        }
        Cmd::Cp(a) | Cmd::Container(ContainerCmd::Cp(a)) => copy::cp(&client, a).await,
        Cmd::History(a) | Cmd::Image(ImageCmd::History(a)) => i::history(&client, a).await,
        Cmd::Image(ImageCmd::Prune(a)) => i::prune(&client, a).await,
        Cmd::System(SystemCmd::Df(a)) => system::df(&client, a).await,
        Cmd::System(SystemCmd::DialStdio) => system::dial_stdio(&client).await,
        Cmd::Port(a) => network::port(&client, a, "port").await,
        Cmd::Container(ContainerCmd::Port(a)) => network::port(&client, a, "container port").await,
        Cmd::Network(NetworkCmd::Create(a)) => network::create(&client, a).await,
        Cmd::Network(NetworkCmd::Ls(a)) => network::ls(&client, a).await,
        Cmd::Network(NetworkCmd::Inspect(a)) => network::inspect(&client, a).await,
        Cmd::Network(NetworkCmd::Rm(a)) => network::rm(&client, a).await,
        Cmd::Network(NetworkCmd::Prune(a)) => network::prune(&client, a).await,
        Cmd::Network(NetworkCmd::Connect(a)) => network::connect(&client, a).await,
        Cmd::Network(NetworkCmd::Disconnect(a)) => network::disconnect(&client, a).await,
        Cmd::Volume(VolumeCmd::Create(a)) => volume::create(&client, a).await,
        Cmd::Volume(VolumeCmd::Ls(a)) => volume::ls(&client, a).await,
        Cmd::Volume(VolumeCmd::Inspect(a)) => volume::inspect(&client, a).await,
        Cmd::Volume(VolumeCmd::Rm(a)) => volume::rm(&client, a).await,
        Cmd::Volume(VolumeCmd::Prune(a)) => volume::prune(&client, a).await,
        Cmd::Login(a) => login::login(&client, a).await,
        Cmd::Logout(a) => login::logout(a),
        Cmd::Context(_) => unreachable!("context commands run without a client, in main"),
    }
}
