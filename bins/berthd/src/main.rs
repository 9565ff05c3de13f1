//! `berthd`: the berth daemon. A plain composition root: configuration,
//! then the engine (stores and services), then the API server.

mod config;

use anyhow::{bail, Context};
use clap::Parser;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "berthd",
    version,
    about = "berth daemon: serves the Docker Engine API"
)]
struct Flags {
    /// Daemon socket(s) to listen on (unix:///path or tcp://host:port).
    #[arg(short = 'H', long = "host")]
    hosts: Vec<String>,
    /// Group for the unix socket(s) (default "docker", when it exists).
    #[arg(short = 'G', long = "group")]
    group: Option<String>,
    /// Use TLS on TCP listeners; implied by --tlsverify.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    tls: Option<bool>,
    /// Use TLS and verify the remote (clients need a certificate signed by --tlscacert).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    tlsverify: Option<bool>,
    /// Trust certs signed only by this CA.
    #[arg(long)]
    tlscacert: Option<PathBuf>,
    /// Path to TLS certificate file.
    #[arg(long)]
    tlscert: Option<PathBuf>,
    /// Path to TLS key file.
    #[arg(long)]
    tlskey: Option<PathBuf>,
    /// Root directory of persistent state.
    #[arg(long)]
    data_root: Option<PathBuf>,
    /// Root directory for execution state files.
    #[arg(long)]
    exec_root: Option<PathBuf>,
    /// Daemon configuration file.
    #[arg(long, default_value = "/etc/berth/daemon.json")]
    config_file: String,
    /// Path to use for the daemon PID file.
    #[arg(short = 'p', long)]
    pidfile: Option<PathBuf>,
    /// Logging level (debug, info, warn, error, fatal).
    #[arg(short = 'l', long)]
    log_level: Option<String>,
    /// Enable debug mode.
    #[arg(short = 'D', long)]
    debug: bool,
    /// Default OCI runtime for containers.
    #[arg(long)]
    default_runtime: Option<String>,
    /// Parent cgroup for all containers.
    #[arg(long)]
    cgroup_parent: Option<String>,
    /// Path to seccomp profile. Set to "unconfined" to disable the default seccomp profile.
    #[arg(long)]
    seccomp_profile: Option<String>,
    /// Registries reached over plain HTTP (host[:port] or CIDR); loopback always is.
    #[arg(long = "insecure-registry")]
    insecure_registries: Vec<String>,
    /// Preferred Docker registry mirror (URL).
    #[arg(long = "registry-mirror")]
    registry_mirrors: Vec<String>,
    /// The default bridge interface ("none": no default bridge network);
    /// created when missing.
    #[arg(short = 'b', long = "bridge")]
    bridge: Option<String>,
    /// The default bridge's address and prefix (CIDR).
    #[arg(long)]
    bip: Option<String>,
    /// Manage berth's nftables table (published ports, isolation).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    iptables: Option<bool>,
    /// Let container traffic be routed off its bridge (enables IPv4 forwarding).
    #[arg(long = "ip-forward", num_args = 0..=1, default_missing_value = "true")]
    ip_forward: Option<bool>,
    /// Masquerade containers' outbound traffic.
    #[arg(long = "ip-masq", num_args = 0..=1, default_missing_value = "true")]
    ip_masq: Option<bool>,
    /// Let containers on the default bridge talk to one another.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    icc: Option<bool>,
    /// Serve ports on IPv6 addresses with a TCP proxy in the daemon (IPv4
    /// always takes the kernel path).
    #[arg(long = "userland-proxy", num_args = 0..=1, default_missing_value = "true")]
    userland_proxy: Option<bool>,
    /// DNS servers for containers and the embedded DNS's upstreams.
    #[arg(long)]
    dns: Vec<String>,
    /// DNS search domains.
    #[arg(long = "dns-search")]
    dns_search: Vec<String>,
    /// DNS options.
    #[arg(long = "dns-opt")]
    dns_opts: Vec<String>,
    /// Address pool for networks (base=CIDR,size=N).
    #[arg(long = "default-address-pool")]
    default_address_pools: Vec<String>,
}

/// The network service's settings from flags and daemon.json.
fn network_config(
    flags: &Flags,
    file: &config::FileConfig,
    exec_root: &Path,
) -> anyhow::Result<network::Config> {
    let bridge = flags
        .bridge
        .clone()
        .or(file.bridge.clone())
        .unwrap_or_else(|| "berth0".into());
    let bip = match flags.bip.clone().or(file.bip.clone()) {
        Some(b) => Some(
            b.parse::<ipnet::Ipv4Net>()
                .with_context(|| format!("invalid bip {b}"))?,
        ),
        None => None,
    };
    let mut pools = Vec::new();
    for p in &flags.default_address_pools {
        let mut base = None;
        let mut size = None;
        for kv in p.split(',') {
            match kv.split_once('=') {
                Some(("base", v)) => base = Some(v.to_string()),
                Some(("size", v)) => size = v.parse::<u8>().ok(),
                _ => bail!("invalid default-address-pool {p}"),
            }
        }
        let (Some(base), Some(size)) = (base, size) else {
            bail!("invalid default-address-pool {p}");
        };
        pools.push((base, size));
    }
    for p in file.default_address_pools.iter().flatten() {
        pools.push((p.base.clone(), p.size));
    }
    let pools = if pools.is_empty() {
        network::ipam::default_pools()
    } else {
        pools
            .into_iter()
            .map(|(b, size)| {
                Ok(network::ipam::Pool {
                    base: b
                        .parse()
                        .with_context(|| format!("invalid address pool {b}"))?,
                    size,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?
    };
    let dns = if flags.dns.is_empty() {
        file.dns.clone().unwrap_or_default()
    } else {
        flags.dns.clone()
    };
    let dns = dns
        .iter()
        .map(|d| d.parse().with_context(|| format!("invalid dns server {d}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ip_forward = flags.ip_forward.or(file.ip_forward).unwrap_or(true);
    let table = if bridge == "berth0" {
        "berth".to_string()
    } else {
        format!(
            "berth_{}",
            bridge.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
        )
    };
    if ip_forward {
        std::fs::write("/proc/sys/net/ipv4/ip_forward", "1").context("enable IPv4 forwarding")?;
    }
    Ok(network::Config {
        exec_root: exec_root.to_path_buf(),
        bridge,
        bip,
        pools,
        firewall: network::firewall::Settings {
            enabled: flags.iptables.or(file.iptables).unwrap_or(true),
            table,
            ip_forward,
            ip_masq: flags.ip_masq.or(file.ip_masq).unwrap_or(true),
        },
        dns,
        dns_search: if flags.dns_search.is_empty() {
            file.dns_search.clone().unwrap_or_default()
        } else {
            flags.dns_search.clone()
        },
        dns_options: if flags.dns_opts.is_empty() {
            file.dns_opts.clone().unwrap_or_default()
        } else {
            flags.dns_opts.clone()
        },
        dns_forward: file.dns_forward.unwrap_or(true),
        icc: flags.icc.or(file.icc).unwrap_or(true),
        userland_proxy: flags.userland_proxy.or(file.userland_proxy).unwrap_or(true),
    })
}

fn sibling(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(name)))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

fn write_pidfile(path: &Path) -> anyhow::Result<()> {
    if let Ok(old) = std::fs::read_to_string(path) {
        if let Ok(pid) = old.trim().parse::<i32>() {
            if pid > 0 && pid != std::process::id() as i32 && is_live_daemon(pid) {
                bail!(
                    "pid file found, ensure berthd is not running or delete {}",
                    path.display()
                );
            }
        }
    }
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(path, std::process::id().to_string())
        .with_context(|| format!("write {}", path.display()))
}

/// Whether `pid` is a live process of the same program as this one. A pid
/// file left by a killed daemon may name a zombie not yet reaped, or by now
/// an unrelated process that reused the pid: neither holds the data root.
fn is_live_daemon(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) state ...": comm may hold spaces and parentheses.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let comm = &stat[open + 1..close];
    let state = stat[close + 1..].split_whitespace().next().unwrap_or("");
    let ours = std::fs::read_to_string("/proc/self/comm").unwrap_or_default();
    !matches!(state, "Z" | "X") && comm == ours.trim_end()
}

fn main() {
    if let Err(e) = run() {
        eprintln!("berthd: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let flags = Flags::parse();
    let file = match std::fs::read_to_string(&flags.config_file) {
        Ok(text) => config::parse_file(&flags.config_file, &text).map_err(anyhow::Error::msg)?,
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && flags.config_file == "/etc/berth/daemon.json" =>
        {
            Default::default()
        }
        Err(e) => bail!(
            "unable to configure the daemon with file {}: {e}",
            flags.config_file
        ),
    };
    config::conflicts(&[
        ("group", flags.group.is_some(), file.group.is_some()),
        ("tls", flags.tls.is_some(), file.tls.is_some()),
        (
            "tlsverify",
            flags.tlsverify.is_some(),
            file.tlsverify.is_some(),
        ),
        (
            "tlscacert",
            flags.tlscacert.is_some(),
            file.tlscacert.is_some(),
        ),
        ("tlscert", flags.tlscert.is_some(), file.tlscert.is_some()),
        ("tlskey", flags.tlskey.is_some(), file.tlskey.is_some()),
        ("bridge", flags.bridge.is_some(), file.bridge.is_some()),
        ("bip", flags.bip.is_some(), file.bip.is_some()),
        (
            "iptables",
            flags.iptables.is_some(),
            file.iptables.is_some(),
        ),
        (
            "ip-forward",
            flags.ip_forward.is_some(),
            file.ip_forward.is_some(),
        ),
        ("ip-masq", flags.ip_masq.is_some(), file.ip_masq.is_some()),
        ("icc", flags.icc.is_some(), file.icc.is_some()),
        ("dns", !flags.dns.is_empty(), file.dns.is_some()),
        (
            "userland-proxy",
            flags.userland_proxy.is_some(),
            file.userland_proxy.is_some(),
        ),
        (
            "data-root",
            flags.data_root.is_some(),
            file.data_root.is_some(),
        ),
        (
            "exec-root",
            flags.exec_root.is_some(),
            file.exec_root.is_some(),
        ),
        ("hosts", !flags.hosts.is_empty(), file.hosts.is_some()),
        ("pidfile", flags.pidfile.is_some(), file.pidfile.is_some()),
        (
            "log-level",
            flags.log_level.is_some(),
            file.log_level.is_some(),
        ),
        (
            "default-runtime",
            flags.default_runtime.is_some(),
            file.default_runtime.is_some(),
        ),
        (
            "cgroup-parent",
            flags.cgroup_parent.is_some(),
            file.cgroup_parent.is_some(),
        ),
        (
            "seccomp-profile",
            flags.seccomp_profile.is_some(),
            file.seccomp_profile.is_some(),
        ),
        (
            "insecure-registries",
            !flags.insecure_registries.is_empty(),
            file.insecure_registries.is_some(),
        ),
        (
            "registry-mirrors",
            !flags.registry_mirrors.is_empty(),
            file.registry_mirrors.is_some(),
        ),
    ])
    .map_err(anyhow::Error::msg)?;

    let debug = flags.debug || file.debug.unwrap_or(false);
    let level = flags
        .log_level
        .clone()
        .or(file.log_level.clone())
        .unwrap_or_else(|| if debug { "debug".into() } else { "info".into() });
    let level = if level == "fatal" {
        "error".to_string()
    } else {
        level
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&level).context("invalid log level")?,
        )
        .with_writer(std::io::stderr)
        .init();

    let net_exec_root: PathBuf = flags
        .exec_root
        .clone()
        .or(file.exec_root.clone())
        .unwrap_or_else(|| "/run/berth".into());
    // What can fail is checked before anything changes on the host
    // (forwarding, binfmt_misc, the firewall).
    let data_root = flags
        .data_root
        .clone()
        .or(file.data_root.clone())
        .unwrap_or_else(|| "/var/lib/berth".into());
    let exec_root = flags
        .exec_root
        .clone()
        .or(file.exec_root.clone())
        .unwrap_or_else(|| "/run/berth".into());
    let hosts = if !flags.hosts.is_empty() {
        flags.hosts.clone()
    } else {
        file.hosts.clone().unwrap_or_default()
    };
    let hosts = if hosts.is_empty() {
        vec![format!("unix://{}", exec_root.join("berth.sock").display())]
    } else {
        hosts
    };
    let listeners = hosts
        .iter()
        .map(|h| api_server::Listen::parse(h))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let socket_gid = socket_group(flags.group.as_deref().or(file.group.as_deref()))
        .map_err(anyhow::Error::msg)?;
    let tls = tls_settings(
        TlsOpts {
            verify: flags.tlsverify.or(file.tlsverify),
            tls: flags.tls.or(file.tls),
            ca: flags.tlscacert.clone().or(file.tlscacert.clone()),
            cert: flags.tlscert.clone().or(file.tlscert.clone()),
            key: flags.tlskey.clone().or(file.tlskey.clone()),
        },
        &listeners,
    )
    .map_err(anyhow::Error::msg)?;
    let net = network_config(&flags, &file, &std::path::absolute(&net_exec_root)?)?;
    let pidfile = flags
        .pidfile
        .or(file.pidfile)
        .unwrap_or_else(|| exec_root.join("berthd.pid"));

    let mut runtimes = vec![("berth-runtime".to_string(), sibling("berth-runtime"))];
    if let Some(runc) = which("runc") {
        runtimes.push(("runc".into(), runc));
    }
    for (name, rt) in file.runtimes.unwrap_or_default() {
        runtimes.retain(|(n, _)| *n != name);
        runtimes.push((name, rt.path));
    }
    let default_runtime = flags
        .default_runtime
        .or(file.default_runtime)
        .unwrap_or_else(|| "berth-runtime".into());
    if !runtimes.iter().any(|(n, _)| *n == default_runtime) {
        bail!("default runtime {default_runtime} is not configured");
    }
    if file.log_driver.is_some() || file.log_opts.is_some() {
        let lc = serde_json::json!({
            "Type": file.log_driver.clone().unwrap_or_default(),
            "Config": file.log_opts.clone().unwrap_or_default(),
        });
        if let Err(e) = engine::logs::LogSettings::of(Some(&lc)) {
            bail!("invalid log configuration in daemon.json: {}", e.message);
        }
    }
    // dockerd reads the file at start; berth also decodes it then.
    let seccomp = engine::seccomp::DaemonProfile::from_setting(
        flags
            .seccomp_profile
            .as_deref()
            .or(file.seccomp_profile.as_deref())
            .unwrap_or(""),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let cfg = engine::Config {
        data_root: std::path::absolute(&data_root)?,
        exec_root: std::path::absolute(&exec_root)?,
        default_runtime,
        runtimes,
        shim: sibling("berth-shim"),
        cgroup_parent: flags
            .cgroup_parent
            .or(file.cgroup_parent)
            .unwrap_or_else(|| "/berth".into()),
        registry: distribution::Config {
            insecure_registries: if flags.insecure_registries.is_empty() {
                file.insecure_registries.unwrap_or_default()
            } else {
                flags.insecure_registries
            },
            registry_mirrors: if flags.registry_mirrors.is_empty() {
                file.registry_mirrors.unwrap_or_default()
            } else {
                flags.registry_mirrors
            },
            ..Default::default()
        },
        network: net,
        init_path: file.init_path.clone().or_else(|| {
            ["docker-init", "tini-static"].iter().find_map(|n| {
                std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                    .map(|d| d.join(n))
                    .find(|p| p.is_file())
            })
        }),
        init_default: file.init.unwrap_or(false),
        emulation: file.emulation.unwrap_or(true),
        seccomp,
        default_log: (file.log_driver.is_some() || file.log_opts.is_some()).then(|| {
            serde_json::json!({
                "Type": file.log_driver.clone().unwrap_or_else(|| "json-file".into()),
                "Config": file.log_opts.clone().unwrap_or_default(),
            })
        }),
    };

    write_pidfile(&pidfile)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(async move {
        let engine = Arc::new(engine::Engine::new(cfg).await.map_err(|e| anyhow::anyhow!("{e}"))?);
        tracing::info!(version = env!("CARGO_PKG_VERSION"), "berthd started");
        let server = api_server::serve(
            engine,
            listeners.clone(),
            api_server::ServeOptions { socket_gid, tls },
        );
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = server => r.context("serve API")?,
            _ = term.recv() => tracing::info!("SIGTERM: shutting down (containers keep running)"),
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down (containers keep running)"),
        }
        for l in &listeners {
            if let api_server::Listen::Unix(p) = l {
                let _ = std::fs::remove_file(p);
            }
        }
        anyhow::Ok(())
    });
    let _ = std::fs::remove_file(&pidfile);
    // Don't wait for lingering connection tasks (e.g. followers of logs).
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    result
}

/// The group that owns the unix sockets, as dockerd's `-G`: the one named
/// (or its number), else `docker` when the host has it (else root's).
fn socket_group(name: Option<&str>) -> Result<Option<u32>, String> {
    let lookup = |g: &str| -> Option<u32> {
        if let Ok(n) = g.parse::<u32>() {
            return Some(n);
        }
        nix::unistd::Group::from_name(g)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw())
    };
    match name {
        None => Ok(lookup("docker")),
        Some("") => Ok(None),
        Some(g) => lookup(g)
            .map(Some)
            .ok_or_else(|| format!("can't create unix socket: group {g} not found")),
    }
}

/// `--tls`/`--tlsverify` and their certificates (flags, else daemon.json,
/// else `$DOCKER_CERT_PATH` or `~/.docker`, as dockerd). A TCP listener on
/// an address that is not loopback needs TLS unless the operator says
/// `--tls=false` explicitly: then it is served with dockerd's warning.
struct TlsOpts {
    verify: Option<bool>,
    tls: Option<bool>,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

fn tls_settings(
    o: TlsOpts,
    listeners: &[api_server::Listen],
) -> Result<Option<std::sync::Arc<rustls::ServerConfig>>, String> {
    let verify = o.verify.unwrap_or(false);
    let tls_explicit = o.tls;
    let on = verify || tls_explicit == Some(true);
    let tcp: Vec<std::net::SocketAddr> = listeners
        .iter()
        .filter_map(|l| match l {
            api_server::Listen::Tcp(a) => Some(*a),
            _ => None,
        })
        .collect();
    if !on {
        for a in tcp.iter().filter(|a| !a.ip().is_loopback()) {
            if tls_explicit == Some(false) {
                tracing::warn!(host = %format!("tcp://{a}"), "Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.");
            } else {
                return Err(format!(
                    "refusing to listen on tcp://{a} without TLS: binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network; use --tlsverify (with --tlscacert, --tlscert, --tlskey), or --tls=false to listen without TLS anyway"
                ));
            }
        }
        return Ok(None);
    }
    if tcp.is_empty() {
        return Ok(None);
    }
    let dir = std::env::var_os("DOCKER_CERT_PATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()))
                .join(".docker")
        });
    let pick = |given: Option<PathBuf>, name: &str| given.unwrap_or_else(|| dir.join(name));
    let settings = api_server::tls::TlsSettings {
        cert: pick(o.cert, "cert.pem"),
        key: pick(o.key, "key.pem"),
        client_ca: verify.then(|| pick(o.ca, "ca.pem")),
    };
    api_server::tls::server_config(&settings)
        .map(Some)
        .map_err(|e| format!("could not load X509 key pair: {e}"))
}

#[cfg(test)]
mod tests {
    use super::is_live_daemon;
    use std::process::{Command, Stdio};

    fn wait_zombie(pid: u32) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z")
        {
            assert!(std::time::Instant::now() < deadline, "child never exited");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn only_a_live_process_of_this_program_holds_the_pidfile() {
        assert!(is_live_daemon(std::process::id() as i32));
        assert!(!is_live_daemon(i32::MAX));
        // Another program.
        let mut other = Command::new("sleep").arg("30").spawn().unwrap();
        assert!(!is_live_daemon(other.id() as i32));
        other.kill().unwrap();
        other.wait().unwrap();
        // This very program, exited but not yet reaped (a zombie).
        let mut same = Command::new(std::env::current_exe().unwrap())
            .arg("--list")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        wait_zombie(same.id());
        assert!(!is_live_daemon(same.id() as i32));
        same.wait().unwrap();
    }
}
