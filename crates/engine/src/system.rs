//! `/version` and `/info`.

use crate::{containers::ContainerService, images::ImageService, Config};
use serde_json::{json, Value};
use std::sync::Arc;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The newest Engine API version served.
pub const API_VERSION: &str = "1.50";
/// The oldest Engine API version accepted.
pub const MIN_API_VERSION: &str = "1.24";

pub struct SystemService {
    cfg: Config,
    images: Arc<ImageService>,
    containers: Arc<ContainerService>,
    volumes: Arc<volume::VolumeService>,
    id: String,
}

fn emulation_labels(platforms: &[String]) -> Vec<String> {
    if platforms.is_empty() {
        vec![]
    } else {
        vec![format!("berth.emulated-platforms={}", platforms.join(","))]
    }
}

/// What `docker info` warns of, as dockerd: what is off on this host.
fn warnings() -> Vec<String> {
    let mut w = Vec::new();
    let on = |p: &str| std::fs::read_to_string(p).is_ok_and(|v| v.trim() == "1");
    if !on("/proc/sys/net/ipv4/ip_forward") {
        w.push("WARNING: IPv4 forwarding is disabled".to_string());
    }
    if !std::path::Path::new("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes").exists()
        && std::path::Path::new("/sys/fs/cgroup/memory").is_dir()
    {
        w.push("WARNING: No swap limit support".to_string());
    }
    w
}

fn kernel() -> String {
    nix::sys::utsname::uname()
        .map(|u| u.release().to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    }
}

fn cgroup_version() -> &'static str {
    // A hybrid host (v1 controllers plus an empty v2 tree) counts as v1.
    if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "2"
    } else {
        "1"
    }
}

impl SystemService {
    pub fn new(
        cfg: Config,
        images: Arc<ImageService>,
        containers: Arc<ContainerService>,
        volumes: Arc<volume::VolumeService>,
    ) -> SystemService {
        let id_file = cfg.data_root.join("engine-id");
        let id = std::fs::read_to_string(&id_file)
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                let id = base::id::random_id();
                let _ = std::fs::write(&id_file, &id);
                id
            });
        SystemService {
            cfg,
            images,
            containers,
            volumes,
            id,
        }
    }

    /// `GET /version`.
    pub fn version(&self) -> Value {
        let details = json!({
            "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION, "GitCommit": "berth",
            "GoVersion": "rust", "Os": "linux", "Arch": arch(), "KernelVersion": kernel(),
            "BuildTime": "", "Experimental": "false",
        });
        let runtime = &self.cfg.default_runtime;
        json!({
            "Platform": {"Name": "berth"},
            "Components": [
                {"Name": "Engine", "Version": VERSION, "Details": details},
                {"Name": runtime, "Version": VERSION, "Details": {"GitCommit": ""}},
            ],
            "Version": VERSION,
            "ApiVersion": API_VERSION,
            "MinAPIVersion": MIN_API_VERSION,
            "GitCommit": "berth",
            "GoVersion": "rust",
            "Os": "linux",
            "Arch": arch(),
            "KernelVersion": kernel(),
            "BuildTime": "",
        })
    }

    /// `GET /system/df`.
    pub fn data_usage(&self) -> base::Result<Value> {
        let containers = self.containers.clone();
        let count = move |id: &str| containers.using_image(id).len() as i64;
        let images = self.images.list(false, &Default::default(), &count)?;
        let mut list = self.containers.list(true, None, &Default::default())?;
        let ctrs: Vec<Value> = list
            .drain(..)
            .map(|c| {
                let mut v = serde_json::to_value(&c).unwrap_or_default();
                v["SizeRw"] = json!(self.containers.size_rw(&c.id));
                v["SizeRootFs"] = json!(0);
                v
            })
            .collect();
        Ok(json!({
            "LayersSize": self.images.layers_size()?,
            "Images": images,
            "Containers": ctrs,
            "Volumes": self.volumes.usage(),
            "BuildCache": [],
        }))
    }

    /// `GET /info`.
    pub fn info(&self) -> Value {
        let (total, running, stopped) = self.containers.counts();
        let mem = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find(|l| l.starts_with("MemTotal:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<i64>().ok())
            })
            .unwrap_or(0)
            * 1024;
        let runtimes: serde_json::Map<String, Value> = self
            .cfg
            .runtimes
            .iter()
            .map(|(n, p)| (n.clone(), json!({"path": p})))
            .collect();
        let emulated = crate::emulation::emulated();
        let mut warnings = warnings();
        if self.cfg.seccomp != crate::seccomp::DaemonProfile::Builtin {
            warnings.push("WARNING: daemon is not using the default seccomp profile".to_string());
        }
        let hostname = nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default();
        json!({
            "ID": self.id,
            "Containers": total,
            "ContainersRunning": running,
            "ContainersPaused": 0,
            "ContainersStopped": stopped,
            "Images": self.images.count().unwrap_or(0),
            "Driver": "overlay2",
            "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"]],
            "Plugins": {"Volume": ["local"], "Network": ["null"], "Authorization": null, "Log": ["json-file"]},
            "MemoryLimit": true, "SwapLimit": true, "CpuCfsPeriod": true, "CpuCfsQuota": true,
            "CPUShares": true, "CPUSet": true, "PidsLimit": true, "IPv4Forwarding": false,
            "Debug": false, "NFd": 0, "OomKillDisable": false, "NGoroutines": 0,
            "SystemTime": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
            "LoggingDriver": self
                .cfg
                .default_log
                .as_ref()
                .and_then(|l| l["Type"].as_str())
                .filter(|t| !t.is_empty())
                .unwrap_or("json-file"),
            "CgroupDriver": "cgroupfs",
            "CgroupVersion": cgroup_version(),
            "NEventsListener": 0,
            "KernelVersion": kernel(),
            "OperatingSystem": "linux",
            "OSVersion": "",
            "OSType": "linux",
            "Architecture": std::env::consts::ARCH,
            "IndexServerAddress": "https://index.docker.io/v1/",
            "RegistryConfig": {"IndexConfigs": {}, "InsecureRegistryCIDRs": ["127.0.0.0/8"], "Mirrors": []},
            "NCPU": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            "MemTotal": mem,
            "DockerRootDir": self.cfg.data_root,
            "Name": hostname,
            // The emulated platforms, where `docker info` shows them.
            "Labels": emulation_labels(&emulated),
            // berth's own: the platforms run through emulation.
            "Emulation": {"Enabled": self.cfg.emulation, "Platforms": emulated},
            "ExperimentalBuild": false,
            "ServerVersion": VERSION,
            "Runtimes": runtimes,
            "DefaultRuntime": self.cfg.default_runtime,
            "Swarm": {"LocalNodeState": "inactive", "NodeID": "", "NodeAddr": "", "ControlAvailable": false, "Error": "", "RemoteManagers": null},
            "LiveRestoreEnabled": true,
            "Isolation": "",
            // As dockerd: the init's name, when there is one.
            "InitBinary": if self.cfg.init_path.is_some() { "docker-init" } else { "" },
            "SecurityOptions": [format!("name=seccomp,profile={}", self.cfg.seccomp.name())],
            "Warnings": warnings,
        })
    }
}
