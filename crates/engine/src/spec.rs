//! OCI runtime spec generation from a container's configuration, with
//! Docker's defaults (capabilities, masked paths, devices, mounts).

use crate::kernel_opts::{Device, KernelOpts};
use api_types::{ContainerConfig, HostConfig};
use base::{Error, Result};
use serde_json::{json, Value};
use std::path::Path;

/// Docker's default capability set.
pub const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Every capability, in the kernel's numbering order.
pub(crate) const ALL_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// /dev/shm's size when `--shm-size` is not given, as dockerd's.
pub const DEFAULT_SHM_SIZE: i64 = 64 << 20;

const MASKED: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];
const READONLY: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The paths masked and made read-only in the container, as dockerd
/// resolves them: none with `--privileged` (`None`: not set), the client's
/// `MaskedPaths`/`ReadonlyPaths` when given, none with `--security-opt
/// systempaths=unconfined`, Docker's defaults otherwise.
pub fn system_paths(h: &HostConfig) -> (Option<Vec<String>>, Option<Vec<String>>) {
    if h.privileged {
        return (None, None);
    }
    let unconfined = security_opts(h)
        .iter()
        .any(|o| o == "systempaths=unconfined");
    let pick = |key: &str, default: &[&str]| {
        let given = h.extra.get(key).and_then(Value::as_array).map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(String::from))
                .collect()
        });
        given.or_else(|| {
            Some(if unconfined {
                Vec::new()
            } else {
                default.iter().map(|p| p.to_string()).collect()
            })
        })
    };
    (pick("MaskedPaths", MASKED), pick("ReadonlyPaths", READONLY))
}

fn security_opts(h: &HostConfig) -> Vec<String> {
    h.extra
        .get("SecurityOpt")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

fn no_new_privileges(h: &HostConfig) -> bool {
    security_opts(h).iter().any(|o| {
        o == "no-new-privileges" || o == "no-new-privileges:true" || o == "no-new-privileges=true"
    })
}

pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Minimum memory limit Docker allows.
pub const MIN_MEMORY: i64 = 6 * 1024 * 1024;

/// Files of the container directory bind-mounted over the rootfs; the
/// runtime creates their mountpoints, empty, in the writable layer.
pub const BIND_MOUNTPOINTS: [&str; 3] = ["/etc/resolv.conf", "/etc/hostname", "/etc/hosts"];

/// Validates the resource settings of a host config as dockerd does at create.
pub fn validate_host_config(h: &HostConfig) -> Result<()> {
    if h.memory != 0 && h.memory < MIN_MEMORY {
        return Err(Error::invalid("Minimum memory limit allowed is 6MB"));
    }
    if h.memory < 0 {
        return Err(Error::invalid("invalid memory limit"));
    }
    if h.memory_swap > 0 && h.memory > 0 && h.memory_swap < h.memory {
        return Err(Error::invalid(
            "Minimum memoryswap limit should be larger than memory limit, see usage",
        ));
    }
    if h.nano_cpus < 0 {
        return Err(Error::invalid("invalid CPU value"));
    }
    if h.nano_cpus > 0 && (h.cpu_period > 0 || h.cpu_quota > 0) {
        return Err(Error::invalid(
            "Conflicting options: Nano CPUs and CPU Period cannot both be set",
        ));
    }
    let ncpu = host_cpus();
    if h.nano_cpus > ncpu * 1_000_000_000 {
        return Err(Error::invalid(format!(
            "Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
        )));
    }
    for c in h
        .cap_add
        .iter()
        .flatten()
        .chain(h.cap_drop.iter().flatten())
    {
        let norm = normalize_cap(c);
        if norm != "ALL" && !ALL_CAPS.contains(&norm.as_str()) {
            return Err(Error::invalid(format!("invalid capability: {c}")));
        }
    }
    let host = host_caps();
    for c in h.cap_add.iter().flatten() {
        let norm = normalize_cap(c);
        if norm != "ALL" && !host.contains(&norm.as_str()) {
            return Err(Error::invalid(format!(
                "cannot add capability {norm}: the daemon's own bounding set does not hold it, so no container on this host can have it"
            )));
        }
    }
    if h.memory_swap > 0 && h.memory == 0 {
        return Err(Error::invalid(
            "You should always set the Memory limit when using Memoryswap limit, see usage",
        ));
    }
    let k = crate::kernel_opts::KernelOpts::of(h)?;
    k.validate(ncpu, h.network_mode == "host")?;
    Ok(())
}

fn normalize_cap(c: &str) -> String {
    let up = c.to_ascii_uppercase();
    if up == "ALL" || up.starts_with("CAP_") {
        up
    } else {
        format!("CAP_{up}")
    }
}

/// The CPUs the daemon may use, read once as Go's `runtime.NumCPU` (which
/// dockerd checks `--cpus` against): std's answer reads the cgroup files
/// and the whole mountinfo, which grows with every running container.
fn host_cpus() -> i64 {
    static N: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *N.get_or_init(|| {
        std::thread::available_parallelism()
            .map(|n| n.get() as i64)
            .unwrap_or(1)
    })
}

/// The capabilities the daemon's bounding set holds (a container can
/// get no others; ALL_CAPS is in the kernel's numbering order), read once:
/// a process's bounding set only ever shrinks, and the daemon drops none.
fn host_caps() -> Vec<&'static str> {
    static BND: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    let bnd = *BND.get_or_init(|| {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("CapBnd:"))
                    .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
            })
            .unwrap_or(u64::MAX)
    });
    ALL_CAPS
        .iter()
        .enumerate()
        .filter(|(i, _)| bnd & (1u64 << i) != 0)
        .map(|(_, c)| *c)
        .collect()
}

fn capabilities(h: &HostConfig) -> Vec<String> {
    // `--privileged` and `--cap-add ALL`: all that the host's bounding set
    // allows (this host's lacks some; asking for them fails the start).
    let all = host_caps();
    if h.privileged {
        return all.iter().map(|s| s.to_string()).collect();
    }
    let add: Vec<String> = h
        .cap_add
        .iter()
        .flatten()
        .map(|c| normalize_cap(c))
        .collect();
    let drop: Vec<String> = h
        .cap_drop
        .iter()
        .flatten()
        .map(|c| normalize_cap(c))
        .collect();
    let base: Vec<&str> = if add.iter().any(|c| c == "ALL") {
        all.clone()
    } else {
        DEFAULT_CAPS.to_vec()
    };
    let mut caps: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    for a in add.into_iter().filter(|a| a != "ALL") {
        if !caps.contains(&a) {
            caps.push(a);
        }
    }
    if drop.iter().any(|c| c == "ALL") {
        caps.retain(|c| h.cap_add.iter().flatten().any(|a| normalize_cap(a) == *c));
    } else {
        caps.retain(|c| !drop.contains(c));
    }
    caps
}

/// Everything the spec needs besides the container's own config.
pub struct SpecInput<'a> {
    pub config: &'a ContainerConfig,
    pub host: &'a HostConfig,
    pub args: &'a [String],
    pub env: Vec<String>,
    pub user: crate::user::ExecUser,
    pub cwd: String,
    pub hostname: String,
    pub rootfs: &'a Path,
    pub container_dir: &'a Path,
    pub cgroups_path: String,
    /// Join this network namespace (None: a new one, unless `host_network`).
    pub netns: Option<&'a Path>,
    /// Share the host's network namespace.
    pub host_network: bool,
    /// The container's own mounts (binds, volumes, tmpfs), parents first.
    pub mounts: Vec<Value>,
    /// `--pid`: None a new namespace, Some(None) the host's, Some(Some(p))
    /// another container's (its `/proc/<pid>/ns/pid`).
    pub pid_ns: Option<Option<String>>,
    /// `--ipc`, the same way.
    pub ipc_ns: Option<Option<String>>,
    /// `--uts host`.
    pub host_uts: bool,
    /// The daemon's seccomp profile, for a container that names none.
    pub seccomp: &'a crate::seccomp::DaemonProfile,
}

/// `linux.resources`; `k` are the host config's kernel options and
/// `nodes` the device nodes the container gets (allowed in its cgroup).
fn resources(h: &HostConfig, k: &KernelOpts, nodes: &[Device]) -> Result<Value> {
    let mut r = json!({
        "devices": [
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 9, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 8, "access": "rwm"},
            {"allow": true, "type": "c", "major": 5, "minor": 0, "access": "rwm"},
            {"allow": true, "type": "c", "major": 5, "minor": 1, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 7, "access": "rwm"},
            {"allow": true, "type": "c", "major": 5, "minor": 2, "access": "rwm"},
            {"allow": true, "type": "c", "major": 136, "access": "rwm"},
            {"allow": false, "type": "c", "major": 10, "minor": 229, "access": "rwm"},
            // mknod of any node (opening it is another matter), as runc's
            // defaults allow; after the deny above, since runc's v1 device
            // rules cannot punch a hole in a wildcard.
            {"allow": true, "type": "c", "access": "m"},
            {"allow": true, "type": "b", "access": "m"},
        ],
    });
    if h.privileged {
        r["devices"] = json!([{"allow": true, "access": "rwm"}]);
    } else {
        // `--device`: allowed in the device cgroup too.
        for d in nodes {
            r["devices"].as_array_mut().expect("a list").push(json!({
                "allow": true, "type": d.kind.to_string(), "major": d.major,
                "minor": d.minor, "access": d.access,
            }));
        }
        // `--device-cgroup-rule`.
        for rule in &k.device_rules {
            let mut d =
                json!({"allow": true, "type": rule.kind.to_string(), "access": rule.access});
            if let Some(m) = rule.major {
                d["major"] = json!(m);
            }
            if let Some(m) = rule.minor {
                d["minor"] = json!(m);
            }
            r["devices"].as_array_mut().expect("a list").push(d);
        }
    }
    if let Some(io) = k.block_io()? {
        r["blockIO"] = io;
    }
    let mut memory = serde_json::Map::new();
    if h.memory > 0 {
        let swap = match h.memory_swap {
            0 => h.memory * 2,
            s => s,
        };
        memory.insert("limit".into(), json!(h.memory));
        memory.insert("swap".into(), json!(swap));
    }
    if h.memory_reservation > 0 {
        memory.insert("reservation".into(), json!(h.memory_reservation));
    }
    if let Some(sw) = k.swappiness {
        memory.insert("swappiness".into(), json!(sw));
    }
    if k.oom_kill_disable {
        memory.insert("disableOOMKiller".into(), json!(true));
    }
    if k.kernel_memory_tcp > 0 {
        memory.insert("kernelTCP".into(), json!(k.kernel_memory_tcp));
    }
    if !memory.is_empty() {
        r["memory"] = Value::Object(memory);
    }
    let mut cpu = serde_json::Map::new();
    if h.cpu_shares > 0 {
        cpu.insert("shares".into(), json!(h.cpu_shares));
    }
    if h.nano_cpus > 0 {
        let period = 100_000i64;
        cpu.insert("period".into(), json!(period));
        cpu.insert("quota".into(), json!(h.nano_cpus * period / 1_000_000_000));
    } else {
        if h.cpu_period > 0 {
            cpu.insert("period".into(), json!(h.cpu_period));
        }
        if h.cpu_quota > 0 {
            cpu.insert("quota".into(), json!(h.cpu_quota));
        }
    }
    if let Some(c) = &k.cpuset_cpus {
        cpu.insert("cpus".into(), json!(c));
    }
    if let Some(m) = &k.cpuset_mems {
        cpu.insert("mems".into(), json!(m));
    }
    if !cpu.is_empty() {
        r["cpu"] = Value::Object(cpu);
    }
    if let Some(p) = h.pids_limit.filter(|p| *p != 0) {
        r["pids"] = json!({"limit": if p < 0 { -1 } else { p }});
    }
    Ok(r)
}

fn namespaces(i: &SpecInput) -> Value {
    let mut ns = vec![json!({"type": "mount"})];
    match (i.netns, i.host_network) {
        (_, true) => {}
        (Some(p), false) => ns.push(json!({"type": "network", "path": p})),
        (None, false) => ns.push(json!({"type": "network"})),
    }
    if !i.host_network && !i.host_uts {
        ns.push(json!({"type": "uts"}));
    }
    // `--cgroupns private`: a cgroup namespace of its own.
    if i.host.extra.get("CgroupnsMode").and_then(|v| v.as_str()) == Some("private") {
        ns.push(json!({"type": "cgroup"}));
    }
    for (kind, mode) in [("pid", &i.pid_ns), ("ipc", &i.ipc_ns)] {
        match mode {
            None => ns.push(json!({"type": kind})),
            Some(None) => {}
            Some(Some(path)) => ns.push(json!({"type": kind, "path": path})),
        }
    }
    json!(ns)
}

/// Builds the OCI runtime spec (config.json) of a container.
pub fn build(i: &SpecInput) -> Result<Value> {
    if i.args.is_empty() {
        return Err(Error::invalid("no command specified"));
    }
    let caps = capabilities(i.host);
    let shm = if i.host.shm_size > 0 {
        i.host.shm_size
    } else {
        DEFAULT_SHM_SIZE
    };
    let bind = |name: &str, dst: &str| json!({"destination": dst, "type": "bind", "source": i.container_dir.join(name), "options": ["rbind", "rprivate"]});
    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}),
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", format!("size={shm}")]}),
        bind("resolv.conf", "/etc/resolv.conf"),
        bind("hostname", "/etc/hostname"),
        bind("hosts", "/etc/hosts"),
    ];
    if i.host.privileged {
        mounts[3]["options"] = json!(["nosuid", "noexec", "nodev"]);
    }
    // `--ipc none`: a private IPC namespace without /dev/shm, as dockerd.
    if i.host.extra.get("IpcMode").and_then(|v| v.as_str()) == Some("none") {
        mounts.retain(|m| m["destination"] != "/dev/shm");
    }
    // A user mount over one of the defaults replaces it, as in dockerd.
    mounts.retain(|d| {
        !i.mounts
            .iter()
            .any(|m| m["destination"] == d["destination"])
    });
    mounts.extend(i.mounts.iter().cloned());
    let mut process = json!({
        "terminal": i.config.tty,
        "user": {"uid": i.user.uid, "gid": i.user.gid},
        "args": i.args,
        "env": i.env,
        "cwd": i.cwd,
        "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
        "oomScoreAdj": 0,
    });
    let k = KernelOpts::of(i.host)?;
    // The device nodes: `--privileged` gets the host's, as dockerd does.
    let mut nodes = if i.host.privileged {
        crate::kernel_opts::host_devices()
    } else {
        Vec::new()
    };
    for d in &k.devices {
        nodes.push(d.resolve()?);
    }
    process["oomScoreAdj"] = json!(k.oom_score_adj);
    if !k.ulimits.is_empty() {
        process["rlimits"] = json!(k
            .ulimits
            .iter()
            .map(|u| json!({"type": u.rlimit(), "soft": u.soft, "hard": u.hard}))
            .collect::<Vec<_>>());
    }
    if !i.user.additional_gids.is_empty() {
        process["user"]["additionalGids"] = json!(i.user.additional_gids);
    }
    // `noNewPrivileges` stays absent unless asked for: libcontainer loads
    // seccomp before dropping capabilities only when the key is absent.
    if no_new_privileges(i.host) {
        process["noNewPrivileges"] = json!(true);
    }
    let mut linux = json!({
        "resources": resources(i.host, &k, &nodes)?,
        "cgroupsPath": i.cgroups_path,
        "namespaces": namespaces(i),
    });
    let (masked, readonly) = system_paths(i.host);
    linux["maskedPaths"] = json!(masked.unwrap_or_default());
    linux["readonlyPaths"] = json!(readonly.unwrap_or_default());
    // Docker's default profile (or the one asked for), for the final
    // capability set: capabilities open syscalls.
    let choice = crate::seccomp::Choice::of(security_opts(i.host).iter().map(String::as_str))?;
    if let Some(profile) =
        crate::seccomp::for_container(&choice, i.seccomp, i.host.privileged, &caps)?
    {
        linux["seccomp"] = serde_json::to_value(profile)
            .map_err(|e| Error::internal(format!("seccomp profile: {e}")))?;
    }
    let mut sysctls = k.sysctls.clone();
    if i.netns.is_none() && !i.host_network && network::kernel::host_has_ipv6() {
        // `--network none`: the runtime makes the namespace. IPv6 off in
        // it, as dockerd has it (and as berth's own namespaces are made);
        // the container's own `--sysctl` wins.
        for conf in network::kernel::IPV6_OFF {
            sysctls
                .entry(format!("net.ipv6.conf.{conf}.disable_ipv6"))
                .or_insert_with(|| "1".into());
        }
    }
    if !sysctls.is_empty() {
        linux["sysctl"] = json!(sysctls);
    }
    if !nodes.is_empty() {
        linux["devices"] = json!(nodes
            .iter()
            .map(|d| json!({
                "path": d.path, "type": d.kind.to_string(), "major": d.major,
                "minor": d.minor, "fileMode": d.mode, "uid": d.uid, "gid": d.gid,
            }))
            .collect::<Vec<_>>());
    }
    let mut spec = json!({
        "ociVersion": "1.2.0",
        "process": process,
        "root": {"path": i.rootfs, "readonly": i.host.readonly_rootfs},
        "hostname": i.hostname,
        "mounts": mounts,
        "linux": linux,
    });
    if i.host_network || i.host_uts {
        // The host's UTS namespace: no hostname of its own.
        spec.as_object_mut().unwrap().remove("hostname");
    } else if !i.config.domainname.is_empty() {
        spec["domainname"] = json!(i.config.domainname);
    }
    // `--annotation`: the runtime's state carries them, as with dockerd.
    if let Some(a) = i.host.extra.get("Annotations").filter(|a| a.is_object()) {
        if a.as_object().is_some_and(|a| !a.is_empty()) {
            spec["annotations"] = a.clone();
        }
    }
    // The runtime reads this with oci-spec's types; check the shape here.
    serde_json::from_value::<oci_spec::runtime::Spec>(spec.clone())
        .map_err(|e| Error::internal(format!("generated an invalid runtime spec: {e}")))?;
    Ok(spec)
}

/// The `process` object of an exec, inheriting the container's spec.
pub fn exec_process(
    container_spec: &Value,
    args: &[String],
    env: Vec<String>,
    cwd: &str,
    user: crate::user::ExecUser,
    tty: bool,
) -> Value {
    let mut p = container_spec["process"].clone();
    p["args"] = json!(args);
    p["env"] = json!(env);
    p["cwd"] = json!(cwd);
    p["terminal"] = json!(tty);
    p["user"] = json!({"uid": user.uid, "gid": user.gid});
    if !user.additional_gids.is_empty() {
        p["user"]["additionalGids"] = json!(user.additional_gids);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(c: &'a ContainerConfig, h: &'a HostConfig, args: &'a [String]) -> SpecInput<'a> {
        SpecInput {
            config: c,
            host: h,
            args,
            env: vec![DEFAULT_PATH.into()],
            user: crate::user::ExecUser {
                uid: 0,
                gid: 0,
                additional_gids: vec![],
                home: "/root".into(),
            },
            cwd: "/".into(),
            hostname: "abc".into(),
            rootfs: Path::new("/r"),
            container_dir: Path::new("/c"),
            cgroups_path: "/berth/abc".into(),
            netns: None,
            host_network: false,
            mounts: vec![],
            pid_ns: None,
            ipc_ns: None,
            host_uts: false,
            seccomp: &crate::seccomp::DaemonProfile::Builtin,
        }
    }

    #[test]
    fn limits_and_caps() {
        let c = ContainerConfig::default();
        let h = HostConfig {
            memory: 64 << 20,
            nano_cpus: 1_500_000_000,
            pids_limit: Some(10),
            cap_drop: Some(vec!["net_raw".into()]),
            ..Default::default()
        };
        let args = vec!["true".to_string()];
        let s = build(&input(&c, &h, &args)).unwrap();
        let r = &s["linux"]["resources"];
        assert_eq!(r["memory"]["limit"], 64 << 20);
        assert_eq!(r["memory"]["swap"], 128 << 20);
        assert_eq!(r["cpu"]["quota"], 150000);
        assert_eq!(r["pids"]["limit"], 10);
        let caps = s["process"]["capabilities"]["bounding"].as_array().unwrap();
        assert!(!caps.contains(&json!("CAP_NET_RAW")) && caps.contains(&json!("CAP_CHOWN")));
        assert_eq!(s["linux"]["cgroupsPath"], "/berth/abc");
        assert_eq!(s["linux"]["seccomp"]["defaultAction"], "SCMP_ACT_ERRNO");
        let mut h = HostConfig::default();
        h.extra
            .insert("SecurityOpt".into(), json!(["seccomp=unconfined"]));
        assert!(build(&input(&c, &h, &args)).unwrap()["linux"]
            .get("seccomp")
            .is_none());
    }

    /// The names the container's profile allows without conditions.
    fn allowed(s: &Value) -> Vec<String> {
        s["linux"]["seccomp"]["syscalls"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["action"] == "SCMP_ACT_ALLOW" && r.get("args").is_none())
            .flat_map(|r| r["names"].as_array().unwrap().clone())
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn seccomp_follows_the_final_capabilities_and_the_options() {
        let c = ContainerConfig::default();
        let args = vec!["true".to_string()];
        let spec = |h: &HostConfig| build(&input(&c, h, &args)).unwrap();
        let plain = spec(&HostConfig::default());
        assert_eq!(plain["linux"]["seccomp"]["defaultErrnoRet"], 1);
        assert!(!allowed(&plain).contains(&"unshare".to_string()));
        assert!(allowed(&plain).contains(&"mkdir".to_string()));
        let admin = spec(&HostConfig {
            cap_add: Some(vec!["SYS_ADMIN".into()]),
            ..Default::default()
        });
        assert!(allowed(&admin).contains(&"unshare".to_string()));
        // Added, then dropped: the final set decides.
        let dropped = spec(&HostConfig {
            cap_add: Some(vec!["sys_admin".into()]),
            cap_drop: Some(vec!["CAP_SYS_ADMIN".into()]),
            ..Default::default()
        });
        assert!(!allowed(&dropped).contains(&"unshare".to_string()));
        let chroot_dropped = spec(&HostConfig {
            cap_drop: Some(vec!["ALL".into()]),
            ..Default::default()
        });
        assert!(!allowed(&chroot_dropped).contains(&"chroot".to_string()));
        assert!(allowed(&plain).contains(&"chroot".to_string()));
        // --privileged: none, unless one is named.
        let privileged = HostConfig {
            privileged: true,
            ..Default::default()
        };
        assert!(spec(&privileged)["linux"].get("seccomp").is_none());
        let mut named = privileged.clone();
        named.extra.insert(
            "SecurityOpt".into(),
            json!([r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#]),
        );
        assert_eq!(
            spec(&named)["linux"]["seccomp"],
            json!({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]})
        );
        // The daemon's setting, for containers that name none.
        let h = HostConfig::default();
        let mut i = input(&c, &h, &args);
        i.seccomp = &crate::seccomp::DaemonProfile::Unconfined;
        assert!(build(&i).unwrap()["linux"].get("seccomp").is_none());
        let mut h = HostConfig::default();
        h.extra
            .insert("SecurityOpt".into(), json!(["seccomp=builtin"]));
        let mut i = input(&c, &h, &args);
        i.seccomp = &crate::seccomp::DaemonProfile::Unconfined;
        assert!(build(&i).unwrap()["linux"].get("seccomp").is_some());
    }

    #[test]
    fn validation() {
        let small = HostConfig {
            memory: 1024,
            ..Default::default()
        };
        assert_eq!(
            validate_host_config(&small).unwrap_err().message,
            "Minimum memory limit allowed is 6MB"
        );
        assert!(validate_host_config(&HostConfig {
            cap_add: Some(vec!["bogus".into()]),
            ..Default::default()
        })
        .is_err());
        let c = ContainerConfig::default();
        let h = HostConfig::default();
        assert_eq!(
            build(&input(&c, &h, &[])).unwrap_err().message,
            "no command specified"
        );
    }
}
