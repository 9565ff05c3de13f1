//! The resource and kernel options of a host config that have no typed
//! member (they arrive in `HostConfig.extra`), read and checked as dockerd
//! does: `--cpuset-cpus|mems`, `--memory-swappiness`, `--oom-score-adj`,
//! `--ulimit`, `--sysctl` and `--group-add`. The spec builder applies them.

use api_types::HostConfig;
use base::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

/// One `--ulimit name=soft[:hard]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

/// Docker's ulimit names and the kernel's resources.
const RLIMITS: &[(&str, &str, libc::__rlimit_resource_t)] = &[
    ("as", "RLIMIT_AS", libc::RLIMIT_AS),
    ("core", "RLIMIT_CORE", libc::RLIMIT_CORE),
    ("cpu", "RLIMIT_CPU", libc::RLIMIT_CPU),
    ("data", "RLIMIT_DATA", libc::RLIMIT_DATA),
    ("fsize", "RLIMIT_FSIZE", libc::RLIMIT_FSIZE),
    ("locks", "RLIMIT_LOCKS", libc::RLIMIT_LOCKS),
    ("memlock", "RLIMIT_MEMLOCK", libc::RLIMIT_MEMLOCK),
    ("msgqueue", "RLIMIT_MSGQUEUE", libc::RLIMIT_MSGQUEUE),
    ("nice", "RLIMIT_NICE", libc::RLIMIT_NICE),
    ("nofile", "RLIMIT_NOFILE", libc::RLIMIT_NOFILE),
    ("nproc", "RLIMIT_NPROC", libc::RLIMIT_NPROC),
    ("rss", "RLIMIT_RSS", libc::RLIMIT_RSS),
    ("rtprio", "RLIMIT_RTPRIO", libc::RLIMIT_RTPRIO),
    ("rttime", "RLIMIT_RTTIME", libc::RLIMIT_RTTIME),
    ("sigpending", "RLIMIT_SIGPENDING", libc::RLIMIT_SIGPENDING),
    ("stack", "RLIMIT_STACK", libc::RLIMIT_STACK),
];

impl Ulimit {
    pub fn rlimit(&self) -> &'static str {
        RLIMITS
            .iter()
            .find(|r| r.0 == self.name)
            .map(|r| r.1)
            .unwrap_or("RLIMIT_NOFILE")
    }
}

/// One `--device host[:container[:perms]]`, as the client sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DeviceMapping {
    pub path_on_host: String,
    pub path_in_container: String,
    pub cgroup_permissions: String,
}

/// A host device node as the runtime spec wants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub path: String,
    /// `c` or `b`.
    pub kind: char,
    pub major: u64,
    pub minor: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub access: String,
}

impl DeviceMapping {
    /// The host's node, checked as dockerd does.
    pub fn resolve(&self) -> Result<Device> {
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        let m = std::fs::metadata(&self.path_on_host).map_err(|e| {
            Error::invalid(format!(
                "error gathering device information while adding custom device {:?}: {e}",
                self.path_on_host
            ))
        })?;
        let kind = if m.file_type().is_char_device() {
            'c'
        } else if m.file_type().is_block_device() {
            'b'
        } else if m.is_dir() {
            return Err(Error::invalid(format!(
                "berth does not support --device with a directory ({}) yet",
                self.path_on_host
            )));
        } else {
            return Err(Error::invalid(format!(
                "error gathering device information while adding custom device {:?}: not a device node",
                self.path_on_host
            )));
        };
        let access = if self.cgroup_permissions.is_empty() {
            "rwm".to_string()
        } else {
            self.cgroup_permissions.clone()
        };
        if access.is_empty() || !access.chars().all(|c| "rwm".contains(c)) {
            return Err(Error::invalid(format!("invalid device mode: {access}")));
        }
        let rdev = m.rdev();
        Ok(Device {
            path: if self.path_in_container.is_empty() {
                self.path_on_host.clone()
            } else {
                self.path_in_container.clone()
            },
            kind,
            major: nix::sys::stat::major(rdev),
            minor: nix::sys::stat::minor(rdev),
            mode: m.mode() & 0o7777,
            uid: m.uid(),
            gid: m.gid(),
            access,
        })
    }
}

/// Every device node of the host's `/dev` (what `--privileged` gives, as
/// dockerd does), but the ones a container gets its own of.
pub fn host_devices() -> Vec<Device> {
    fn walk(dir: &std::path::Path, out: &mut Vec<Device>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else { continue };
            let rel = p
                .strip_prefix("/dev")
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            if ft.is_dir() {
                if !matches!(rel.as_str(), "pts" | "shm" | "mqueue" | "fd") {
                    walk(&p, out);
                }
                continue;
            }
            // The runtime makes these itself (the default devices).
            if matches!(
                rel.as_str(),
                "console" | "ptmx" | "tty" | "null" | "zero" | "full" | "random" | "urandom"
            ) || ft.is_symlink()
            {
                continue;
            }
            let m = DeviceMapping {
                path_on_host: p.to_string_lossy().into_owned(),
                ..Default::default()
            };
            if let Ok(d) = m.resolve() {
                out.push(d);
            }
        }
    }
    let mut out = Vec::new();
    walk(std::path::Path::new("/dev"), &mut out);
    out
}

#[derive(Debug, Clone, Default)]
pub struct KernelOpts {
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub swappiness: Option<i64>,
    pub oom_score_adj: i64,
    pub ulimits: Vec<Ulimit>,
    pub sysctls: BTreeMap<String, String>,
    pub group_add: Vec<String>,
    pub devices: Vec<DeviceMapping>,
}

fn field<T: serde::de::DeserializeOwned>(h: &HostConfig, k: &str) -> Result<Option<T>> {
    match h.extra.get(k) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| Error::invalid(format!("invalid {k}: {e}"))),
    }
}

impl KernelOpts {
    pub fn of(h: &HostConfig) -> Result<KernelOpts> {
        Ok(KernelOpts {
            cpuset_cpus: field::<String>(h, "CpusetCpus")?.filter(|s| !s.is_empty()),
            cpuset_mems: field::<String>(h, "CpusetMems")?.filter(|s| !s.is_empty()),
            swappiness: field::<i64>(h, "MemorySwappiness")?.filter(|s| *s >= 0),
            oom_score_adj: field::<i64>(h, "OomScoreAdj")?.unwrap_or(0),
            ulimits: field::<Vec<Ulimit>>(h, "Ulimits")?.unwrap_or_default(),
            sysctls: field::<BTreeMap<String, String>>(h, "Sysctls")?.unwrap_or_default(),
            group_add: field::<Vec<String>>(h, "GroupAdd")?.unwrap_or_default(),
            devices: field::<Vec<DeviceMapping>>(h, "Devices")?.unwrap_or_default(),
        })
    }

    /// dockerd's checks at create, with its words where it has them.
    pub fn validate(&self, ncpu: i64, host_network: bool) -> Result<()> {
        for d in &self.devices {
            d.resolve()?;
        }
        for (what, list, max) in [
            ("CPUs", &self.cpuset_cpus, ncpu),
            ("memory nodes", &self.cpuset_mems, mem_nodes()),
        ] {
            if let Some(l) = list {
                let ids = parse_list(l).ok_or_else(|| {
                    Error::invalid(format!("Invalid value {l} for cpuset {what}"))
                })?;
                if ids.iter().any(|i| *i >= max) {
                    let avail = if max <= 1 {
                        "0".to_string()
                    } else {
                        format!("0-{}", max - 1)
                    };
                    return Err(Error::invalid(format!(
                        "Requested {what} are not available - requested {l}, available: {avail}"
                    )));
                }
            }
        }
        if let Some(s) = self.swappiness {
            if s > 100 {
                return Err(Error::invalid(format!(
                    "Invalid value: {s}, valid memory swappiness range is 0-100"
                )));
            }
        }
        if !(-1000..=1000).contains(&self.oom_score_adj) {
            return Err(Error::invalid(format!(
                "Invalid value {}, range for oom score adj is [-1000, 1000]",
                self.oom_score_adj
            )));
        }
        for u in &self.ulimits {
            let Some(r) = RLIMITS.iter().find(|r| r.0 == u.name) else {
                return Err(Error::invalid(format!("invalid ulimit type: {}", u.name)));
            };
            if u.soft > u.hard {
                return Err(Error::invalid(format!(
                    "ulimit soft limit must be less than or equal to hard limit: {} > {}",
                    u.soft, u.hard
                )));
            }
            // A container cannot get more than the daemon has: say so
            // here rather than fail at start.
            let mut cur = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit writes into the struct we pass.
            if unsafe { libc::getrlimit(r.2, &mut cur) } == 0
                && cur.rlim_max != libc::RLIM_INFINITY
                && (u.hard < 0 || u.hard as u64 > cur.rlim_max)
            {
                return Err(Error::invalid(format!(
                    "ulimit {}: the hard limit {} is above the daemon's own hard limit {}; a container cannot be given more",
                    u.name, u.hard, cur.rlim_max
                )));
            }
        }
        for k in self.sysctls.keys() {
            let namespaced = k.starts_with("kernel.msg")
                || k == "kernel.sem"
                || k.starts_with("kernel.shm")
                || k.starts_with("fs.mqueue.")
                || k.starts_with("net.");
            if !namespaced {
                return Err(Error::invalid(format!(
                    "sysctl '{k}' is not allowed: only namespaced kernel parameters can be set in a container"
                )));
            }
            if host_network && k.starts_with("net.") {
                return Err(Error::invalid(format!(
                    "sysctl '{k}' is not allowed in host network mode"
                )));
            }
        }
        Ok(())
    }
}

/// A cpuset list (`0-2,4`) as ids, or None if malformed.
fn parse_list(l: &str) -> Option<Vec<i64>> {
    let mut out = Vec::new();
    for part in l.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (i64, i64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                if a > b {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.trim().parse().ok()?),
        }
    }
    Some(out)
}

fn mem_nodes() -> i64 {
    std::fs::read_dir("/sys/devices/system/node")
        .map(|d| {
            d.flatten()
                .filter(|e| {
                    let n = e.file_name();
                    let n = n.to_string_lossy();
                    n.starts_with("node") && n[4..].parse::<u32>().is_ok()
                })
                .count() as i64
        })
        .unwrap_or(1)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hc(extra: serde_json::Value) -> HostConfig {
        HostConfig {
            extra: extra.as_object().unwrap().clone(),
            ..Default::default()
        }
    }

    #[test]
    fn reads_and_checks_like_dockerd() {
        let k = KernelOpts::of(&hc(serde_json::json!({
            "CpusetCpus": "0", "MemorySwappiness": -1, "OomScoreAdj": 100,
            "Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 200}],
            "Sysctls": {"net.ipv4.ip_forward": "1"}, "GroupAdd": ["10"],
        })))
        .unwrap();
        assert_eq!(k.cpuset_cpus.as_deref(), Some("0"));
        assert_eq!(k.swappiness, None);
        assert_eq!(k.ulimits[0].rlimit(), "RLIMIT_NOFILE");
        k.validate(2, false).unwrap();
        assert!(k
            .validate(2, true)
            .unwrap_err()
            .message
            .contains("host network"));
        let bad = KernelOpts {
            cpuset_cpus: Some("5".into()),
            ..Default::default()
        };
        assert!(bad
            .validate(2, false)
            .unwrap_err()
            .message
            .contains("Requested CPUs are not available - requested 5, available: 0-1"));
        let bad = KernelOpts {
            sysctls: [("kernel.panic".to_string(), "1".to_string())].into(),
            ..Default::default()
        };
        assert!(bad.validate(2, false).is_err());
        let bad = KernelOpts {
            oom_score_adj: 2000,
            ..Default::default()
        };
        assert!(bad.validate(2, false).is_err());
        assert_eq!(parse_list("0-2,4"), Some(vec![0, 1, 2, 4]));
        assert_eq!(parse_list("x"), None);
    }
}
