//! berth-registry: `serve` an OCI registry, or `gc` its storage.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use registry::Config;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "berth-registry",
    version,
    about = "An OCI Distribution Spec registry"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the registry API.
    Serve {
        /// Listen address (port 0 picks a free port; the address is printed).
        #[arg(long)]
        addr: Option<SocketAddr>,
        /// Storage root (filesystem driver).
        #[arg(long)]
        root: Option<PathBuf>,
        /// TOML configuration file (auth, TLS, storage options).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Remove blobs that no manifest references (stop the registry first).
    Gc {
        #[arg(long)]
        root: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
        /// Report what would be removed, remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

fn load(config: Option<PathBuf>, root: Option<PathBuf>) -> anyhow::Result<Config> {
    let mut cfg = match config {
        Some(p) => Config::load(&p)?,
        None => Config::default(),
    };
    if let Some(r) = root {
        cfg.storage.root = r;
    }
    Ok(cfg)
}

fn init_logging(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&cfg.log.level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Takes the storage root's lock: one server at a time, and no gc while it runs.
fn lock_root(cfg: &Config) -> anyhow::Result<Option<nix::fcntl::Flock<std::fs::File>>> {
    if cfg.storage.driver != "filesystem" {
        return Ok(None);
    }
    std::fs::create_dir_all(&cfg.storage.root)
        .with_context(|| format!("creating {}", cfg.storage.root.display()))?;
    let path = cfg.storage.root.join(".lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match nix::fcntl::Flock::lock(f, nix::fcntl::FlockArg::LockExclusiveNonblock) {
        Ok(l) => Ok(Some(l)),
        Err((_, e)) => bail!(
            "{} is in use by another berth-registry ({e}); stop it first",
            cfg.storage.root.display()
        ),
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
    tracing::info!("shutting down");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Serve { addr, root, config } => {
            let mut cfg = load(config, root)?;
            if let Some(a) = addr {
                cfg.http.addr = a;
            }
            init_logging(&cfg);
            let _lock = lock_root(&cfg)?;
            let server = registry::Server::new(&cfg).await?;
            let listener = tokio::net::TcpListener::bind(cfg.http.addr)
                .await
                .with_context(|| format!("binding {}", cfg.http.addr))?;
            let local = listener.local_addr()?;
            tracing::info!(
                addr = %local,
                root = %cfg.storage.root.display(),
                driver = %cfg.storage.driver,
                tls = cfg.http.tls.is_some(),
                "berth-registry listening"
            );
            // The first stdout line tells scripts where we listen.
            println!("berth-registry listening on {local}");
            server.run(listener, shutdown_signal()).await?;
        }
        Cmd::Gc {
            root,
            config,
            dry_run,
        } => {
            let cfg = load(config, root)?;
            init_logging(&cfg);
            if cfg.storage.driver != "filesystem" {
                bail!("gc needs the filesystem driver");
            }
            let _lock = lock_root(&cfg)?;
            let reg = registry::open_registry(&cfg).await?;
            let r = registry::gc::collect(&reg, dry_run).await?;
            let verb = if dry_run { "would remove" } else { "removed" };
            for (d, size) in &r.blobs_removed {
                println!("{verb} {d} ({size} bytes)");
            }
            println!(
                "{} repositories, {} manifests, {} blobs kept; {verb} {} blobs ({} bytes) and {} links",
                r.repositories,
                r.manifests,
                r.blobs_kept,
                r.blobs_removed.len(),
                r.bytes_freed(),
                r.links_removed
            );
        }
    }
    Ok(())
}
