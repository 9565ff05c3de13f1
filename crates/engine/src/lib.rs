//! The engine: the services that own berthd's behaviour (images, containers,
//! system), built over the stores and the shim. The API server calls one
//! engine method per request.
//!
//! **Architecture Invariant:** nothing here knows HTTP. Streams to clients
//! are plain async readers/writers handed in by the API layer.

#![recursion_limit = "256"]

pub mod build;
pub mod changes;
pub mod containers;
pub mod emulation;
pub mod events;
pub mod images;
pub mod imagetar;
pub mod kernel_opts;
pub mod logs;
pub mod networks;
pub mod seccomp;
pub mod shim_client;
pub mod signal;
pub mod spec;
pub mod system;
pub mod transfer;
pub mod user;
pub mod volumes;

use base::error::IoContext;
use base::Result;
use std::path::PathBuf;
use std::sync::Arc;

/// A blocking `Write` that sends its bytes into an async channel, for
/// streaming archives produced on a blocking thread.
pub struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<bytes::Bytes>,
}

impl ChannelWriter {
    pub fn new(tx: tokio::sync::mpsc::Sender<bytes::Bytes>) -> ChannelWriter {
        ChannelWriter { tx }
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tx
            .blocking_send(bytes::Bytes::copy_from_slice(buf))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes the tree at `root` as a tar stream (names relative to `root`,
/// symlinks kept as links, never followed).
pub fn export_tree(root: &std::path::Path, out: impl std::io::Write) -> std::io::Result<()> {
    let mut b = tar::Builder::new(std::io::BufWriter::with_capacity(256 * 1024, out));
    archive::append_tree(&mut b, root, std::path::Path::new(""))?;
    std::io::Write::flush(&mut b.into_inner()?)
}

/// Engine configuration, from daemon.json and flags.
#[derive(Debug, Clone)]
pub struct Config {
    /// Persistent state: database, content, snapshots, container dirs.
    pub data_root: PathBuf,
    /// Runtime state: shim sockets, runtime state, bundles.
    pub exec_root: PathBuf,
    /// The runtime used when a container names none.
    pub default_runtime: String,
    /// Runtime name → executable path.
    pub runtimes: Vec<(String, PathBuf)>,
    /// The `berth-shim` executable.
    pub shim: PathBuf,
    /// Parent of container cgroups (cgroupsPath is `<parent>/<id>`).
    pub cgroup_parent: String,
    /// Registry client settings (`insecure-registries`, `registry-mirrors`, certs.d).
    pub registry: distribution::Config,
    /// Networking: default bridge, address pools, firewall, DNS.
    pub network: network::Config,
    /// The init of `--init` (`init-path`; else `docker-init` or
    /// `tini-static` from PATH), mounted at `/sbin/docker-init`.
    pub init_path: Option<PathBuf>,
    /// daemon.json `init`: every container gets the init unless it says no.
    pub init_default: bool,
    /// daemon.json `log-driver` and `log-opts`, as a `LogConfig`.
    pub default_log: Option<serde_json::Value>,
    /// daemon.json `emulation`: register QEMU's interpreters (emulation.rs).
    pub emulation: bool,
    /// daemon.json `seccomp-profile` (`--seccomp-profile`): the profile of
    /// containers that name none.
    pub seccomp: seccomp::DaemonProfile,
}

/// All services, built in plain order by [`Engine::new`].
pub struct Engine {
    pub images: Arc<images::ImageService>,
    pub containers: Arc<containers::ContainerService>,
    pub networks: Arc<network::NetworkService>,
    pub volumes: Arc<volume::VolumeService>,
    pub system: system::SystemService,
    /// The metadata database (the build cache's keys).
    meta: Arc<store::metadata::Metadata>,
    /// Where build contexts are unpacked (`<data-root>/tmp`).
    tmp: PathBuf,
}

impl Engine {
    /// Opens the stores under the data root and builds the services.
    pub async fn new(config: Config) -> Result<Engine> {
        std::fs::create_dir_all(&config.data_root)
            .ctx(format!("create {}", config.data_root.display()))?;
        std::fs::create_dir_all(&config.exec_root)
            .ctx(format!("create {}", config.exec_root.display()))?;
        // Before any container starts (a restart policy's included).
        let platforms = emulation::setup(config.emulation);
        if !platforms.is_empty() {
            tracing::info!(platforms = %platforms.join(","), "emulating other architectures");
        }
        let meta = Arc::new(store::metadata::Metadata::open(
            &config.data_root.join("metadata.db"),
        )?);
        let content = Arc::new(store::content::ContentStore::open(
            &config.data_root.join("content"),
        )?);
        let snaps: Arc<dyn store::snapshot::Snapshotter> = Arc::new(
            store::snapshot::Overlay::open(&config.data_root.join("snapshots"))?,
        );
        let registry =
            distribution::Client::new(config.registry.clone()).map_err(base::Error::from)?;
        let images = Arc::new(images::ImageService::new(
            registry,
            config.data_root.join("tmp"),
            meta.clone(),
            content,
            snaps.clone(),
        ));
        let net_cfg = config.network.clone();
        let net_meta = meta.clone();
        let networks =
            tokio::task::spawn_blocking(move || network::NetworkService::open(net_cfg, net_meta))
                .await
                .map_err(|e| base::Error::internal(format!("network service: {e}")))??;
        let build_meta = meta.clone();
        let tmp = config.data_root.join("tmp");
        let volumes = Arc::new(volume::VolumeService::open(
            meta.clone(),
            Arc::new(volume::driver::Local::new(
                &config.data_root.join("volumes"),
            )?),
        )?);
        let containers = containers::ContainerService::new(
            config.clone(),
            meta,
            snaps,
            images.clone(),
            networks.clone(),
            volumes.clone(),
        )
        .await?;
        let system =
            system::SystemService::new(config, images.clone(), containers.clone(), volumes.clone());
        Ok(Engine {
            images,
            containers,
            networks,
            volumes,
            system,
            meta: build_meta,
            tmp,
        })
    }
}
