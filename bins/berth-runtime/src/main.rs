//! `berth-runtime`: an OCI runtime with a runc-compatible command line, built
//! on youki's `libcontainer`.
//!
//! Every invocation handles exactly one verb for one container and then exits;
//! libcontainer is not safe to drive twice in one process (it changes the
//! process-wide working directory while it works).

mod common;
mod create;
mod delete;
mod exec;
mod executor;
mod hook_relay;
mod kill;
mod list;
mod logging;
mod mount_dest;
mod network;
mod run;
mod seccomp;
mod spec;
mod start;
mod state;
mod tty;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub const DEFAULT_ROOT: &str = "/run/berth-runtime";

/// Options that go before the verb, as with runc.
#[derive(Args, Debug, Clone)]
pub struct GlobalOpts {
    /// Directory holding the state of containers.
    #[arg(long, global = true, default_value = DEFAULT_ROOT)]
    pub root: PathBuf,
    /// Append log entries (and the final error) to this file.
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// Format of the log file: text or json.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Log libcontainer's debug output.
    #[arg(long, global = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub debug: bool,
    /// Use systemd to manage cgroups (not supported: error if true).
    #[arg(long, global = true, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false")]
    pub systemd_cgroup: bool,
    /// Accepted for runc compatibility; only "false" and "auto" are supported.
    #[arg(long, global = true, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub rootless: Option<String>,
}

#[derive(Parser, Debug)]
#[command(
    name = "berth-runtime",
    version,
    about = "OCI runtime with a runc-compatible command line"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalOpts,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a container; its process waits for `start`.
    Create(create::CreateArgs),
    /// Start a created container.
    Start(start::StartArgs),
    /// Create, start and (unless --detach) wait for a container, then delete it.
    Run(run::RunArgs),
    /// Print the state of a container as JSON.
    State(state::StateArgs),
    /// Send a signal to the container's init process (or all its processes).
    Kill(kill::KillArgs),
    /// Delete a container's state and cgroup.
    Delete(delete::DeleteArgs),
    /// Run an additional process in a running container.
    Exec(exec::ExecArgs),
    /// List containers.
    List(list::ListArgs),
    /// Run a hook with the caller's bundle in its state (used by adjusted specs).
    #[command(name = "hook-relay", hide = true)]
    HookRelay(hook_relay::HookRelayArgs),
}

fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    let global = &cli.global;
    if global.systemd_cgroup {
        anyhow::bail!("--systemd-cgroup is not supported by berth-runtime");
    }
    if let Some(r) = &global.rootless {
        if r != "false" && r != "auto" {
            anyhow::bail!("rootless containers are not supported by berth-runtime");
        }
    }
    match cli.command {
        Command::Create(a) => create::create(global, a).map(|_| 0),
        Command::Start(a) => start::start(global, a).map(|_| 0),
        Command::Run(a) => run::run(global, a),
        Command::State(a) => state::state(global, a).map(|_| 0),
        Command::Kill(a) => kill::kill(global, a).map(|_| 0),
        Command::Delete(a) => delete::delete(global, a).map(|_| 0),
        Command::Exec(a) => exec::exec(global, a),
        Command::List(a) => list::list(global, a).map(|_| 0),
        Command::HookRelay(a) => hook_relay::relay(a),
    }
}

/// `--log` and `--log-format` read straight from argv, so that even a usage
/// error reaches the log file the caller reads errors from.
fn log_opts_from_argv() -> (Option<PathBuf>, bool) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut log = None;
    let mut json = false;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (a.as_str(), None),
        };
        if flag == "--log" || flag == "--log-format" {
            let value = inline.or_else(|| {
                i += 1;
                args.get(i).cloned()
            });
            match (flag, value) {
                ("--log", Some(v)) => log = Some(PathBuf::from(v)),
                ("--log-format", Some(v)) => json = v == "json",
                _ => {}
            }
        }
        i += 1;
    }
    (log, json)
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            let text = e.to_string();
            // The message is the first paragraph of clap's text.
            let line = text
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
                .trim_start_matches("error: ")
                .to_string();
            let (log, json) = log_opts_from_argv();
            if logging::init(log.as_deref(), json, false).is_ok() {
                logging::error(&line);
            }
            eprintln!("berth-runtime: {line}");
            std::process::exit(1);
        }
    };

    if let Err(e) = logging::init(
        cli.global.log.as_deref(),
        cli.global.log_format == "json",
        cli.global.debug,
    ) {
        eprintln!("berth-runtime: {e:#}");
        std::process::exit(1);
    }

    let code = match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            let mut msg = common::error_message(&e);
            if let Some(detail) = logging::failure_detail() {
                if !msg.contains(&detail) {
                    msg = format!("{msg}: {detail}");
                }
            }
            logging::error(&msg);
            eprintln!("berth-runtime: {msg}");
            common::reap_children(std::time::Duration::from_secs(1));
            1
        }
    };
    std::process::exit(code);
}
