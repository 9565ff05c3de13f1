//! The container service: create, start, stop, kill, wait, remove, list,
//! inspect, logs, attach and exec. Each running container is supervised by
//! its own shim process; this service only talks to shims.

mod commit;
mod copy;
pub mod detach;
mod freeze;
mod health;
mod inspect_fs;
mod mounts;
mod net;
pub mod options;
mod restart;
#[cfg(test)]
mod spec_fields;
mod update;
pub use mounts::MountSpec;
pub mod stats;
pub use commit::CommitOptions;
pub use copy::{CopyLease, LeaseView, PutOptions, TarStream};
pub use inspect_fs::{Change, Top};
pub use shim::archive::PathStat;

use crate::shim_client::{self, read_frame, write_frame, ShimConn, ShimStart};
use crate::{images::ImageService, Config};
use api_types::{
    ContainerConfig, ContainerCreateRequest, ContainerSummary, ExecConfig, HostConfig, IdResponse,
};
use base::error::IoContext;
use base::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use shim::proto::{ExitRecord, Request, EXIT_FILE};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use store::metadata::{Metadata, Table};
use store::snapshot::{self, Snapshotter};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

/// Docker's `filters` query parameter, decoded.
pub type Filters = BTreeMap<String, Vec<String>>;

pub use base::filters::labels_match;

const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// How dockerd's start errors from the network begin.
const NET_FAILURE: &str = "failed to set up container networking";

/// The host config as inspect shows it, as dockerd's: every field of its
/// HostConfig (Go's zero values for those the client left out; the
/// `omitempty` ones — Annotations, Mounts, Tmpfs, Sysctls, StorageOpt,
/// Init, KernelMemoryTCP — only when set), what the client set, and the
/// defaults resolved at create (IPC mode, /dev/shm size, cgroup namespace,
/// system paths). Clients read these: compose compares `PidMode`,
/// docker-py reads `LogConfig.Type`.
fn host_config_view(h: &HostConfig) -> Value {
    let mut v = host_config_zero();
    let Value::Object(out) = &mut v else {
        unreachable!()
    };
    if let Value::Object(set) = serde_json::to_value(h).unwrap_or_default() {
        for (k, x) in set {
            // A Go struct or array field is never null.
            if x.is_null() && out.get(&k).is_some_and(|z| !z.is_null()) {
                continue;
            }
            out.insert(k, x);
        }
    }
    let unset = |x: Option<&Value>| x.is_none_or(|x| x.as_str() == Some("") || x == 0);
    if unset(out.get("IpcMode")) {
        out.insert("IpcMode".into(), "private".into());
    }
    if unset(out.get("CgroupnsMode")) {
        // berth keeps containers in the host's cgroup namespace unless
        // asked (dockerd's default on cgroup v1).
        out.insert("CgroupnsMode".into(), "host".into());
    }
    if unset(out.get("ShmSize")) {
        out.insert("ShmSize".into(), json!(crate::spec::DEFAULT_SHM_SIZE));
    }
    let (masked, readonly) = crate::spec::system_paths(h);
    out.insert("MaskedPaths".into(), json!(masked));
    out.insert("ReadonlyPaths".into(), json!(readonly));
    v
}

/// dockerd's HostConfig with Go's zero values, in its order.
fn host_config_zero() -> Value {
    json!({
        "Binds": null, "ContainerIDFile": "",
        "LogConfig": {"Type": "json-file", "Config": {}},
        "NetworkMode": "", "PortBindings": null,
        "RestartPolicy": {"Name": "", "MaximumRetryCount": 0},
        "AutoRemove": false, "VolumeDriver": "", "VolumesFrom": null,
        "ConsoleSize": [0, 0], "CapAdd": null, "CapDrop": null, "CgroupnsMode": "",
        "Dns": null, "DnsOptions": null, "DnsSearch": null, "ExtraHosts": null,
        "GroupAdd": null, "IpcMode": "", "Cgroup": "", "Links": null, "OomScoreAdj": 0,
        "PidMode": "", "Privileged": false, "PublishAllPorts": false,
        "ReadonlyRootfs": false, "SecurityOpt": null, "UTSMode": "", "UsernsMode": "",
        "ShmSize": 0, "Runtime": "", "Isolation": "",
        "CpuShares": 0, "Memory": 0, "NanoCpus": 0, "CgroupParent": "",
        "BlkioWeight": 0, "BlkioWeightDevice": null, "BlkioDeviceReadBps": null,
        "BlkioDeviceWriteBps": null, "BlkioDeviceReadIOps": null,
        "BlkioDeviceWriteIOps": null, "CpuPeriod": 0, "CpuQuota": 0,
        "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0, "CpusetCpus": "",
        "CpusetMems": "", "Devices": null, "DeviceCgroupRules": null,
        "DeviceRequests": null, "MemoryReservation": 0, "MemorySwap": 0,
        "MemorySwappiness": null, "OomKillDisable": false, "PidsLimit": null,
        "Ulimits": null, "CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0,
        "IOMaximumBandwidth": 0, "MaskedPaths": null, "ReadonlyPaths": null
    })
}

/// A prune `until`: a timestamp (unix seconds or RFC 3339) or a Go duration
/// before now (`24h`, `1h30m`, `90s`). Unix seconds.
pub fn parse_until(s: &str) -> Option<f64> {
    if let Some(t) = crate::logs::parse_time(s) {
        return Some(t);
    }
    let mut secs = 0f64;
    let mut num = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        num.clear();
        num.push_str(&rest[..digits]);
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        secs += num.parse::<f64>().ok()? * mult;
        rest = &rest[unit_len..];
    }
    let now = chrono::Utc::now();
    Some(now.timestamp() as f64 + now.timestamp_subsec_nanos() as f64 / 1e9 - secs)
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// The persisted state of a container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StateRecord {
    pub status: String,
    pub pid: i64,
    pub exit_code: i64,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    #[serde(default)]
    pub oom_killed: bool,
}

/// What the database keeps per container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    pub name: String,
    pub created: String,
    pub image_id: String,
    pub path: String,
    pub args: Vec<String>,
    pub config: ContainerConfig,
    pub host_config: HostConfig,
    pub state: StateRecord,
    #[serde(default)]
    pub restart_count: i64,
    /// Stopped by `docker stop` or `kill` (not started since): restart
    /// policies leave it stopped, across daemon restarts too.
    #[serde(default)]
    pub manually_stopped: bool,
    /// The health check's state, when the container has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<api_types::Health>,
    /// The runtime spec of the last start, used by exec.
    #[serde(default)]
    pub spec: Option<Value>,
    /// Bridge networks the container is on (name → the endpoint settings
    /// asked for); the first is its `NetworkMode`.
    #[serde(default)]
    pub networks: BTreeMap<String, api_types::network::EndpointSettings>,
    /// Its mounts (binds, volumes, tmpfs), resolved at create.
    #[serde(default)]
    pub mounts: Vec<MountSpec>,
}

/// Lifecycle events that `wait` watches.
#[derive(Debug, Clone, Default)]
struct Life {
    running: bool,
    /// Frozen by `docker pause` (still running).
    paused: bool,
    exits: u64,
    exit_code: i64,
    removed: bool,
}

/// A client stream (an upgraded HTTP connection, in practice).
pub trait ClientStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> ClientStream for T {}

/// A client attached to a container's stdio.
pub struct AttachClient {
    pub io: Box<dyn ClientStream>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// The keys that detach this client from a terminal (None: none).
    pub detach_keys: Option<Vec<u8>>,
}

struct Handle {
    rec: Mutex<ContainerRecord>,
    life: watch::Sender<Life>,
    pending: Mutex<Vec<AttachClient>>,
    /// Serializes start, stop, remove and export.
    op: Arc<tokio::sync::Mutex<()>>,
    /// The restart policy's back-off and its cancellation.
    restart: Mutex<RestartState>,
}

#[derive(Default)]
struct RestartState {
    /// The last back-off (None before the first restart).
    delay: Option<Duration>,
    /// Bumped to cancel a pending restart.
    gen: u64,
}

impl Handle {
    fn id(&self) -> String {
        self.rec.lock().unwrap().id.clone()
    }
    fn running(&self) -> bool {
        self.life.borrow().running
    }
}

struct Exec {
    id: String,
    container_id: String,
    config: ExecConfig,
    state: Mutex<ExecState>,
}

#[derive(Default)]
struct ExecState {
    running: bool,
    started: bool,
    exit_code: Option<i64>,
    pid: i64,
    control: Option<tokio::sync::mpsc::UnboundedSender<Vec<u8>>>,
}

pub struct ContainerService {
    cfg: Config,
    meta: Arc<Metadata>,
    snaps: Arc<dyn Snapshotter>,
    images: Arc<ImageService>,
    networks: Arc<network::NetworkService>,
    volumes: Arc<volume::VolumeService>,
    by_id: RwLock<HashMap<String, Arc<Handle>>>,
    execs: Mutex<HashMap<String, Arc<Exec>>>,
    create_lock: Mutex<()>,
}

/// Go's units.HumanDuration, as `docker ps` shows ages.
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    let (m, h) = (s / 60, (s as f64 / 3600.0).round() as i64);
    match () {
        _ if s < 1 => "Less than a second".into(),
        _ if s == 1 => "1 second".into(),
        _ if s < 60 => format!("{s} seconds"),
        _ if m == 1 => "About a minute".into(),
        _ if m < 60 => format!("{m} minutes"),
        _ if h == 1 => "About an hour".into(),
        _ if h < 48 => format!("{h} hours"),
        _ if h < 24 * 7 * 2 => format!("{} days", h / 24),
        _ if h < 24 * 30 * 2 => format!("{} weeks", h / 24 / 7),
        _ if h < 24 * 365 * 2 => format!("{} months", h / 24 / 30),
        _ => format!("{} years", h / 24 / 365),
    }
}

fn since(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|t| chrono::Utc::now().timestamp() - t.timestamp())
        .unwrap_or(0)
}

const ADJECTIVES: &[&str] = &[
    "admiring",
    "brave",
    "clever",
    "dazzling",
    "eager",
    "focused",
    "gallant",
    "happy",
    "jolly",
    "keen",
    "loving",
    "modest",
    "nifty",
    "optimistic",
    "peaceful",
    "quirky",
    "relaxed",
    "serene",
    "tender",
    "upbeat",
    "vibrant",
    "wizardly",
];
const NAMES: &[&str] = &[
    "albattani",
    "babbage",
    "curie",
    "darwin",
    "euclid",
    "fermi",
    "galileo",
    "hopper",
    "johnson",
    "kepler",
    "lovelace",
    "meitner",
    "newton",
    "noether",
    "pascal",
    "ritchie",
    "shannon",
    "turing",
    "volta",
    "wozniak",
];

fn random_name() -> String {
    let id = base::id::random_id();
    let b = id.as_bytes();
    format!(
        "{}_{}",
        ADJECTIVES[b[0] as usize % ADJECTIVES.len()],
        NAMES[b[1] as usize % NAMES.len()]
    )
}

/// Merges `extra` into `base` env, later keys winning.
fn merge_env(base: &[String], extra: &[String]) -> Vec<String> {
    let mut out: Vec<String> = base.to_vec();
    for e in extra {
        let k = e.split_once('=').map(|x| x.0).unwrap_or(e);
        out.retain(|o| o.split_once('=').map(|x| x.0).unwrap_or(o) != k);
        out.push(e.clone());
    }
    out
}

fn has_env(env: &[String], key: &str) -> bool {
    env.iter()
        .any(|e| e.split_once('=').map(|x| x.0) == Some(key))
}

impl ContainerService {
    pub async fn new(
        cfg: Config,
        meta: Arc<Metadata>,
        snaps: Arc<dyn Snapshotter>,
        images: Arc<ImageService>,
        networks: Arc<network::NetworkService>,
        volumes: Arc<volume::VolumeService>,
    ) -> Result<Arc<Self>> {
        // One directory per container under each of these, made and removed
        // with it: spread over the filesystem (see `store::dirs`).
        for d in [
            cfg.data_root.join("containers"),
            cfg.exec_root.join("containers"),
            cfg.exec_root.join("s"),
        ] {
            store::dirs::create_spread(&d).ctx(format!("create {}", d.display()))?;
        }
        for (name, _) in &cfg.runtimes {
            // The runtime's state root, private as runc makes it.
            let d = cfg.exec_root.join("runtime").join(name);
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&d)
                .ctx(format!("create {}", d.display()))?;
            store::dirs::spread(&d);
        }
        let svc = Arc::new(ContainerService {
            cfg,
            meta,
            snaps,
            images,
            networks,
            volumes,
            by_id: RwLock::new(HashMap::new()),
            execs: Mutex::new(HashMap::new()),
            create_lock: Mutex::new(()),
        });
        svc.recover().await?;
        Ok(svc)
    }

    fn container_dir(&self, id: &str) -> PathBuf {
        self.cfg.data_root.join("containers").join(id)
    }
    /// The container's cgroup (`<cgroup-parent>/<id>`), in every hierarchy.
    /// The container's cgroup: its `--cgroup-parent` or the daemon's.
    fn cgroups_path(&self, id: &str, host: &HostConfig) -> String {
        let parent = host
            .extra
            .get("CgroupParent")
            .and_then(|p| p.as_str())
            .filter(|p| !p.is_empty())
            .unwrap_or(&self.cfg.cgroup_parent);
        crate::kernel_opts::cgroups_path(parent, id)
    }
    fn cgroups_path_of(&self, h: &Handle) -> String {
        let r = h.rec.lock().unwrap();
        self.cgroups_path(&r.id, &r.host_config)
    }
    fn rootfs(&self, id: &str) -> PathBuf {
        self.container_dir(id).join("rootfs")
    }
    fn bundle(&self, id: &str) -> PathBuf {
        self.cfg.exec_root.join("containers").join(id)
    }
    fn shim_dir(&self, id: &str) -> PathBuf {
        self.cfg.exec_root.join("s").join(&id[..16])
    }
    fn log_path(&self, id: &str) -> PathBuf {
        self.container_dir(id).join(format!("{id}-json.log"))
    }

    /// Persists a container durably (renames, start errors).
    fn save(&self, rec: &ContainerRecord) -> Result<()> {
        self.meta.put(Table::Containers, &rec.id, rec)
    }

    /// Persists a new container with a group commit: durable a moment after
    /// the reply, with one fsync shared by concurrent creates.
    fn save_new(&self, rec: &ContainerRecord) -> Result<()> {
        self.meta
            .update_grouped(|tx| tx.put(Table::Containers, &rec.id, rec))
    }

    /// Persists a state transition without an fsync: `recover` rebuilds
    /// run state from the shims after a crash, so a lost transition is harmless.
    fn save_state(&self, rec: &ContainerRecord) -> Result<()> {
        self.meta
            .update_lazy(|tx| tx.put(Table::Containers, &rec.id, rec))
    }

    /// Re-adopts containers whose shim survived a daemon restart and settles
    /// the state of the others.
    async fn recover(self: &Arc<Self>) -> Result<()> {
        let records = self.meta.list::<ContainerRecord>(Table::Containers)?;
        // Snapshots whose container record is gone (removed just before a
        // crash, files not yet cleaned): remove them now.
        for key in self.snaps.keys() {
            if !records.iter().any(|(id, _)| *id == key) {
                let _ = snapshot::unmount(&self.rootfs(&key));
                let _ = self.snaps.remove(&key);
                let _ = std::fs::remove_dir_all(self.container_dir(&key));
            }
        }
        // Layers of images deleted under their containers: released when
        // the last of those goes, after a restart too (looked for only when
        // a container's image is gone: one metadata lookup each otherwise).
        if records
            .iter()
            .any(|(_, r)| !self.images.has_image(&r.image_id))
        {
            self.images.adopt_deferred_layers()?;
        }
        for (id, mut rec) in records {
            if !self.snaps.upper_dir(&id).exists() {
                // Removed just before a crash; the lazy delete was lost.
                self.meta.delete(Table::Containers, &id)?;
                continue;
            }
            // A start whose lazy commit was lost to a kill -9 left the
            // record at "created" while its shim runs: ask the shim too.
            let was_running = matches!(rec.state.status.as_str(), "running" | "paused")
                || (matches!(rec.state.status.as_str(), "created" | "restarting")
                    && self.shim_dir(&id).exists());
            let mut running = false;
            if was_running {
                if let Ok(mut conn) = ShimConn::connect(&self.shim_dir(&id)).await {
                    let status = conn.call(&Request::State).await.ok().and_then(|r| r.status);
                    match status.as_deref() {
                        Some("running" | "paused") => running = true,
                        // Spawned, never started (the daemon died in between):
                        // the shim ends, with the created init if it has one.
                        Some("created") => {
                            let _ =
                                ShimConn::once(&self.shim_dir(&id), &Request::Kill { signal: 9 })
                                    .await;
                        }
                        _ => {}
                    }
                }
                if !running {
                    self.settle_exit(&mut rec, None);
                    let _ = snapshot::unmount(&self.rootfs(&id));
                    self.save(&rec)?;
                }
            }
            // Paused while the daemon was away (or before it stopped)?
            let paused = running && freeze::is_frozen(&self.cgroups_path(&id, &rec.host_config));
            if running && matches!(rec.state.status.as_str(), "created" | "restarting") {
                // The start itself was lost: take it back from the shim and the bundle.
                let shim_dir = self.shim_dir(&id);
                rec.state.pid = std::fs::read_to_string(shim_dir.join("init.pid"))
                    .ok()
                    .and_then(|p| p.trim().parse().ok())
                    .unwrap_or(0);
                rec.state.started_at = std::fs::metadata(&shim_dir)
                    .and_then(|m| m.modified())
                    .map(|t| {
                        chrono::DateTime::<chrono::Utc>::from(t)
                            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
                    })
                    .unwrap_or_else(|_| now());
                rec.spec = std::fs::read(self.bundle(&id).join("config.json"))
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok());
            }
            if running {
                let status = if paused { "paused" } else { "running" };
                if rec.state.status != status {
                    rec.state.status = status.into();
                    let _ = self.save_state(&rec);
                }
            }
            let h = Arc::new(Handle {
                life: watch::Sender::new(Life {
                    running,
                    paused,
                    exit_code: rec.state.exit_code,
                    ..Default::default()
                }),
                rec: Mutex::new(rec),
                pending: Mutex::new(Vec::new()),
                op: Arc::new(tokio::sync::Mutex::new(())),
                restart: Mutex::new(RestartState::default()),
            });
            self.by_id.write().unwrap().insert(id.clone(), h.clone());
            let mounts = h.rec.lock().unwrap().mounts.clone();
            for m in mounts.iter().filter(|m| m.typ == "volume") {
                self.volumes.reference(&m.source, &id);
                if running {
                    // Its driver mount (if any) outlived the daemon.
                    self.volumes.adopt(&m.source, &id);
                }
            }
            if running {
                let dns = h.rec.lock().unwrap().host_config.dns.clone();
                self.networks.set_dns_servers(&id, &dns);
                if let Ok(mut conn) = ShimConn::connect(&self.shim_dir(&id)).await {
                    if conn.send(&Request::Wait).await.is_ok() {
                        self.clone().monitor(h.clone(), conn);
                        self.start_health(h, false);
                    }
                }
            }
        }
        let running = self.running_ids();
        // Links resolve again once every running container is known.
        for (id, _) in &running {
            let h = self.by_id.read().unwrap().get(id).cloned();
            if let Some(h) = h {
                let rec = h.rec.lock().unwrap().clone();
                if let Ok(links) = self.link_targets(&rec) {
                    self.networks.set_links(id, links);
                }
            }
        }
        let nets = self.networks.clone();
        tokio::task::spawn_blocking(move || nets.recover(&running))
            .await
            .map_err(|e| Error::internal(format!("network recovery: {e}")))??;
        self.start_by_policies();
        Ok(())
    }

    /// Sets the exited state from the shim's exit record (or a lost shim).
    fn settle_exit(&self, rec: &mut ContainerRecord, code: Option<i32>) {
        let record: Option<ExitRecord> = std::fs::read(self.shim_dir(&rec.id).join(EXIT_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let oom = record.as_ref().is_some_and(|r| r.oom_killed);
        let (code, finished) = match (code, record) {
            (Some(c), r) => (c as i64, r.map(|r| r.finished_at).unwrap_or_else(now)),
            (None, Some(r)) => (r.exit_code as i64, r.finished_at),
            (None, None) => (255, now()),
        };
        rec.state.oom_killed = oom;
        rec.state.status = "exited".into();
        rec.state.pid = 0;
        rec.state.exit_code = code;
        rec.state.finished_at = finished;
        let _ = std::fs::remove_dir_all(self.shim_dir(&rec.id));
    }

    fn find(&self, name: &str) -> Result<Arc<Handle>> {
        let map = self.by_id.read().unwrap();
        if let Some(h) = map.get(name) {
            return Ok(h.clone());
        }
        let bare = name.strip_prefix('/').unwrap_or(name);
        if let Some(h) = map.values().find(|h| h.rec.lock().unwrap().name == bare) {
            return Ok(h.clone());
        }
        if base::id::is_hex_prefix(name) {
            let hits: Vec<_> = map
                .iter()
                .filter(|(id, _)| id.starts_with(name))
                .map(|(_, h)| h.clone())
                .collect();
            match hits.len() {
                1 => return Ok(hits[0].clone()),
                n if n > 1 => {
                    return Err(Error::invalid(format!(
                        "multiple IDs found with provided prefix: {name}"
                    )))
                }
                _ => {}
            }
        }
        Err(Error::not_found(format!("No such container: {name}")))
    }

    /// `POST /containers/create`.
    pub fn create(&self, name: Option<&str>, req: ContainerCreateRequest) -> Result<IdResponse> {
        self.create_for(name, req, None)
    }

    /// `POST /containers/create?platform=…`: the image must be of that
    /// platform (dockerd's error otherwise); without one, an image of
    /// another platform than the host's gets dockerd's warning and runs
    /// under emulation.
    pub fn create_for(
        &self,
        name: Option<&str>,
        req: ContainerCreateRequest,
        platform: Option<&str>,
    ) -> Result<IdResponse> {
        let wanted = platform
            .filter(|p| !p.is_empty())
            .map(distribution::Platform::parse)
            .transpose()
            .map_err(|e| Error::invalid(e.to_string()))?;
        let ContainerCreateRequest {
            mut config,
            mut host_config,
            networking_config,
        } = req;
        if config.image.is_empty() {
            return Err(Error::invalid(
                "config cannot be empty in order to create a container",
            ));
        }
        // The daemon's log-driver and log-opts when the request names no driver.
        let named = host_config
            .log_config
            .as_ref()
            .and_then(|c| c.get("Type"))
            .and_then(|t| t.as_str())
            .is_some_and(|t| !t.is_empty());
        if !named {
            // The daemon's default driver, else dockerd's: json-file.
            host_config.log_config = Some(match &self.cfg.default_log {
                Some(d) => d.clone(),
                None => {
                    let mut c = host_config.log_config.take().unwrap_or_default();
                    if !c.is_object() {
                        c = serde_json::json!({});
                    }
                    c["Type"] = "json-file".into();
                    if !c.get("Config").is_some_and(|v| v.is_object()) {
                        c["Config"] = serde_json::json!({});
                    }
                    c
                }
            });
        }
        options::check_create(&config, &host_config)?;
        // The host's UTS namespace has the host's domain name: one asked
        // for could not be applied.
        let host_uts = host_config.network_mode == "host"
            || host_config.extra.get("UTSMode").and_then(|v| v.as_str()) == Some("host");
        if host_uts && !config.domainname.is_empty() {
            return Err(Error::invalid(
                "Conflicting options: --domainname and the host's UTS namespace (--uts host or --network host)",
            ));
        }
        crate::logs::LogSettings::of(host_config.log_config.as_ref())?;
        crate::spec::validate_host_config(&host_config)?;
        let mut warnings =
            crate::kernel_opts::adapt(&mut host_config, crate::kernel_opts::CgroupSupport::host())?;
        restart::policy(&host_config)?;
        let image = self
            .images
            .resolve(&config.image)
            .map_err(|e| match e.kind {
                base::ErrorKind::NotFound => Error::not_found(format!(
                    "No such image: {}",
                    base::Reference::parse_tagged(&config.image)
                        .map(|r| r.familiar())
                        .unwrap_or(config.image.clone())
                )),
                _ => e,
            })?;
        let mut platform_warnings = Vec::new();
        {
            let c = &image.config;
            let have = distribution::Platform::new(&c.os, &c.architecture, c.variant.as_deref())
                .normalize();
            match &wanted {
                Some(w) if w.match_rank(&have).is_none() => {
                    return Err(Error::not_found(format!(
                        "image with reference {} was found but its platform ({have}) does not match the specified platform ({w})",
                        config.image
                    )));
                }
                Some(_) => {}
                None => {
                    let host = distribution::Platform::host();
                    if host.match_rank(&have).is_none() {
                        platform_warnings.push(format!(
                            "The requested image's platform ({have}) does not match the detected host platform ({host}) and no specific platform was requested"
                        ));
                    }
                }
            }
        }
        let img = &image.config.config;
        let entrypoint_overridden = config.entrypoint.is_some();
        // As dockerd: `--entrypoint ""` (sent as `[""]`) clears it.
        if config
            .entrypoint
            .as_ref()
            .is_some_and(|e| e.len() == 1 && e[0].is_empty())
        {
            config.entrypoint = Some(vec![]);
        }
        let entrypoint = config
            .entrypoint
            .clone()
            .or_else(|| img.entrypoint.clone())
            .unwrap_or_default();
        let cmd = match (&config.cmd, entrypoint_overridden) {
            (Some(c), _) => c.clone(),
            (None, true) => vec![],
            (None, false) => img.cmd.clone().unwrap_or_default(),
        };
        let argv: Vec<String> = entrypoint
            .iter()
            .chain(cmd.iter())
            .filter(|_| true)
            .cloned()
            .collect();
        if argv.is_empty() || argv[0].is_empty() {
            return Err(Error::invalid("no command specified"));
        }
        let id = base::id::random_id();
        config.cmd = Some(cmd);
        config.entrypoint = (!entrypoint.is_empty()).then_some(entrypoint);

        config.env = merge_env(&img.env, &config.env);
        if !has_env(&config.env, "PATH") {
            config.env.insert(0, crate::spec::DEFAULT_PATH.to_string());
        }
        if config.working_dir.is_empty() {
            config.working_dir = img.working_dir.clone();
        }
        if config.user.is_empty() {
            config.user = img.user.clone();
        }
        let mut labels = img.labels.clone();
        labels.extend(std::mem::take(&mut config.labels));
        config.labels = labels;
        if config.stop_signal.is_none() {
            config.stop_signal = img.stop_signal.clone();
        }
        // As dockerd merges the image's config: a health check the request
        // does not set (or leaves without a test), and the image's shell.
        let has_test = config
            .extra
            .get("Healthcheck")
            .and_then(|h| h.get("Test"))
            .and_then(|t| t.as_array())
            .is_some_and(|t| !t.is_empty());
        if !has_test {
            if let Some(h) = &img.healthcheck {
                config.extra.insert(
                    "Healthcheck".into(),
                    serde_json::to_value(h).unwrap_or_default(),
                );
            }
        }
        if !config.extra.contains_key("Shell") {
            if let Some(sh) = &img.shell {
                config.extra.insert("Shell".into(), serde_json::json!(sh));
            }
        }
        let (networks, net_warnings) = self.prepare_network(
            &mut config,
            &mut host_config,
            networking_config
                .map(|n| n.endpoints_config)
                .unwrap_or_default(),
        )?;
        warnings.extend(net_warnings);
        warnings.extend(platform_warnings);
        if config.hostname.is_empty() {
            config.hostname = if host_config.network_mode == "host" {
                nix::unistd::gethostname()
                    .map(|h| h.to_string_lossy().into_owned())
                    .unwrap_or_default()
            } else {
                id[..12].to_string()
            };
        }
        if let Some(img_ports) = &img.exposed_ports {
            let ports = config.exposed_ports.get_or_insert_with(Default::default);
            for (k, v) in img_ports {
                ports.entry(k.clone()).or_insert(v.clone());
            }
        }
        if let Some(bound) = &host_config.port_bindings {
            let ports = config.exposed_ports.get_or_insert_with(Default::default);
            for k in bound.keys() {
                ports.entry(k.clone()).or_insert(json!({}));
            }
        }
        if host_config.runtime.is_empty() {
            host_config.runtime = self.cfg.default_runtime.clone();
        }
        if !self
            .cfg
            .runtimes
            .iter()
            .any(|(n, _)| *n == host_config.runtime)
        {
            return Err(Error::invalid(format!(
                "unknown or invalid runtime name: {}",
                host_config.runtime
            )));
        }

        let _g = self.create_lock.lock().unwrap();
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => {
                let bare = n.strip_prefix('/').unwrap_or(n);
                if !base::id::valid_name(bare) {
                    return Err(Error::invalid(format!(
                        "Invalid container name ({n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                    )));
                }
                if let Some(other) = self
                    .by_id
                    .read()
                    .unwrap()
                    .values()
                    .find(|h| h.rec.lock().unwrap().name == bare)
                {
                    return Err(Error::conflict(format!(
                        "Conflict. The container name \"/{bare}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                        other.id()
                    )));
                }
                bare.to_string()
            }
            None => loop {
                let n = random_name();
                if !self
                    .by_id
                    .read()
                    .unwrap()
                    .values()
                    .any(|h| h.rec.lock().unwrap().name == n)
                {
                    break n;
                }
            },
        };
        let parent = image
            .record
            .top_layer
            .as_deref()
            .map(base::Digest::parse)
            .transpose()?;
        let mounts = self.prepare_mounts(&id, &config, &host_config, img.volumes.as_ref())?;
        let undo_mounts = |mounts: Vec<MountSpec>| self.remove_mounts(&id, &mounts, true);
        if let Err(e) = self.snaps.prepare(&id, parent.as_ref()) {
            undo_mounts(mounts);
            return Err(e);
        }
        if let Err(e) = std::fs::create_dir_all(self.container_dir(&id)).ctx("create container dir")
        {
            let _ = self.snaps.remove(&id);
            undo_mounts(mounts);
            return Err(e);
        }
        let rec = ContainerRecord {
            id: id.clone(),
            name,
            created: now(),
            image_id: image.record.id.clone(),
            path: argv[0].clone(),
            args: argv[1..].to_vec(),
            config,
            host_config,
            state: StateRecord {
                status: "created".into(),
                pid: 0,
                exit_code: 0,
                error: String::new(),
                started_at: ZERO_TIME.into(),
                finished_at: ZERO_TIME.into(),
                oom_killed: false,
            },
            restart_count: 0,
            manually_stopped: false,
            health: None,
            spec: None,
            networks,
            mounts,
        };
        if let Err(e) = self.save_new(&rec) {
            let _ = self.snaps.remove(&id);
            let _ = std::fs::remove_dir_all(self.container_dir(&id));
            self.remove_mounts(&id, &rec.mounts, true);
            return Err(e);
        }
        self.event(&rec, "create", &[]);
        let h = Arc::new(Handle {
            rec: Mutex::new(rec),
            life: watch::Sender::new(Life::default()),
            pending: Mutex::new(Vec::new()),
            op: Arc::new(tokio::sync::Mutex::new(())),
            restart: Mutex::new(RestartState::default()),
        });
        self.by_id.write().unwrap().insert(id.clone(), h);
        Ok(IdResponse { id, warnings })
    }

    fn write_etc_files(&self, rec: &ContainerRecord) -> Result<()> {
        let dir = self.container_dir(&rec.id);
        let h = &rec.config.hostname;
        std::fs::write(dir.join("hostname"), format!("{h}\n")).ctx("write hostname")?;
        let (hosts, resolv) = self.etc_files(rec)?;
        std::fs::write(dir.join("hosts"), hosts).ctx("write hosts")?;
        std::fs::write(dir.join("resolv.conf"), resolv).ctx("write resolv.conf")?;
        Ok(())
    }

    fn runtime_path(&self, name: &str) -> Result<PathBuf> {
        self.cfg
            .runtimes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.clone())
            .ok_or_else(|| Error::invalid(format!("unknown or invalid runtime name: {name}")))
    }

    /// `POST /containers/{id}/start`.
    pub async fn start(self: &Arc<Self>, name: &str) -> Result<()> {
        let h = self.find(name)?;
        let _op = h.op.lock().await;
        if h.running() {
            return Err(Error::not_modified("container already started"));
        }
        // A start by the user: no pending restart, counts start over.
        self.cancel_restart(&h, Some(false));
        h.restart.lock().unwrap().delay = None;
        h.rec.lock().unwrap().restart_count = 0;
        let id = h.id();
        self.start_unlocked(&h, &id).await
    }

    /// Starts a container whose op lock the caller holds.
    async fn start_unlocked(self: &Arc<Self>, h: &Arc<Handle>, id: &str) -> Result<()> {
        let h = h.clone();
        let rec = h.rec.lock().unwrap().clone();
        let id = id.to_string();
        match self.start_locked(&h, rec).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let nets = self.networks.clone();
                let nid = id.clone();
                let _ = tokio::task::spawn_blocking(move || nets.detach(&nid)).await;
                let mounts = h.rec.lock().unwrap().mounts.clone();
                self.stop_mounts(&id, &mounts);
                let _ = snapshot::unmount(&self.rootfs(&id));
                let _ = std::fs::remove_dir_all(self.shim_dir(&id));
                // Network failures are the daemon's words, as dockerd's.
                let network = e.message.starts_with(NET_FAILURE);
                let msg = if network {
                    e.message.clone()
                } else {
                    format!("failed to create task for container: {}", e.message)
                };
                let auto_remove = {
                    let mut r = h.rec.lock().unwrap();
                    r.state.error = msg.clone();
                    r.state.exit_code = if msg.contains("not found") || msg.contains("no such file")
                    {
                        127
                    } else {
                        128
                    };
                    let _ = self.save(&r);
                    r.host_config.auto_remove
                };
                for c in h.pending.lock().unwrap().drain(..) {
                    drop(c);
                }
                if auto_remove {
                    let _ = self.remove_locked(&h, true);
                }
                let kind = if network {
                    e.kind
                } else if msg.contains("not found")
                    || msg.contains("no such file")
                    || msg.contains("permission denied")
                {
                    base::ErrorKind::InvalidArgument
                } else {
                    base::ErrorKind::Internal
                };
                Err(Error { kind, message: msg })
            }
        }
    }

    async fn start_locked(
        self: &Arc<Self>,
        h: &Arc<Handle>,
        mut rec: ContainerRecord,
    ) -> Result<()> {
        let id = rec.id.clone();
        let rootfs = self.rootfs(&id);
        let _ = snapshot::unmount(&rootfs);
        self.snaps.mounts(&id)?.mount_at(&rootfs)?;
        let svc = self.clone();
        let r2 = rec.clone();
        let net = tokio::task::spawn_blocking(move || svc.start_network(&r2))
            .await
            .map_err(|e| Error::internal(format!("{NET_FAILURE}: {e}")))?
            .map_err(|e| Error {
                kind: e.kind,
                message: if e.message.starts_with(NET_FAILURE) {
                    e.message
                } else {
                    format!("{NET_FAILURE}: {}", e.message)
                },
            })?;
        if let Some(h) = &net.hostname {
            rec.config.hostname = h.clone();
        }
        if net.etc_from.is_none() {
            self.write_etc_files(&rec)?;
        }
        let (svc, r2, root2) = (self.clone(), rec.clone(), rootfs.clone());
        let extra_mounts = tokio::task::spawn_blocking(move || svc.start_mounts(&r2, &root2))
            .await
            .map_err(|e| Error::internal(format!("mounts: {e}")))??;
        let mut user = crate::user::resolve(&rootfs, &rec.config.user)?;
        let groups = crate::kernel_opts::KernelOpts::of(&rec.host_config)?.group_add;
        for g in crate::user::group_ids(&rootfs, &groups)? {
            if !user.additional_gids.contains(&g) {
                user.additional_gids.push(g);
            }
        }
        let mut env = rec.config.env.clone();
        if !has_env(&env, "HOSTNAME") {
            env.insert(
                1.min(env.len()),
                format!("HOSTNAME={}", rec.config.hostname),
            );
        }
        // Legacy links' variables, under what the container sets itself.
        for e in self.link_env(&rec)? {
            let k = e.split_once('=').map(|x| x.0).unwrap_or(&e);
            if !has_env(&env, k) {
                env.push(e);
            }
        }
        if rec.config.tty && !has_env(&env, "TERM") {
            env.push("TERM=xterm".into());
        }
        if !has_env(&env, "HOME") {
            env.push(format!("HOME={}", user.home));
        }
        let args: Vec<String> = std::iter::once(rec.path.clone())
            .chain(rec.args.iter().cloned())
            .collect();
        let cwd = if rec.config.working_dir.is_empty() {
            "/".to_string()
        } else {
            rec.config.working_dir.clone()
        };
        // A missing working directory is made, inside the rootfs, as dockerd does.
        if cwd != "/" {
            archive::mkdir_in_root(&rootfs, &cwd)
                .map_err(|e| Error::io(format!("create working directory {cwd}"), e))?;
        }
        let container_dir = net
            .etc_from
            .clone()
            .unwrap_or_else(|| self.container_dir(&id));
        // `--init`: tini first, the command after `--`, as dockerd.
        let mut extra_mounts = extra_mounts;
        let args = if rec.host_config.init.unwrap_or(self.cfg.init_default) {
            let init = self.cfg.init_path.clone().ok_or_else(|| {
                Error::invalid(
                    "--init needs docker-init (tini-static): install Debian's tini or set init-path in daemon.json",
                )
            })?;
            extra_mounts.push(json!({
                "destination": "/sbin/docker-init", "type": "bind",
                "source": init, "options": ["bind", "ro"],
            }));
            ["/sbin/docker-init".to_string(), "--".to_string()]
                .into_iter()
                .chain(args)
                .collect::<Vec<_>>()
        } else {
            args
        };
        let spec = crate::spec::build(&crate::spec::SpecInput {
            config: &rec.config,
            host: &rec.host_config,
            args: &args,
            env,
            user,
            cwd,
            hostname: rec.config.hostname.clone(),
            rootfs: &rootfs,
            container_dir: &container_dir,
            cgroups_path: self.cgroups_path(&id, &rec.host_config),
            netns: net.netns.as_deref(),
            host_network: net.host_network,
            mounts: extra_mounts,
            pid_ns: self.namespace_mode(&rec.host_config, "PidMode", "pid")?,
            ipc_ns: self.namespace_mode(&rec.host_config, "IpcMode", "ipc")?,
            host_uts: rec
                .host_config
                .extra
                .get("UTSMode")
                .and_then(|v| v.as_str())
                == Some("host"),
            seccomp: &self.cfg.seccomp,
        })?;
        let bundle = self.bundle(&id);
        std::fs::create_dir_all(&bundle).ctx("create bundle")?;
        std::fs::write(
            bundle.join("config.json"),
            serde_json::to_vec(&spec).unwrap_or_default(),
        )
        .ctx("write config.json")?;
        let shim_dir = self.shim_dir(&id);
        let _ = std::fs::remove_dir_all(&shim_dir);
        let runtime = self.runtime_path(&rec.host_config.runtime)?;
        let runtime_root = self
            .cfg
            .exec_root
            .join("runtime")
            .join(&rec.host_config.runtime);
        let log_path = self.log_path(&id);
        let created = shim_client::spawn(ShimStart {
            shim: &self.cfg.shim,
            id: &id,
            bundle: &bundle,
            state_dir: &shim_dir,
            runtime: &runtime,
            runtime_root: &runtime_root,
            log_path: &log_path,
            log: crate::logs::LogSettings::of(rec.host_config.log_config.as_ref())?,
            tty: rec.config.tty,
            stdin: rec.config.open_stdin,
        })
        .await
        .map_err(|e| Error {
            kind: e.kind,
            message: format!("OCI runtime create failed: {}", e.message),
        })?;

        // Attach waiting clients and the exit monitor before the process runs.
        let pending: Vec<AttachClient> = h.pending.lock().unwrap().drain(..).collect();
        for client in pending {
            self.connect_attach(&rec, client, false).await;
        }
        let mut wait_conn = ShimConn::connect(&shim_dir).await?;
        wait_conn.send(&Request::Wait).await?;
        let mut start_conn = ShimConn::connect(&shim_dir).await?;
        start_conn.send(&Request::Start).await?;
        let started = start_conn.recv().await?;
        if let Some(e) = started.error {
            let _ = ShimConn::once(&shim_dir, &Request::Kill { signal: 9 }).await;
            // A shim that creates at start says which step failed.
            let step = started.failed_at.as_deref().unwrap_or("start");
            return Err(Error::internal(format!("OCI runtime {step} failed: {e}")));
        }
        let pid = created
            .or(started.pid)
            .ok_or_else(|| Error::internal("OCI runtime start failed: shim sent no pid"))?;
        rec.state = StateRecord {
            status: "running".into(),
            pid: pid as i64,
            exit_code: 0,
            error: String::new(),
            started_at: now(),
            finished_at: rec.state.finished_at.clone(),
            oom_killed: false,
        };
        rec.spec = Some(spec);
        self.save_state(&rec)?;
        self.event(&rec, "start", &[]);
        *h.rec.lock().unwrap() = rec;
        h.life.send_modify(|l| l.running = true);
        self.clone().monitor(h.clone(), wait_conn);
        self.start_health(h.clone(), true);
        Ok(())
    }

    /// Waits for the container's exit on `conn` (a sent `Wait`) and settles its state.
    fn monitor(self: Arc<Self>, h: Arc<Handle>, mut conn: ShimConn) {
        tokio::spawn(async move {
            let code = conn.recv().await.ok().and_then(|r| r.exit_code);
            let settled = {
                let mut rec = h.rec.lock().unwrap();
                self.settle_exit(&mut rec, code);
                // Going to be started again: "restarting" from the exit on,
                // as dockerd shows it.
                if restart::policy(&rec.host_config).is_ok_and(|p| {
                    p.wants_restart(
                        rec.state.exit_code,
                        rec.restart_count,
                        rec.manually_stopped,
                        false,
                    )
                }) {
                    rec.state.status = "restarting".into();
                }
                rec.clone()
            };
            let (id, auto_remove, exit_code) = (
                settled.id.clone(),
                settled.host_config.auto_remove,
                settled.state.exit_code,
            );
            if settled.state.oom_killed {
                self.event(&settled, "oom", &[]);
            }
            self.event(&settled, "die", &[("exitCode", exit_code.to_string())]);
            // The exit is durable before anyone hears of it: the shim's exit
            // record is gone once settled, and a lazy commit would roll back
            // if the daemon were killed. (An auto-removed container is about
            // to go anyway.)
            if auto_remove {
                let _ = self.save_state(&settled);
            } else {
                let svc = self.clone();
                let saved = tokio::task::spawn_blocking(move || svc.save(&settled)).await;
                if let Ok(Err(e)) = saved {
                    tracing::warn!(container = %id, error = %e, "recording the exit");
                }
            }
            for e in self
                .execs
                .lock()
                .unwrap()
                .values()
                .filter(|e| e.container_id == id)
            {
                e.state.lock().unwrap().running = false;
            }
            // Waiters learn of the exit first; unmounting follows, under the
            // op lock so that a new start waits for it.
            h.life.send_modify(|l| {
                l.running = false;
                l.paused = false;
                l.exits += 1;
                l.exit_code = exit_code;
            });
            let _op = h.op.lock().await;
            if auto_remove {
                if let Err(e) = self.remove_locked(&h, true) {
                    tracing::warn!(container = %id, error = %e, "auto-remove failed");
                }
            } else {
                self.stop_mounts(&id, &h.rec.lock().unwrap().mounts.clone());
                let (rootfs, bundle) = (self.rootfs(&id), self.bundle(&id));
                let nets = self.networks.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if let Err(e) = nets.detach(&id) {
                        tracing::warn!(container = %id, error = %e, "network teardown");
                    }
                    let _ = snapshot::unmount(&rootfs);
                    let _ = std::fs::remove_dir_all(bundle);
                })
                .await;
                drop(_op);
                self.after_exit(h, false);
            }
        });
    }

    async fn connect_attach(&self, rec: &ContainerRecord, client: AttachClient, logs: bool) {
        let req = Request::Attach {
            stdin: client.stdin,
            stdout: client.stdout,
            stderr: client.stderr,
            logs,
        };
        let mut conn = match ShimConn::connect(&self.shim_dir(&rec.id)).await {
            Ok(c) => c,
            Err(_) => return,
        };
        if conn.call(&req).await.is_err() {
            return;
        }
        let tty = rec.config.tty;
        let stdin_once = rec.config.stdin_once;
        tokio::spawn(async move {
            pump(conn.stream, client, tty, stdin_once, None).await;
        });
    }

    /// `POST /containers/{id}/attach` (after the upgrade). With `logs`,
    /// the log is replayed first: by the shim for a running container, so
    /// that no output falls between the replay and the live stream or comes
    /// twice; without `stream`, the connection closes after it.
    pub async fn attach(
        &self,
        name: &str,
        mut client: AttachClient,
        logs: bool,
        stream: bool,
    ) -> Result<()> {
        let h = self.find(name)?;
        let rec = h.rec.lock().unwrap().clone();
        let running = h.running();
        if logs && !(stream && running) {
            self.replay_log(&rec, &mut client).await;
        }
        if !stream {
            let _ = client.io.shutdown().await;
            return Ok(());
        }
        if running {
            self.connect_attach(&rec, client, logs).await;
        } else {
            h.pending.lock().unwrap().push(client);
        }
        Ok(())
    }

    /// Writes the container's whole log to an attach client, framed as its
    /// terminal setting says (nothing with `--log-driver none`).
    async fn replay_log(&self, rec: &ContainerRecord, client: &mut AttachClient) {
        let kept = crate::logs::LogSettings::of(rec.host_config.log_config.as_ref())
            .is_ok_and(|l| !l.no_log);
        if !kept || !(client.stdout || client.stderr) {
            return;
        }
        let o = crate::logs::LogOptions {
            stdout: client.stdout,
            stderr: client.stderr,
            follow: false,
            tail: None,
            since: None,
            until: None,
            timestamps: false,
        };
        let (_tx, running) = watch::channel(false);
        let mut rx = crate::logs::stream(self.log_path(&rec.id), o, rec.config.tty, running);
        while let Some(b) = rx.recv().await {
            if client.io.write_all(&b).await.is_err() {
                return;
            }
        }
        let _ = client.io.flush().await;
    }

    /// Checks that an attach can be accepted; returns whether the container has a TTY.
    pub fn attach_check(&self, name: &str) -> Result<bool> {
        Ok(self.find(name)?.rec.lock().unwrap().config.tty)
    }

    async fn signal(&self, h: &Handle, signal: i32) -> Result<()> {
        let id = h.id();
        ShimConn::once(&self.shim_dir(&id), &Request::Kill { signal }).await?;
        let rec = h.rec.lock().unwrap().clone();
        self.event(&rec, "kill", &[("signal", signal.to_string())]);
        Ok(())
    }

    async fn wait_exit(&self, h: &Handle, timeout: Option<Duration>) -> bool {
        let mut rx = h.life.subscribe();
        let fut = rx.wait_for(|l| !l.running);
        match timeout {
            Some(t) => tokio::time::timeout(t, fut).await.is_ok(),
            None => fut.await.is_ok(),
        }
    }

    /// `POST /containers/{id}/stop`.
    pub async fn stop(&self, name: &str, timeout: Option<i64>, signal: Option<&str>) -> Result<()> {
        let h = self.find(name)?;
        let _op = h.op.lock().await;
        self.cancel_restart(&h, Some(true));
        self.stop_locked(&h, timeout, signal).await
    }

    async fn stop_locked(
        &self,
        h: &Handle,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        if !h.running() {
            return Err(Error::not_modified("container already stopped"));
        }
        let (stop_signal, stop_timeout) = {
            let r = h.rec.lock().unwrap();
            (r.config.stop_signal.clone(), r.config.stop_timeout)
        };
        let sig = crate::signal::parse(signal.or(stop_signal.as_deref()).unwrap_or("SIGTERM"))?;
        let t = timeout.or(stop_timeout).unwrap_or(10);
        let _ = self.signal(h, sig).await;
        // A paused container handles the signal once thawed.
        let _ = self.thaw(h).await;
        let limit = (t >= 0).then(|| Duration::from_secs(t as u64));
        if !self.wait_exit(h, limit).await {
            let _ = self.signal(h, 9).await;
            self.wait_exit(h, Some(Duration::from_secs(30))).await;
        }
        let rec = h.rec.lock().unwrap().clone();
        self.event(&rec, "stop", &[]);
        Ok(())
    }

    /// `POST /containers/{id}/kill`.
    pub async fn kill(&self, name: &str, signal: Option<&str>) -> Result<()> {
        let h = self.find(name)?;
        let sig = crate::signal::parse(signal.filter(|s| !s.is_empty()).unwrap_or("KILL"))?;
        if !h.running() {
            return Err(Error::conflict(format!(
                "cannot kill container: {name}: container {} is not running",
                h.id()
            )));
        }
        self.cancel_restart(&h, Some(true));
        self.signal(&h, sig).await?;
        if sig == 9 {
            // As Docker: a paused container is thawed so the kill lands.
            let _ = self.thaw(&h).await;
            self.wait_exit(&h, Some(Duration::from_secs(10))).await;
        }
        Ok(())
    }

    /// `POST /containers/{id}/restart`.
    pub async fn restart(
        self: &Arc<Self>,
        name: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let h = self.find(name)?;
        {
            let _op = h.op.lock().await;
            match self.stop_locked(&h, timeout, signal).await {
                Ok(()) => {}
                Err(e) if e.kind == base::ErrorKind::NotModified => {}
                Err(e) => return Err(e),
            }
        }
        let id = h.id();
        self.start(&id).await
    }

    /// `POST /containers/{id}/wait`: validates now, returns a future of the
    /// exit code that resolves on `condition` (`not-running`, `next-exit`, `removed`).
    pub fn wait(
        &self,
        name: &str,
        condition: &str,
    ) -> Result<impl std::future::Future<Output = i64> + Send + 'static> {
        let h = self.find(name)?;
        let mut rx = h.life.subscribe();
        let cur = rx.borrow().clone();
        let cond = match condition {
            "" | "not-running" => 0,
            "next-exit" => 1,
            "removed" => 2,
            other => return Err(Error::invalid(format!("invalid condition: \"{other}\""))),
        };
        Ok(async move {
            let done = |l: &Life| match cond {
                0 => !l.running || l.removed,
                1 => l.exits > cur.exits || l.removed,
                _ => l.removed,
            };
            let r = rx.wait_for(done).await.map(|l| l.exit_code);
            r.unwrap_or_else(|_| rx.borrow().exit_code)
        })
    }

    /// `DELETE /containers/{id}`.
    pub async fn remove(&self, name: &str, force: bool, remove_volumes: bool) -> Result<()> {
        let h = self.find(name)?;
        let _op = h.op.lock().await;
        if !force && h.rec.lock().unwrap().state.status == "restarting" {
            return Err(Error::conflict(
                "You cannot remove a restarting container. Stop the container before attempting removal or force remove",
            ));
        }
        self.cancel_restart(&h, None);
        if h.running() {
            if !force {
                let n = h.rec.lock().unwrap().name.clone();
                return Err(Error::conflict(format!(
                    "cannot remove container \"/{n}\": container is running: stop the container before removing or force remove"
                )));
            }
            let _ = self.signal(&h, 9).await;
            let _ = self.thaw(&h).await;
            if !self.wait_exit(&h, Some(Duration::from_secs(30))).await {
                return Err(Error::internal("could not kill running container"));
            }
        }
        self.remove_locked(&h, remove_volumes)
    }

    /// `POST /containers/prune`: removes every container that is not
    /// running and matches the filters (`label`, `label!`, `until`).
    pub async fn prune(&self, filters: &Filters) -> Result<Value> {
        let until = match filters.get("until").and_then(|v| v.last()) {
            Some(u) => Some(parse_until(u).ok_or_else(|| {
                Error::invalid(format!("failed to parse value {u:?} of filter \"until\""))
            })?),
            None => None,
        };
        for k in filters.keys() {
            if !matches!(k.as_str(), "label" | "label!" | "until") {
                return Err(Error::invalid(format!("invalid filter '{k}'")));
            }
        }
        let candidates: Vec<String> = {
            let map = self.by_id.read().unwrap();
            map.values()
                .filter(|h| !h.running())
                .filter_map(|h| {
                    let r = h.rec.lock().unwrap();
                    let labels = &r.config.labels;
                    let created = crate::logs::parse_time(&r.created).unwrap_or(0.0);
                    let keep = !labels_match(filters.get("label"), labels)
                        || filters.get("label!").is_some_and(|not| {
                            not.iter()
                                .any(|f| labels_match(Some(&vec![f.clone()]), labels))
                        })
                        || until.is_some_and(|u| created >= u);
                    (!keep).then(|| r.id.clone())
                })
                .collect()
        };
        let mut deleted = Vec::new();
        let mut reclaimed = 0i64;
        for id in candidates {
            let size = self.size_rw(&id);
            // A container started meanwhile is kept (remove refuses it).
            if self.remove(&id, false, false).await.is_ok() {
                deleted.push(id);
                reclaimed += size;
            }
        }
        Ok(json!({
            "ContainersDeleted": if deleted.is_empty() { Value::Null } else { json!(deleted) },
            "SpaceReclaimed": reclaimed,
        }))
    }

    /// Removes a stopped container; with `remove_volumes` its anonymous
    /// volumes too (`rm -v`, `--rm`), never named ones.
    fn remove_locked(&self, h: &Handle, remove_volumes: bool) -> Result<()> {
        let id = h.id();
        if !self.by_id.read().unwrap().contains_key(&id) {
            return Ok(());
        }
        // Lazy: a removal lost in a crash is redone by `recover`, which
        // drops records whose snapshot is gone.
        self.meta
            .update_lazy(|tx| tx.delete(Table::Containers, &id))?;
        self.by_id.write().unwrap().remove(&id);
        let rec = h.rec.lock().unwrap().clone();
        self.event(&rec, "destroy", &[]);
        self.stop_mounts(&id, &rec.mounts);
        self.remove_mounts(&id, &rec.mounts, false);
        let anonymous: Vec<String> = rec
            .mounts
            .iter()
            .filter(|m| remove_volumes && m.typ == "volume" && m.anonymous)
            .map(|m| m.source.clone())
            .collect();
        let vols = self.volumes.clone();
        self.execs
            .lock()
            .unwrap()
            .retain(|_, e| e.container_id != id);
        h.life.send_modify(|l| l.removed = true);
        // The container is gone from the API; its files go in the background
        // (and `recover` removes snapshots left without a record).
        let dirs = [
            self.container_dir(&id),
            self.bundle(&id),
            self.shim_dir(&id),
        ];
        let (rootfs, snaps) = (self.rootfs(&id), self.snaps.clone());
        let (nets, images) = (self.networks.clone(), self.images.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = nets.detach(&id) {
                tracing::warn!(container = %id, error = %e, "network teardown");
            }
            if let Err(e) = snapshot::unmount(&rootfs) {
                tracing::warn!(container = %id, error = %e, "unmount after remove");
            }
            if let Err(e) = snaps.remove(&id) {
                tracing::warn!(container = %id, error = %e, "remove snapshot");
            }
            if let Err(e) = images.release_deferred_layers() {
                tracing::warn!(container = %id, error = %e, "release a deleted image's layers");
            }
            for d in dirs {
                let _ = std::fs::remove_dir_all(d);
            }
            for v in anonymous {
                if let Err(e) = vols.remove(&v, false) {
                    tracing::debug!(volume = %v, error = %e, "anonymous volume kept");
                }
            }
        });
        Ok(())
    }

    /// `POST /containers/{id}/resize`.
    pub async fn resize(&self, name: &str, height: u16, width: u16) -> Result<()> {
        let h = self.find(name)?;
        if !h.running() {
            return Err(Error::conflict(format!(
                "container {} is not running",
                h.id()
            )));
        }
        ShimConn::once(&self.shim_dir(&h.id()), &Request::Resize { height, width })
            .await
            .map(|_| ())
    }

    /// Publishes a container event; the actor's attributes are the image,
    /// the name and the labels, as Docker's, plus `extra`.
    fn event(&self, rec: &ContainerRecord, action: &str, extra: &[(&str, String)]) {
        let mut attrs = serde_json::Map::new();
        for (k, v) in &rec.config.labels {
            attrs.insert(k.clone(), Value::String(v.clone()));
        }
        attrs.insert("image".into(), Value::String(rec.config.image.clone()));
        attrs.insert("name".into(), Value::String(rec.name.clone()));
        for (k, v) in extra {
            attrs.insert(k.to_string(), Value::String(v.clone()));
        }
        self.images
            .events()
            .publish("container", action, &rec.id, attrs);
    }

    /// `POST /containers/{id}/rename`.
    pub fn rename(&self, name: &str, new_name: &str) -> Result<()> {
        let h = self.find(name)?;
        let bare = new_name.strip_prefix('/').unwrap_or(new_name);
        if !base::id::valid_name(bare) {
            return Err(Error::invalid(format!(
                "Invalid container name ({new_name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )));
        }
        let _g = self.create_lock.lock().unwrap();
        if let Some(o) = self
            .by_id
            .read()
            .unwrap()
            .values()
            .find(|o| o.rec.lock().unwrap().name == bare)
        {
            return Err(Error::conflict(format!("Conflict. The container name \"/{bare}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.", o.id())));
        }
        let mut r = h.rec.lock().unwrap();
        let old = std::mem::replace(&mut r.name, bare.to_string());
        self.save(&r)?;
        self.networks.rename(&r.id, &old, bare)?;
        self.event(&r, "rename", &[("oldName", format!("/{old}"))]);
        Ok(())
    }

    /// A container using an image, a running one first: (id, running).
    pub fn image_user(&self, image_id: &str) -> crate::images::ImageUser {
        let by_id = self.by_id.read().unwrap();
        let mut users = by_id
            .values()
            .filter(|h| h.rec.lock().unwrap().image_id == image_id)
            .map(|h| (h.id(), h.running()));
        let first = users.next()?;
        if first.1 {
            return Some(first);
        }
        Some(users.find(|u| u.1).unwrap_or(first))
    }

    /// Ids of containers using an image (for `images` and `system df`).
    pub fn using_image(&self, image_id: &str) -> Vec<String> {
        self.by_id
            .read()
            .unwrap()
            .values()
            .map(|h| h.rec.lock().unwrap())
            .filter(|r| r.image_id == image_id)
            .map(|r| r.id.clone())
            .collect()
    }

    /// Bytes written in a container's writable layer.
    pub fn size_rw(&self, id: &str) -> i64 {
        fn walk(p: &std::path::Path) -> i64 {
            let Ok(rd) = std::fs::read_dir(p) else {
                return 0;
            };
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => walk(&e.path()),
                    Ok(m) => m.len() as i64,
                    Err(_) => 0,
                })
                .sum()
        }
        walk(&self.snaps.upper_dir(id))
    }

    /// (total, running, stopped) counts.
    pub fn counts(&self) -> (usize, usize, usize) {
        let map = self.by_id.read().unwrap();
        let running = map.values().filter(|h| h.running()).count();
        (map.len(), running, map.len() - running)
    }

    /// `GET /containers/json`.
    pub fn list(
        &self,
        all: bool,
        limit: Option<usize>,
        filters: &Filters,
    ) -> Result<Vec<ContainerSummary>> {
        let mut recs: Vec<ContainerRecord> = self
            .by_id
            .read()
            .unwrap()
            .values()
            .map(|h| h.rec.lock().unwrap().clone())
            .collect();
        recs.sort_by(|a, b| b.created.cmp(&a.created));
        let mut out = Vec::new();
        for r in recs {
            let up = matches!(r.state.status.as_str(), "running" | "paused");
            if !all && !up && limit.is_none() && filters.is_empty() {
                continue;
            }
            if let Some(s) = filters.get("status") {
                if !s.contains(&r.state.status) {
                    continue;
                }
            } else if !all && limit.is_none() && !up {
                continue;
            }
            if let Some(n) = filters.get("name") {
                if !n.iter().any(|n| r.name.contains(n.trim_start_matches('/'))) {
                    continue;
                }
            }
            if let Some(ids) = filters.get("id") {
                if !ids.iter().any(|i| r.id.starts_with(i.as_str())) {
                    continue;
                }
            }
            if let Some(codes) = filters.get("exited") {
                if r.state.status != "exited" || !codes.contains(&r.state.exit_code.to_string()) {
                    continue;
                }
            }
            if !labels_match(filters.get("label"), &r.config.labels) {
                continue;
            }
            if let Some(want) = filters.get("health") {
                let status = health::shown(&r)
                    .map(|h| h.status.clone())
                    .unwrap_or_else(|| "none".into());
                if !want.contains(&status) {
                    continue;
                }
            }
            if let Some(anc) = filters.get("ancestor") {
                let ok = anc.iter().any(|a| {
                    self.images
                        .resolve(a)
                        .is_ok_and(|i| i.record.id == r.image_id)
                        || *a == r.config.image
                });
                if !ok {
                    continue;
                }
            }
            out.push(self.summary(&r));
            if limit.is_some_and(|l| out.len() >= l) {
                break;
            }
        }
        Ok(out)
    }

    fn summary(&self, r: &ContainerRecord) -> ContainerSummary {
        let status = match r.state.status.as_str() {
            "running" => format!(
                "Up {}{}",
                human_duration(since(&r.state.started_at)),
                match health::shown(r).map(|h| h.status.as_str()) {
                    Some("starting") => " (health: starting)",
                    Some("healthy") => " (healthy)",
                    Some("unhealthy") => " (unhealthy)",
                    _ => "",
                }
            ),
            "paused" => format!("Up {} (Paused)", human_duration(since(&r.state.started_at))),
            "exited" => format!(
                "Exited ({}) {} ago",
                r.state.exit_code,
                human_duration(since(&r.state.finished_at))
            ),
            "created" => "Created".into(),
            "restarting" => format!(
                "Restarting ({}) {} ago",
                r.state.exit_code,
                human_duration(since(&r.state.finished_at))
            ),
            s => s.to_string(),
        };
        let command = std::iter::once(r.path.as_str())
            .chain(r.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        ContainerSummary {
            id: r.id.clone(),
            names: vec![format!("/{}", r.name)],
            // The name it was created from while that still names its
            // image; its image's id once deleted or re-tagged, as dockerd.
            image: if self.images.names_image(&r.config.image, &r.image_id) {
                r.config.image.clone()
            } else {
                r.image_id.clone()
            },
            image_id: r.image_id.clone(),
            command,
            created: chrono::DateTime::parse_from_rfc3339(&r.created)
                .map(|t| t.timestamp())
                .unwrap_or(0),
            ports: self.summary_ports(r, matches!(r.state.status.as_str(), "running" | "paused")),
            labels: r.config.labels.clone(),
            state: r.state.status.clone(),
            status,
            host_config: json!({"NetworkMode": r.host_config.network_mode}),
            network_settings: json!({"Networks": self.network_settings(r, matches!(r.state.status.as_str(), "running" | "paused")).networks}),
            mounts: self
                .mount_points(r)
                .into_iter()
                .map(|m| serde_json::to_value(m).unwrap_or_default())
                .collect(),
        }
    }

    /// `GET /containers/{id}/json`.
    pub fn inspect(&self, name: &str) -> Result<Value> {
        let h = self.find(name)?;
        let r = h.rec.lock().unwrap().clone();
        let running = h.running();
        let dir = self.container_dir(&r.id);
        let execs: Vec<String> = self
            .execs
            .lock()
            .unwrap()
            .values()
            .filter(|e| e.container_id == r.id)
            .map(|e| e.id.clone())
            .collect();
        let upper = self.snaps.upper_dir(&r.id);
        Ok(json!({
            "Id": r.id,
            "Created": r.created,
            "Path": r.path,
            "Args": r.args,
            "State": api_types::ContainerState {
                status: r.state.status.clone(),
                running,
                paused: h.life.borrow().paused,
                restarting: r.state.status == "restarting",
                oom_killed: r.state.oom_killed,
                dead: false,
                pid: if running { r.state.pid } else { 0 },
                exit_code: r.state.exit_code,
                error: r.state.error.clone(),
                started_at: r.state.started_at.clone(),
                finished_at: r.state.finished_at.clone(),
                health: health::shown(&r).cloned(),
            },
            "Image": r.image_id,
            "ResolvConfPath": dir.join("resolv.conf"),
            "HostnamePath": dir.join("hostname"),
            "HostsPath": dir.join("hosts"),
            "LogPath": self.log_path(&r.id),
            "Name": format!("/{}", r.name),
            "RestartCount": r.restart_count,
            "Driver": "overlay2",
            "Platform": "linux",
            "MountLabel": "",
            "ProcessLabel": "",
            "AppArmorProfile": "",
            "ExecIDs": if execs.is_empty() { Value::Null } else { json!(execs) },
            "HostConfig": host_config_view(&r.host_config),
            "GraphDriver": {"Name": "overlay2", "Data": {"UpperDir": upper, "WorkDir": upper.with_file_name("work"), "MergedDir": self.rootfs(&r.id)}},
            "Mounts": self.mount_points(&r),
            "Config": r.config,
            "NetworkSettings": self.network_settings(&r, running),
        }))
    }

    /// `GET /containers/{id}/logs`: the container's TTY flag and the stream.
    pub fn logs(
        &self,
        name: &str,
        o: crate::logs::LogOptions,
    ) -> Result<(bool, tokio::sync::mpsc::Receiver<bytes::Bytes>)> {
        let h = self.find(name)?;
        let (id, tty, log) = {
            let r = h.rec.lock().unwrap();
            (r.id.clone(), r.config.tty, r.host_config.log_config.clone())
        };
        if crate::logs::LogSettings::of(log.as_ref()).is_ok_and(|l| l.no_log) {
            return Err(Error::invalid(
                "configured logging driver does not support reading",
            ));
        }
        if !o.stdout && !o.stderr {
            return Err(Error::invalid(
                "Bad parameters: you must choose at least one stream",
            ));
        }
        let (tx, rx) = watch::channel(h.running());
        let mut life = h.life.subscribe();
        tokio::spawn(async move {
            while life.changed().await.is_ok() {
                let running = life.borrow().running;
                if tx.send(running).is_err() {
                    return;
                }
            }
            let _ = tx.send(false);
        });
        Ok((tty, crate::logs::stream(self.log_path(&id), o, tty, rx)))
    }

    /// `GET /containers/{id}/export`: the container's filesystem as a tar stream.
    pub async fn export(&self, name: &str) -> Result<tokio::sync::mpsc::Receiver<bytes::Bytes>> {
        let lease = self
            .copy_lease(name, false, copy::LeaseView::Rootfs)
            .await?;
        let name = name.to_string();
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::task::spawn_blocking(move || {
            let w = crate::ChannelWriter::new(tx);
            if let Err(e) = crate::export_tree(lease.rootfs(), w) {
                tracing::warn!(container = %name, error = %e, "export failed");
            }
        });
        Ok(rx)
    }

    /// `POST /containers/{id}/exec`.
    pub fn exec_create(&self, name: &str, config: ExecConfig) -> Result<String> {
        options::check_exec(&config)?;
        let h = self.find(name)?;
        let id = h.id();
        if !h.running() {
            return Err(Error::conflict(format!("container {id} is not running")));
        }
        if h.life.borrow().paused {
            return Err(Error::conflict(format!(
                "Container {id} is paused, unpause the container before exec"
            )));
        }
        if config.cmd.as_ref().is_none_or(|c| c.is_empty()) {
            return Err(Error::invalid("No exec command specified"));
        }
        detach::keys_or_default(Some(&config.detach_keys))?;
        let exec_id = base::id::random_id();
        self.execs.lock().unwrap().insert(
            exec_id.clone(),
            Arc::new(Exec {
                id: exec_id.clone(),
                container_id: id,
                config,
                state: Mutex::new(ExecState::default()),
            }),
        );
        Ok(exec_id)
    }

    /// A `--pid`/`--ipc` mode as the namespace to use: None a new one,
    /// Some(None) the host's, Some(Some(path)) a running container's.
    fn namespace_mode(
        &self,
        h: &HostConfig,
        field: &str,
        kind: &str,
    ) -> Result<Option<Option<String>>> {
        let mode = h.extra.get(field).and_then(|v| v.as_str()).unwrap_or("");
        if mode == "host" {
            return Ok(Some(None));
        }
        let Some(other) = mode.strip_prefix("container:") else {
            return Ok(None);
        };
        let o = self.find(other)?;
        let pid = o.rec.lock().unwrap().state.pid;
        if !o.running() || pid <= 0 {
            return Err(Error::conflict(format!(
                "cannot join {kind} namespace of a non running container: {other}"
            )));
        }
        Ok(Some(Some(format!("/proc/{pid}/ns/{kind}"))))
    }

    /// An exec's exit code, once it has one.
    fn exec_exit_code(&self, id: &str) -> Option<i64> {
        self.find_exec(id).ok()?.state.lock().unwrap().exit_code
    }

    /// Kills an exec's process (a health check past its timeout).
    fn exec_kill(&self, id: &str) {
        if let Ok(e) = self.find_exec(id) {
            let pid = e.state.lock().unwrap().pid;
            if pid > 0 {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }

    /// Forgets an exec the daemon ran for itself.
    fn exec_forget(&self, id: &str) {
        self.execs.lock().unwrap().remove(id);
    }

    fn find_exec(&self, id: &str) -> Result<Arc<Exec>> {
        self.execs
            .lock()
            .unwrap()
            .get(id)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("No such exec instance: {id}")))
    }

    /// Checks that an exec can start; returns whether it has a TTY.
    pub fn exec_check(&self, id: &str) -> Result<bool> {
        let e = self.find_exec(id)?;
        if e.state.lock().unwrap().started {
            return Err(Error::conflict(format!(
                "Error: Exec command {id} has already run"
            )));
        }
        Ok(e.config.tty)
    }

    /// `POST /exec/{id}/start`: runs the process; with a client, streams its
    /// I/O until it exits, recording the exit code before the stream closes.
    /// Starts an exec's process in its container; returns the shim stream
    /// that carries its I/O and the pid.
    async fn exec_launch(&self, e: &Arc<Exec>) -> Result<(ShimConn, i64)> {
        let exec_id = e.id.as_str();
        {
            let mut s = e.state.lock().unwrap();
            if s.started {
                return Err(Error::conflict(format!(
                    "Error: Exec command {exec_id} has already run"
                )));
            }
            s.started = true;
        }
        let h = self.find(&e.container_id)?;
        let rec = h.rec.lock().unwrap().clone();
        if !h.running() {
            return Err(Error::conflict(format!(
                "container {} is not running",
                rec.id
            )));
        }
        let spec = rec
            .spec
            .clone()
            .ok_or_else(|| Error::internal("container has no runtime spec"))?;
        let c = &e.config;
        let user = crate::user::resolve(
            &self.rootfs(&rec.id),
            if c.user.is_empty() {
                &rec.config.user
            } else {
                &c.user
            },
        )?;
        let mut env = merge_env(
            spec["process"]["env"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect::<Vec<_>>()
                })
                .as_deref()
                .unwrap_or(&[]),
            &c.env,
        );
        if c.tty && !has_env(&env, "TERM") {
            env.push("TERM=xterm".into());
        }
        let cwd = if c.working_dir.is_empty() {
            spec["process"]["cwd"].as_str().unwrap_or("/").to_string()
        } else {
            c.working_dir.clone()
        };
        let args = c.cmd.clone().unwrap_or_default();
        let process = crate::spec::exec_process(&spec, &args, env, &cwd, user, c.tty);
        let mut conn = ShimConn::connect(&self.shim_dir(&rec.id)).await?;
        let reply = conn
            .call(&Request::Exec {
                exec_id: exec_id.to_string(),
                process,
                tty: c.tty,
                stdin: c.attach_stdin,
            })
            .await
            .map_err(|err| {
                let kind =
                    if err.message.contains("not found") || err.message.contains("no such file") {
                        base::ErrorKind::InvalidArgument
                    } else {
                        err.kind
                    };
                Error {
                    kind,
                    message: format!("OCI runtime exec failed: {}", err.message),
                }
            })?;
        Ok((conn, reply.pid.unwrap_or(0) as i64))
    }

    ///
    /// `raw` is the start request's `Tty`, which decides (as with dockerd)
    /// whether the stream is raw or multiplexed with 8-byte headers,
    /// whatever the exec was created with; `None` takes the exec's.
    pub async fn exec_start(
        &self,
        exec_id: &str,
        client: Option<AttachClient>,
        raw: Option<bool>,
    ) -> Result<()> {
        let e = self.find_exec(exec_id)?;
        let raw = raw.unwrap_or(e.config.tty);
        // The exec's detach keys (checked at create), or dockerd's default.
        let client = client.map(|mut c| {
            if c.detach_keys.is_none() {
                c.detach_keys = detach::keys_or_default(Some(&e.config.detach_keys)).ok();
            }
            c
        });
        let conn = match self.exec_launch(&e).await {
            Ok(c) => c,
            Err(err) => {
                {
                    let mut st = e.state.lock().unwrap();
                    // 126 for any exec that could not start, even for a
                    // missing command, as dockerd records it (its 127 is
                    // for a container's own command).
                    if !st.running && st.exit_code.is_none() {
                        st.exit_code = Some(126);
                    }
                }
                // Docker reports the failure on the attached stream too.
                if let Some(mut c) = client {
                    let text = format!("{}\r\n", err.message);
                    let _ = if raw {
                        c.io.write_all(text.as_bytes()).await
                    } else {
                        write_frame(&mut c.io, shim::frame::STDOUT, text.as_bytes()).await
                    };
                    let _ = c.io.shutdown().await;
                }
                return Err(err);
            }
        };
        let (ctl_tx, ctl_rx) = tokio::sync::mpsc::unbounded_channel();
        {
            let mut s = e.state.lock().unwrap();
            s.running = true;
            s.pid = conn.1;
            s.control = Some(ctl_tx);
        }
        let client = client.unwrap_or_else(|| AttachClient {
            io: Box::new(tokio::io::duplex(64).0),
            stdin: false,
            stdout: false,
            stderr: false,
            detach_keys: None,
        });
        let e2 = e.clone();
        let on_exit = move |code: i64| {
            let mut s = e2.state.lock().unwrap();
            s.exit_code = Some(code);
            s.running = false;
            s.control = None;
        };
        pump(
            conn.0.stream,
            client,
            raw,
            true,
            Some((ctl_rx, Box::new(on_exit))),
        )
        .await;
        let mut s = e.state.lock().unwrap();
        if s.exit_code.is_none() {
            s.exit_code = Some(126);
        }
        s.running = false;
        Ok(())
    }

    /// `POST /exec/{id}/resize`.
    pub fn exec_resize(&self, id: &str, height: u16, width: u16) -> Result<()> {
        let e = self.find_exec(id)?;
        let s = e.state.lock().unwrap();
        if let Some(tx) = &s.control {
            let mut p = height.to_be_bytes().to_vec();
            p.extend_from_slice(&width.to_be_bytes());
            let mut f = shim::frame::header(shim::frame::RESIZE, 4).to_vec();
            f.extend(p);
            let _ = tx.send(f);
        }
        Ok(())
    }

    /// `GET /exec/{id}/json`.
    pub fn exec_inspect(&self, id: &str) -> Result<Value> {
        let e = self.find_exec(id)?;
        let s = e.state.lock().unwrap();
        let c = &e.config;
        let cmd = c.cmd.clone().unwrap_or_default();
        Ok(json!({
            "ID": e.id,
            "Running": s.running,
            "ExitCode": s.exit_code,
            "ProcessConfig": {
                "tty": c.tty, "entrypoint": cmd.first(), "arguments": cmd.get(1..).unwrap_or(&[]),
                "privileged": c.privileged, "user": c.user,
            },
            "OpenStdin": c.attach_stdin,
            "OpenStderr": c.attach_stderr,
            "OpenStdout": c.attach_stdout,
            "CanRemove": false,
            "ContainerID": e.container_id,
            "DetachKeys": c.detach_keys,
            "Pid": s.pid,
        }))
    }
}

type ExitHook = (
    tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
    Box<dyn FnOnce(i64) + Send>,
);

/// Copies between a client and a shim stream: client bytes become stdin
/// frames, shim frames become Docker's stream format (raw with a TTY).
async fn pump(
    shim: tokio::net::UnixStream,
    client: AttachClient,
    tty: bool,
    stdin_once: bool,
    exit: Option<ExitHook>,
) {
    let (mut sr, sw) = shim.into_split();
    let (mut cr, cw) = tokio::io::split(client.io);
    // None once the client detached: the connection is closed then.
    let mut cw = Some(cw);
    let (ctl, on_exit) = match exit {
        Some((rx, f)) => (Some(rx), Some(f)),
        None => (None, None),
    };
    let (frames_tx, mut frames_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        let mut sw = sw;
        while let Some(f) = frames_rx.recv().await {
            if sw.write_all(&f).await.is_err() {
                break;
            }
        }
    });
    if let Some(mut ctl) = ctl {
        let tx = frames_tx.clone();
        tokio::spawn(async move {
            while let Some(f) = ctl.recv().await {
                if tx.send(f).is_err() {
                    break;
                }
            }
        });
    }
    // On a terminal, the detach keys end the client's session (the
    // process goes on), as with dockerd.
    let mut escape = client.detach_keys.filter(|_| tty).map(detach::Escape::new);
    let (detach_tx, detach_rx) = tokio::sync::mpsc::channel::<()>(1);
    let mut detach_rx = Some(detach_rx);
    let reader = if client.stdin {
        let tx = frames_tx.clone();
        Some(tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match cr.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let (data, detached) = match escape.as_mut() {
                            Some(e) => e.feed(&buf[..n]),
                            None => (buf[..n].to_vec(), false),
                        };
                        if !data.is_empty() {
                            let mut f =
                                shim::frame::header(shim::frame::STDIN, data.len()).to_vec();
                            f.extend_from_slice(&data);
                            if tx.send(f).is_err() {
                                return;
                            }
                        }
                        if detached {
                            let _ = detach_tx.send(()).await;
                            return;
                        }
                    }
                }
            }
            // As dockerd: the end of the client's stdin closes the
            // process's only without a terminal (a client that detached or
            // went away leaves a terminal session running).
            if stdin_once && !tty {
                let _ = tx.send(shim::frame::header(shim::frame::CLOSE_STDIN, 0).to_vec());
            }
        }))
    } else {
        None
    };
    drop(frames_tx);
    let mut code = None;
    loop {
        let next = match detach_rx.as_mut() {
            Some(rx) => tokio::select! {
                f = read_frame(&mut sr) => f,
                d = rx.recv() => {
                    detach_rx = None;
                    if d.is_some() {
                        tracing::debug!("attach client detached");
                        if let Some(mut w) = cw.take() {
                            let _ = w.shutdown().await;
                        }
                        if on_exit.is_none() {
                            // An attach: the container goes on without us.
                            break;
                        }
                    }
                    continue;
                }
            },
            None => read_frame(&mut sr).await,
        };
        let Ok(Some((kind, payload))) = next else {
            break;
        };
        match kind {
            shim::frame::STDOUT | shim::frame::STDERR => {
                let Some(w) = cw.as_mut() else {
                    // Detached: drained so the process never blocks.
                    continue;
                };
                let ok = if tty {
                    w.write_all(&payload).await
                } else {
                    write_frame(w, kind, &payload).await
                };
                if ok.is_err() {
                    // The client went away: its connection is let go at
                    // once. An attach ends (the container goes on without
                    // us); a run or exec keeps draining so the process
                    // never blocks.
                    cw = None;
                    if on_exit.is_none() {
                        break;
                    }
                    continue;
                }
                let _ = w.flush().await;
            }
            shim::frame::EXIT => {
                code = shim::frame::exit_code(&payload);
                break;
            }
            _ => {}
        }
    }
    if let Some(f) = on_exit {
        f(code.unwrap_or(126) as i64);
    }
    if let Some(mut cw) = cw {
        let _ = cw.flush().await;
        let _ = cw.shutdown().await;
    }
    if let Some(r) = reader {
        r.abort();
    }
    writer.abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_until_takes_timestamps_and_durations() {
        assert_eq!(parse_until("1700000000"), Some(1_700_000_000.0));
        assert_eq!(parse_until("2023-11-14T22:13:20Z"), Some(1_700_000_000.0));
        let now = chrono::Utc::now().timestamp() as f64;
        let h = parse_until("1h30m").unwrap();
        assert!((now - 5400.0 - h).abs() < 5.0, "{h}");
        assert!(parse_until("10x").is_none());
        assert!(parse_until("h").is_none());
    }

    #[test]
    fn durations_like_go() {
        for (s, want) in [
            (0, "Less than a second"),
            (1, "1 second"),
            (5, "5 seconds"),
            (60, "About a minute"),
            (150, "2 minutes"),
            (3600, "About an hour"),
            (7200, "2 hours"),
            (3 * 86400, "3 days"),
        ] {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }

    #[test]
    fn env_merge_and_labels() {
        assert_eq!(
            merge_env(&["A=1".into(), "B=2".into()], &["A=3".into()]),
            vec!["B=2", "A=3"]
        );
        let mut l = api_types::Labels::new();
        l.insert("a".into(), "b".into());
        assert!(labels_match(Some(&vec!["a=b".into()]), &l));
        assert!(labels_match(Some(&vec!["a".into()]), &l));
        assert!(!labels_match(Some(&vec!["a=c".into()]), &l));
        assert!(labels_match(None, &l));
    }
}
