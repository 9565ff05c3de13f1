//! Adjustments to the caller's spec before libcontainer sees it.
//!
//! libcontainer reads `config.json` straight from the bundle, so when the
//! spec needs changing we write an adjusted copy (a "shadow" bundle whose
//! root points at the original rootfs) and create the container from that.
//! The caller's bundle is never modified. Among the adjustments:
//!
//! * rlimits above the current hard limit are clamped to it when we lack
//!   CAP_SYS_RESOURCE (raising a hard limit would fail with EPERM);
//! * a missing or empty `linux.cgroupsPath` gets `/berth-runtime/<id>`
//!   (libcontainer would otherwise use `:youki:<id>` or, for an empty path,
//!   the runtime's own cgroup);
//! * a mount destination that leads through a dangling symlink of the
//!   image names the place it leads to (crate::mount_dest), as runc
//!   mounts it.
//!
//! The JSON is edited as a `serde_json::Value`, so fields that oci-spec does
//! not know survive the copy.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use libcontainer::oci_spec::runtime::{LinuxCapabilities, LinuxSeccomp};
use serde_json::Value;

/// Where the spec libcontainer should use lives.
pub struct Prepared {
    /// Bundle directory to hand to libcontainer (the caller's, or a shadow).
    pub bundle: PathBuf,
    /// The shadow bundle directory, if one was written.
    pub shadow: Option<PathBuf>,
    /// Absolute rootfs path.
    pub rootfs: PathBuf,
    /// `ociVersion` of the spec.
    pub oci_version: String,
    /// `process.terminal` of the spec.
    pub terminal: bool,
    /// The keys of `linux.sysctl`.
    pub sysctls: Vec<String>,
    /// `process.cwd` of the spec.
    pub cwd: String,
    /// `linux.resources.memory.disableOOMKiller`, which libcontainer does
    /// not apply: [`disable_oom_killer`] does.
    pub disable_oom_killer: bool,
    /// `linux.seccomp`, taken out of the spec libcontainer gets: the
    /// executor loads it compiled ahead (crate::seccomp), and it is kept
    /// beside the adjusted spec (`seccomp.json`) for execs.
    pub seccomp: Option<LinuxSeccomp>,
    /// The process's own capabilities when CAP_SYS_ADMIN and CAP_SETPCAP
    /// were added for loading the profile (without no_new_privs): the
    /// executor sets them once it is loaded.
    pub restore_caps: Option<LinuxCapabilities>,
}

/// The file beside an adjusted spec that keeps its seccomp profile.
pub const SECCOMP_FILE: &str = "seccomp.json";

/// Adds CAP_SYS_ADMIN and CAP_SETPCAP to a process's bounding, effective
/// and permitted sets so that it can load a seccomp filter without
/// no_new_privs (and then drop them); returns its own sets to restore, or
/// `None` when nothing is needed (no_new_privs, or no capabilities object:
/// the process keeps the runtime's, all of them).
pub fn widen_for_seccomp(process: &mut Value) -> Result<Option<LinuxCapabilities>> {
    let nnp = process.get("noNewPrivileges").and_then(Value::as_bool) == Some(true);
    let Some(caps) = process.get_mut("capabilities").filter(|c| c.is_object()) else {
        return Ok(None);
    };
    if nnp {
        return Ok(None);
    }
    let own = serde_json::from_value(caps.clone()).context("process capabilities")?;
    for set in ["bounding", "effective", "permitted"] {
        if let Some(list) = caps.get_mut(set).and_then(Value::as_array_mut) {
            for cap in ["CAP_SYS_ADMIN", "CAP_SETPCAP"] {
                if !list.iter().any(|c| c == cap) {
                    list.push(cap.into());
                }
            }
        }
    }
    Ok(Some(own))
}

pub fn default_cgroups_path(id: &str) -> String {
    format!("/berth-runtime/{id}")
}

/// Reads `bundle/config.json` and, if it needs adjusting, writes the shadow
/// bundle `shadow_dir` with the adjusted copy.
pub fn prepare(bundle: &Path, id: &str, shadow_dir: &Path) -> Result<Prepared> {
    let config_path = bundle.join("config.json");
    let data = fs::read(&config_path).with_context(|| format!("read {}", config_path.display()))?;
    let mut spec: Value = serde_json::from_slice(&data)
        .with_context(|| format!("parse {}", config_path.display()))?;

    let root_path = spec
        .pointer("/root/path")
        .and_then(Value::as_str)
        .context("config.json: root.path is missing")?;
    let rootfs = if Path::new(root_path).is_absolute() {
        PathBuf::from(root_path)
    } else {
        bundle.join(root_path)
    };
    let oci_version = spec
        .get("ociVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let terminal = spec
        .pointer("/process/terminal")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let sysctls = spec
        .pointer("/linux/sysctl")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let cwd = spec
        .pointer("/process/cwd")
        .and_then(Value::as_str)
        .unwrap_or("/")
        .to_string();
    let disable_oom_killer = spec
        .pointer("/linux/resources/memory/disableOOMKiller")
        .and_then(Value::as_bool)
        .unwrap_or(false);

    let mut changed = false;
    let mut seccomp = None;
    let mut seccomp_json = None;
    if let Some(linux) = spec.get_mut("linux").and_then(Value::as_object_mut) {
        if let Some(v) = linux.get("seccomp").filter(|v| !v.is_null()) {
            let profile: LinuxSeccomp =
                serde_json::from_value(v.clone()).context("config.json: linux.seccomp")?;
            if crate::seccomp::cacheable(&profile) {
                seccomp_json = linux.remove("seccomp");
                seccomp = Some(profile);
                changed = true;
            }
        }
        let missing = linux
            .get("cgroupsPath")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if missing {
            linux.insert("cgroupsPath".into(), default_cgroups_path(id).into());
            changed = true;
        }
    }
    // Destinations through a dangling symlink of the image: where they
    // lead, as runc mounts them (see crate::mount_dest).
    if let Some(mounts) = spec.get_mut("mounts").and_then(Value::as_array_mut) {
        let root = crate::mount_dest::open_root(&rootfs)?;
        for m in mounts {
            let Some(dest) = m.get("destination").and_then(Value::as_str) else {
                continue;
            };
            if let Some(target) = crate::mount_dest::dangling_target(&root, dest)? {
                m["destination"] = Value::String(target);
                changed = true;
            }
        }
    }
    let mut restore_caps = None;
    if let Some(process) = spec.get_mut("process") {
        changed |= clamp_rlimits(process);
        if seccomp.is_some() {
            restore_caps = widen_for_seccomp(process)?;
        }
    }

    if !changed {
        return Ok(Prepared {
            bundle: bundle.to_path_buf(),
            shadow: None,
            rootfs,
            oci_version,
            terminal,
            sysctls,
            cwd,
            disable_oom_killer,
            seccomp,
            restore_caps,
        });
    }

    spec["root"]["path"] = Value::String(rootfs.to_string_lossy().into_owned());
    // The hooks are told the caller's bundle, not this copy's.
    if let (Some(hooks), Ok(me)) = (
        spec.get_mut("hooks").and_then(Value::as_object_mut),
        std::env::current_exe(),
    ) {
        for list in hooks.values_mut().filter_map(Value::as_array_mut) {
            for h in list.iter_mut() {
                *h = crate::hook_relay::wrap(h, &me, bundle);
            }
        }
    }
    if shadow_dir.exists() {
        fs::remove_dir_all(shadow_dir)
            .with_context(|| format!("remove stale {}", shadow_dir.display()))?;
    }
    fs::create_dir_all(shadow_dir).with_context(|| format!("create {}", shadow_dir.display()))?;
    let out = shadow_dir.join("config.json");
    fs::write(&out, serde_json::to_vec_pretty(&spec)?)
        .with_context(|| format!("write {}", out.display()))?;
    if let Some(v) = &seccomp_json {
        let file = shadow_dir.join(SECCOMP_FILE);
        fs::write(&file, serde_json::to_vec(v)?)
            .with_context(|| format!("write {}", file.display()))?;
    }
    Ok(Prepared {
        bundle: shadow_dir.to_path_buf(),
        shadow: Some(shadow_dir.to_path_buf()),
        rootfs,
        oci_version,
        terminal,
        sysctls,
        cwd,
        disable_oom_killer,
        seccomp,
        restore_caps,
    })
}

/// Turns off the OOM killer of the container's memory cgroup (v1's
/// `memory.oom_control`; cgroup v2 has no such switch, so asking for it
/// there is an error, as with runc).
pub fn disable_oom_killer(cgroups_path: &Path) -> Result<()> {
    use libcgroups::v1::{util::get_subsystem_mount_point, ControllerType};
    let mount = get_subsystem_mount_point(&ControllerType::Memory).map_err(|e| {
        anyhow::anyhow!("disableOOMKiller needs the cgroup v1 memory controller: {e}")
    })?;
    let file = mount
        .join(cgroups_path.strip_prefix("/").unwrap_or(cgroups_path))
        .join("memory.oom_control");
    fs::write(&file, "1").with_context(|| format!("disableOOMKiller: write {}", file.display()))
}

/// The sysctl among `keys` that has no file under /proc/sys, in runc's words:
/// libcontainer reports that failure as just "open subpath in procfs failed".
pub fn missing_sysctl(keys: &[String]) -> Option<String> {
    keys.iter().find_map(|k| {
        let path = Path::new("/proc/sys").join(k.replace('.', "/"));
        (!path.exists()).then(|| {
            format!(
                "sysctl {k:?}: open {}: no such file or directory",
                path.display()
            )
        })
    })
}

/// Whether this process may raise hard resource limits.
fn has_cap_sys_resource() -> bool {
    const CAP_SYS_RESOURCE: u32 = 24;
    let Ok(status) = fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_SYS_RESOURCE) != 0)
}

fn resource_of(name: &str) -> Option<libc::__rlimit_resource_t> {
    Some(match name {
        "RLIMIT_CPU" => libc::RLIMIT_CPU,
        "RLIMIT_FSIZE" => libc::RLIMIT_FSIZE,
        "RLIMIT_DATA" => libc::RLIMIT_DATA,
        "RLIMIT_STACK" => libc::RLIMIT_STACK,
        "RLIMIT_CORE" => libc::RLIMIT_CORE,
        "RLIMIT_RSS" => libc::RLIMIT_RSS,
        "RLIMIT_NPROC" => libc::RLIMIT_NPROC,
        "RLIMIT_NOFILE" => libc::RLIMIT_NOFILE,
        "RLIMIT_MEMLOCK" => libc::RLIMIT_MEMLOCK,
        "RLIMIT_AS" => libc::RLIMIT_AS,
        "RLIMIT_LOCKS" => libc::RLIMIT_LOCKS,
        "RLIMIT_SIGPENDING" => libc::RLIMIT_SIGPENDING,
        "RLIMIT_MSGQUEUE" => libc::RLIMIT_MSGQUEUE,
        "RLIMIT_NICE" => libc::RLIMIT_NICE,
        "RLIMIT_RTPRIO" => libc::RLIMIT_RTPRIO,
        "RLIMIT_RTTIME" => libc::RLIMIT_RTTIME,
        _ => return None,
    })
}

fn current_hard_limit(resource: libc::__rlimit_resource_t) -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the struct we pass.
    let rc = unsafe { libc::getrlimit(resource, &mut lim) };
    (rc == 0).then_some(lim.rlim_max)
}

/// Clamps the rlimits of a process object (`{"rlimits": [...]}`) to the
/// current hard limits when we can't raise them. Returns whether any changed.
pub fn clamp_rlimits(process: &mut Value) -> bool {
    let Some(rlimits) = process.get_mut("rlimits").and_then(Value::as_array_mut) else {
        return false;
    };
    if rlimits.is_empty() || has_cap_sys_resource() {
        return false;
    }
    let mut changed = false;
    for rl in rlimits.iter_mut() {
        let Some(name) = rl.get("type").and_then(Value::as_str) else {
            continue;
        };
        let Some(max) = resource_of(name).and_then(current_hard_limit) else {
            continue;
        };
        let hard = rl.get("hard").and_then(Value::as_u64).unwrap_or(0);
        let soft = rl.get("soft").and_then(Value::as_u64).unwrap_or(0);
        let new_hard = hard.min(max);
        let new_soft = soft.min(new_hard);
        if new_hard != hard || new_soft != soft {
            tracing::warn!(
                rlimit = name,
                hard,
                soft,
                new_hard,
                new_soft,
                "clamping rlimit to the current hard limit (no CAP_SYS_RESOURCE)"
            );
            rl["hard"] = new_hard.into();
            rl["soft"] = new_soft.into();
            changed = true;
        }
    }
    changed
}
