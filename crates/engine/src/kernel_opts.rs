//! The resource and kernel options of a host config that have no typed
//! member (they arrive in `HostConfig.extra`), read and checked as dockerd
//! does: `--cpuset-cpus|mems`, `--memory-swappiness`, `--oom-score-adj`,
//! `--ulimit`, `--sysctl`, `--group-add`, `--device`, `--device-cgroup-rule`,
//! the blkio weights and throttles, `--oom-kill-disable`,
//! `--kernel-memory-tcp` and `--cgroup-parent`. The spec builder applies
//! them; [`adapt`] drops what this host's cgroups cannot do, with dockerd's
//! warnings.

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

/// One `--device-cgroup-rule 'c 1:3 rwm'`: `None` is `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRule {
    pub kind: char,
    pub major: Option<i64>,
    pub minor: Option<i64>,
    pub access: String,
}

impl DeviceRule {
    /// dockerd's format: `^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$`.
    pub fn parse(s: &str) -> Result<DeviceRule> {
        let bad = || Error::invalid(format!("invalid device cgroup rule format: '{s}'"));
        let mut parts = s.split(' ');
        let (Some(kind), Some(numbers), Some(access), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let kind = match kind {
            "a" | "b" | "c" => kind.chars().next().unwrap_or('a'),
            _ => return Err(bad()),
        };
        let number = |n: &str| -> Result<Option<i64>> {
            match n {
                "*" => Ok(None),
                n if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                    n.parse().map(Some).map_err(|_| bad())
                }
                _ => Err(bad()),
            }
        };
        let (major, minor) = numbers.split_once(':').ok_or_else(bad)?;
        if access.is_empty() || access.len() > 3 || !access.chars().all(|c| "rwm".contains(c)) {
            return Err(bad());
        }
        Ok(DeviceRule {
            kind,
            major: number(major)?,
            minor: number(minor)?,
            access: access.to_string(),
        })
    }
}

/// One `--blkio-weight-device path:weight`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WeightDevice {
    pub path: String,
    pub weight: u16,
}

/// One `--device-read-bps|write-bps|read-iops|write-iops path:rate`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ThrottleDevice {
    pub path: String,
    pub rate: u64,
}

/// A block device's numbers, from `stat` of its path, as dockerd reads them.
pub fn block_numbers(path: &str) -> Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).map_err(|e| {
        // Go's wording: "stat /dev/x: no such file or directory".
        let why = match e.raw_os_error() {
            Some(n) => nix::errno::Errno::from_raw(n).desc().to_lowercase(),
            None => e.to_string(),
        };
        Error::invalid(format!("stat {path}: {why}"))
    })?;
    Ok((
        nix::sys::stat::major(m.rdev()),
        nix::sys::stat::minor(m.rdev()),
    ))
}

/// The throttle lists of a host config, in the order of the spec's
/// `blockIO` keys.
pub const THROTTLES: [(&str, &str); 4] = [
    ("BlkioDeviceReadBps", "throttleReadBpsDevice"),
    ("BlkioDeviceWriteBps", "throttleWriteBpsDevice"),
    ("BlkioDeviceReadIOps", "throttleReadIOPSDevice"),
    ("BlkioDeviceWriteIOps", "throttleWriteIOPSDevice"),
];

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
    pub device_rules: Vec<DeviceRule>,
    pub blkio_weight: u16,
    pub weight_devices: Vec<WeightDevice>,
    /// [`THROTTLES`]' lists, in that order.
    pub throttles: [Vec<ThrottleDevice>; 4],
    pub oom_kill_disable: bool,
    pub kernel_memory_tcp: i64,
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
            device_rules: field::<Vec<String>>(h, "DeviceCgroupRules")?
                .unwrap_or_default()
                .iter()
                .map(|r| DeviceRule::parse(r))
                .collect::<Result<_>>()?,
            blkio_weight: field::<u16>(h, "BlkioWeight")?.unwrap_or(0),
            weight_devices: field::<Vec<WeightDevice>>(h, "BlkioWeightDevice")?.unwrap_or_default(),
            throttles: [0, 1, 2, 3].map(|i| {
                field::<Vec<ThrottleDevice>>(h, THROTTLES[i].0)
                    .ok()
                    .flatten()
                    .unwrap_or_default()
            }),
            oom_kill_disable: field::<bool>(h, "OomKillDisable")?.unwrap_or(false),
            kernel_memory_tcp: field::<i64>(h, "KernelMemoryTCP")?.unwrap_or(0),
        })
    }

    /// `linux.resources.blockIO`, or None when nothing is set.
    pub fn block_io(&self) -> Result<Option<serde_json::Value>> {
        let mut io = serde_json::Map::new();
        if self.blkio_weight > 0 {
            io.insert("weight".into(), self.blkio_weight.into());
        }
        if !self.weight_devices.is_empty() {
            let mut list = Vec::new();
            for d in &self.weight_devices {
                let (major, minor) = block_numbers(&d.path)?;
                list.push(serde_json::json!({"major": major, "minor": minor, "weight": d.weight}));
            }
            io.insert("weightDevice".into(), list.into());
        }
        for (i, (_, key)) in THROTTLES.iter().enumerate() {
            if self.throttles[i].is_empty() {
                continue;
            }
            let mut list = Vec::new();
            for d in &self.throttles[i] {
                let (major, minor) = block_numbers(&d.path)?;
                list.push(serde_json::json!({"major": major, "minor": minor, "rate": d.rate}));
            }
            io.insert((*key).into(), list.into());
        }
        Ok((!io.is_empty()).then_some(serde_json::Value::Object(io)))
    }

    /// dockerd's checks at create, with its words where it has them.
    pub fn validate(&self, ncpu: i64, host_network: bool) -> Result<()> {
        for d in &self.devices {
            d.resolve()?;
        }
        self.block_io()?;
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

/// The cgroup `id` under `parent`, always absolute and with `..` resolved
/// inside the hierarchy, as Go's filepath.Join does.
pub fn cgroups_path(parent: &str, id: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in parent.split('/').chain(std::iter::once(id)) {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// What this host's cgroups can do of the options [`adapt`] looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgroupSupport {
    pub blkio_weight: bool,
    pub blkio_weight_device: bool,
    /// In [`THROTTLES`]' order.
    pub throttles: [bool; 4],
    pub oom_kill_disable: bool,
    pub kernel_memory_tcp: bool,
}

impl CgroupSupport {
    /// This host's, probed once.
    pub fn host() -> CgroupSupport {
        static HOST: std::sync::OnceLock<CgroupSupport> = std::sync::OnceLock::new();
        *HOST.get_or_init(CgroupSupport::probe)
    }

    /// Read off the mounted hierarchies: v1's controller files, or v2's.
    pub fn probe() -> CgroupSupport {
        let v1 = std::path::Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists();
        let has = |p: &str| std::path::Path::new("/sys/fs/cgroup").join(p).exists();
        if v1 {
            let throttle = |f: &str| has(&format!("blkio/blkio.throttle.{f}"));
            CgroupSupport {
                blkio_weight: has("blkio/blkio.weight") || has("blkio/blkio.bfq.weight"),
                blkio_weight_device: has("blkio/blkio.weight_device")
                    || has("blkio/blkio.bfq.weight_device"),
                throttles: [
                    throttle("read_bps_device"),
                    throttle("write_bps_device"),
                    throttle("read_iops_device"),
                    throttle("write_iops_device"),
                ],
                oom_kill_disable: has("memory/memory.oom_control"),
                kernel_memory_tcp: has("memory/memory.kmem.tcp.limit_in_bytes"),
            }
        } else {
            let io = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
                .is_ok_and(|c| c.split_whitespace().any(|c| c == "io"));
            CgroupSupport {
                blkio_weight: io,
                blkio_weight_device: io,
                throttles: [io; 4],
                oom_kill_disable: false,
                kernel_memory_tcp: false,
            }
        }
    }
}

/// Drops from `h` what `support` says this host cannot apply, with
/// dockerd's warnings (dockerd discards them the same way), and checks
/// the ranges dockerd checks.
pub fn adapt(h: &mut HostConfig, support: CgroupSupport) -> Result<Vec<String>> {
    let k = KernelOpts::of(h)?;
    let mut warnings = Vec::new();
    let mut set = |h: &mut HostConfig, key: &str, empty: serde_json::Value, warning: &str| {
        h.extra.insert(key.into(), empty);
        warnings.push(warning.to_string());
    };
    if k.blkio_weight > 0 && !support.blkio_weight {
        set(h, "BlkioWeight", 0.into(), "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.");
    } else if k.blkio_weight > 0 && !(10..=1000).contains(&k.blkio_weight) {
        return Err(Error::invalid("Range of blkio weight is from 10 to 1000"));
    }
    if !k.weight_devices.is_empty() && !support.blkio_weight_device {
        set(h, "BlkioWeightDevice", serde_json::json!([]), "Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.");
    }
    let throttle_warnings = [
        "Your kernel does not support BPS Block I/O read limit or the cgroup is not mounted. Block I/O BPS read limit discarded.",
        "Your kernel does not support BPS Block I/O write limit or the cgroup is not mounted. Block I/O BPS write limit discarded.",
        "Your kernel does not support IOPS Block read limit or the cgroup is not mounted. Block I/O IOPS read limit discarded.",
        "Your kernel does not support IOPS Block write limit or the cgroup is not mounted. Block I/O IOPS write limit discarded.",
    ];
    for (i, (key, _)) in THROTTLES.iter().enumerate() {
        if !k.throttles[i].is_empty() && !support.throttles[i] {
            set(h, key, serde_json::json!([]), throttle_warnings[i]);
        }
    }
    if k.oom_kill_disable && !support.oom_kill_disable {
        set(
            h,
            "OomKillDisable",
            false.into(),
            "Your kernel does not support OomKillDisable. OomKillDisable discarded.",
        );
    } else if k.oom_kill_disable && h.memory == 0 {
        set(h, "OomKillDisable", true.into(), "OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.");
    }
    // `--kernel-memory`: not in the API since 1.42 (the kernel deprecated
    // kmem.limit_in_bytes in 5.4); dockerd drops it without a word, berth
    // says so.
    if h.extra
        .get("KernelMemory")
        .and_then(|v| v.as_i64())
        .unwrap_or(0)
        != 0
    {
        set(h, "KernelMemory", 0.into(), "The kernel memory limit (--kernel-memory) is not applied: the Engine API dropped it in v1.42, as the kernel deprecated it. Limit discarded.");
    }
    if k.kernel_memory_tcp != 0 && !support.kernel_memory_tcp {
        set(h, "KernelMemoryTCP", 0.into(), "Your kernel does not support kernel memory TCP limit capabilities or the cgroup is not mounted. Limitation discarded.");
    }
    Ok(warnings)
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
    fn device_rules_parse_as_dockerd_reads_them() {
        assert_eq!(
            DeviceRule::parse("c 1:3 mr").unwrap(),
            DeviceRule {
                kind: 'c',
                major: Some(1),
                minor: Some(3),
                access: "mr".into()
            }
        );
        assert_eq!(
            DeviceRule::parse("a *:* rwm").unwrap(),
            DeviceRule {
                kind: 'a',
                major: None,
                minor: None,
                access: "rwm".into()
            }
        );
        for bad in [
            "c 1:3",
            "x 1:3 r",
            "c 1-3 r",
            "c 1:3 rwx",
            "c a:3 r",
            "c 1:3 rwmr",
            "c  1:3 r",
        ] {
            let e = DeviceRule::parse(bad).unwrap_err();
            assert!(
                e.message.contains("invalid device cgroup rule format"),
                "{bad}"
            );
        }
    }

    #[test]
    fn cgroups_paths_stay_inside_the_hierarchy() {
        assert_eq!(cgroups_path("/berth", "abc"), "/berth/abc");
        assert_eq!(cgroups_path("mine/", "abc"), "/mine/abc");
        assert_eq!(cgroups_path("../../x/./y", "abc"), "/x/y/abc");
        assert_eq!(cgroups_path("/", "abc"), "/abc");
    }

    #[test]
    fn what_the_host_cannot_do_is_discarded_with_a_warning() {
        let none = CgroupSupport {
            blkio_weight: false,
            blkio_weight_device: false,
            throttles: [false; 4],
            oom_kill_disable: false,
            kernel_memory_tcp: false,
        };
        let mut h = hc(serde_json::json!({
            "BlkioWeight": 300, "OomKillDisable": true, "KernelMemoryTCP": 1024,
            "BlkioDeviceReadBps": [{"Path": "/dev/x", "Rate": 1}],
        }));
        let w = adapt(&mut h, none).unwrap();
        assert_eq!(w.len(), 4, "{w:?}");
        let k = KernelOpts::of(&h).unwrap();
        assert_eq!(
            (
                k.blkio_weight,
                k.oom_kill_disable,
                k.kernel_memory_tcp,
                k.throttles[0].len()
            ),
            (0, false, 0, 0)
        );
        let all = CgroupSupport {
            blkio_weight: true,
            blkio_weight_device: true,
            throttles: [true; 4],
            oom_kill_disable: true,
            kernel_memory_tcp: true,
        };
        let mut h = hc(serde_json::json!({"KernelMemory": 1 << 20}));
        assert_eq!(adapt(&mut h, all).unwrap().len(), 1);
        assert_eq!(h.extra["KernelMemory"], 0);
        let mut h = hc(serde_json::json!({"BlkioWeight": 5}));
        assert!(adapt(&mut h, all)
            .unwrap_err()
            .message
            .contains("from 10 to 1000"));
        let mut h = hc(serde_json::json!({"BlkioWeight": 500, "OomKillDisable": true}));
        let w = adapt(&mut h, all).unwrap();
        assert_eq!(w.len(), 1, "no memory limit: {w:?}");
        let k = KernelOpts::of(&h).unwrap();
        assert_eq!((k.blkio_weight, k.oom_kill_disable), (500, true));
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
