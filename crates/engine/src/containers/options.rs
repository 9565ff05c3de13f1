//! What berth does with every field of a container's create body (and of
//! exec bodies): applied, refused with a message naming the option, or
//! accepted as a no-op for a stated reason. Nothing is accepted and then
//! silently not applied. The unit test walks this table against the Engine
//! API spec's field lists (`spec_fields.rs`), so a field without a decision
//! fails the build.

use api_types::{ContainerConfig, HostConfig};
use base::{Error, Result};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Takes effect (tested from inside or outside the container).
    Applied,
    /// A set value is refused: `berth does not support <option> yet`.
    Refused(&'static str),
    /// Accepted and without effect, for this reason.
    NoOp(&'static str),
    /// Some values are applied, others refused: [`check_value`] decides.
    Values,
}

use Decision::*;

const OUTPUT: Decision = NoOp("an output field: the daemon fills it in");

pub const CONTAINER_CONFIG: &[(&str, Decision)] = &[
    ("Hostname", Applied),
    ("Domainname", Applied),
    ("User", Applied),
    (
        "AttachStdin",
        NoOp("the attach request says which streams are attached, as with dockerd"),
    ),
    (
        "AttachStdout",
        NoOp("the attach request says which streams are attached, as with dockerd"),
    ),
    (
        "AttachStderr",
        NoOp("the attach request says which streams are attached, as with dockerd"),
    ),
    ("ExposedPorts", Applied),
    ("Tty", Applied),
    ("OpenStdin", Applied),
    ("StdinOnce", Applied),
    ("Env", Applied),
    ("Cmd", Applied),
    ("Healthcheck", Applied),
    (
        "ArgsEscaped",
        NoOp("Windows-only: how the command line is escaped"),
    ),
    ("Image", Applied),
    ("Volumes", Applied),
    ("WorkingDir", Applied),
    ("Entrypoint", Applied),
    ("NetworkDisabled", Refused("NetworkDisabled")),
    ("MacAddress", Applied),
    ("OnBuild", NoOp("build triggers: only builds run them")),
    ("Labels", Applied),
    ("StopSignal", Applied),
    ("StopTimeout", Applied),
    ("Shell", NoOp("the shell of a build's shell-form commands")),
];

pub const HOST_CONFIG: &[(&str, Decision)] = &[
    ("CpuShares", Applied),
    ("Memory", Applied),
    ("CgroupParent", Applied),
    ("BlkioWeight", Applied),
    ("BlkioWeightDevice", Applied),
    ("BlkioDeviceReadBps", Applied),
    ("BlkioDeviceWriteBps", Applied),
    ("BlkioDeviceReadIOps", Applied),
    ("BlkioDeviceWriteIOps", Applied),
    ("CpuPeriod", Applied),
    ("CpuQuota", Applied),
    ("CpuRealtimePeriod", Refused("--cpu-rt-period")),
    ("CpuRealtimeRuntime", Refused("--cpu-rt-runtime")),
    ("CpusetCpus", Applied),
    ("CpusetMems", Applied),
    ("Devices", Applied),
    ("DeviceCgroupRules", Applied),
    ("DeviceRequests", Refused("--gpus")),
    ("KernelMemoryTCP", Applied),
    ("MemoryReservation", Applied),
    ("MemorySwap", Applied),
    ("MemorySwappiness", Applied),
    ("NanoCpus", Applied),
    ("OomKillDisable", Applied),
    ("Init", Applied),
    ("PidsLimit", Applied),
    ("Ulimits", Applied),
    (
        "CpuCount",
        NoOp("Windows only: dockerd on Linux keeps and shows it, and applies nothing"),
    ),
    (
        "CpuPercent",
        NoOp("Windows only: dockerd on Linux keeps and shows it, and applies nothing"),
    ),
    ("IOMaximumIOps", Refused("--io-maxiops")),
    ("IOMaximumBandwidth", Refused("--io-maxbandwidth")),
    ("Binds", Applied),
    ("ContainerIDFile", NoOp("the client writes the file")),
    ("LogConfig", Values),
    ("NetworkMode", Applied),
    ("PortBindings", Applied),
    ("RestartPolicy", Applied),
    ("AutoRemove", Applied),
    ("VolumeDriver", Applied),
    ("VolumesFrom", Applied),
    ("Mounts", Applied),
    (
        "ConsoleSize",
        NoOp("the client sets the TTY's size right after it attaches"),
    ),
    ("Annotations", Applied),
    ("CapAdd", Applied),
    ("CapDrop", Applied),
    ("CgroupnsMode", Values),
    ("Dns", Applied),
    ("DnsOptions", Applied),
    ("DnsSearch", Applied),
    ("ExtraHosts", Applied),
    ("GroupAdd", Applied),
    ("IpcMode", Values),
    ("Cgroup", Refused("--cgroup")),
    ("Links", Applied),
    ("OomScoreAdj", Applied),
    ("PidMode", Values),
    ("Privileged", Applied),
    ("PublishAllPorts", Applied),
    ("ReadonlyRootfs", Applied),
    ("SecurityOpt", Values),
    ("StorageOpt", Refused("--storage-opt")),
    ("Tmpfs", Applied),
    ("UTSMode", Values),
    ("UsernsMode", Values),
    ("ShmSize", Applied),
    ("Sysctls", Applied),
    ("Runtime", Applied),
    ("Isolation", Values),
    ("MaskedPaths", Applied),
    ("ReadonlyPaths", Applied),
];

pub const ENDPOINT_SETTINGS: &[(&str, Decision)] = &[
    ("IPAMConfig", Applied),
    ("Links", Applied),
    ("MacAddress", Applied),
    ("Aliases", Applied),
    // dockerd's bridge driver reads no endpoint option but the two that
    // berth refuses by name (network::service); other keys are kept and
    // shown by inspect, as dockerd keeps them.
    ("DriverOpts", Values),
    ("GwPriority", Refused("--gw-priority")),
    ("NetworkID", OUTPUT),
    ("EndpointID", OUTPUT),
    ("Gateway", OUTPUT),
    ("IPAddress", OUTPUT),
    ("IPPrefixLen", OUTPUT),
    ("IPv6Gateway", OUTPUT),
    ("GlobalIPv6Address", OUTPUT),
    ("GlobalIPv6PrefixLen", OUTPUT),
    ("DNSNames", OUTPUT),
];

pub const EXEC_CREATE: &[(&str, Decision)] = &[
    ("AttachStdin", Applied),
    (
        "AttachStdout",
        NoOp("exec start streams the exec's output, as the docker CLI asks"),
    ),
    (
        "AttachStderr",
        NoOp("exec start streams the exec's output, as the docker CLI asks"),
    ),
    (
        "ConsoleSize",
        NoOp("the client sets the TTY's size right after it attaches"),
    ),
    ("DetachKeys", Applied),
    ("Tty", Applied),
    ("Env", Applied),
    ("Cmd", Applied),
    ("Privileged", Refused("exec --privileged")),
    ("User", Applied),
    ("WorkingDir", Applied),
];

pub const EXEC_START: &[(&str, Decision)] = &[
    ("Detach", Applied),
    (
        "Tty",
        NoOp("the exec's Tty at create decides how its output is framed"),
    ),
    (
        "ConsoleSize",
        NoOp("the client sets the TTY's size right after it attaches"),
    ),
];

/// `docker update`'s body: the resources that can change on a running
/// container (containers/update.rs) and the restart policy.
pub const UPDATE: &[(&str, Decision)] = &[
    ("CpuShares", Applied),
    ("Memory", Applied),
    ("CgroupParent", Refused("updating --cgroup-parent")),
    ("BlkioWeight", Applied),
    (
        "BlkioWeightDevice",
        Refused("updating --blkio-weight-device"),
    ),
    ("BlkioDeviceReadBps", Refused("updating --device-read-bps")),
    (
        "BlkioDeviceWriteBps",
        Refused("updating --device-write-bps"),
    ),
    (
        "BlkioDeviceReadIOps",
        Refused("updating --device-read-iops"),
    ),
    (
        "BlkioDeviceWriteIOps",
        Refused("updating --device-write-iops"),
    ),
    ("CpuPeriod", Applied),
    ("CpuQuota", Applied),
    ("CpuRealtimePeriod", Refused("--cpu-rt-period")),
    ("CpuRealtimeRuntime", Refused("--cpu-rt-runtime")),
    ("CpusetCpus", Applied),
    ("CpusetMems", Applied),
    ("Devices", Refused("updating --device")),
    (
        "DeviceCgroupRules",
        Refused("updating --device-cgroup-rule"),
    ),
    ("DeviceRequests", Refused("--gpus")),
    ("KernelMemoryTCP", Refused("updating --kernel-memory-tcp")),
    ("MemoryReservation", Applied),
    ("MemorySwap", Applied),
    ("MemorySwappiness", Refused("updating --memory-swappiness")),
    ("NanoCpus", Applied),
    ("OomKillDisable", Refused("updating --oom-kill-disable")),
    ("Init", Refused("updating --init")),
    ("PidsLimit", Applied),
    ("Ulimits", Refused("updating --ulimit")),
    ("CpuCount", Refused("--cpu-count")),
    ("CpuPercent", Refused("--cpu-percent")),
    ("IOMaximumIOps", Refused("--io-maxiops")),
    ("IOMaximumBandwidth", Refused("--io-maxbandwidth")),
    ("RestartPolicy", Applied),
];

/// The request bodies whose field names [`canonicalize`] fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    Create,
    Exec,
    ExecStart,
    Update,
}

/// Renames the keys of `obj` that match a field of `fields` but for case
/// to the spec's spelling (an exact key wins over a near one).
fn rename_keys<'a>(obj: &mut Value, fields: impl Iterator<Item = &'a str> + Clone) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    let renames: Vec<(String, &str)> = map
        .keys()
        .filter(|k| !fields.clone().any(|f| f == k.as_str()))
        .filter_map(|k| {
            fields
                .clone()
                .find(|f| f.eq_ignore_ascii_case(k))
                .map(|f| (k.clone(), f))
        })
        .collect();
    for (from, to) in renames {
        if !map.contains_key(to) {
            if let Some(v) = map.remove(&from) {
                map.insert(to.to_string(), v);
            }
        }
    }
}

/// Go's JSON decoding, which dockerd uses, matches field names without
/// regard to case, and clients rely on it: docker-py sends
/// `CPURealtimeRuntime` and `detachKeys`. The body's keys (and its host
/// config's and endpoints') are given the spec's spelling here, so that
/// none is ignored as unknown while dockerd would apply it.
pub fn canonicalize(body: Body, v: &mut Value) {
    let names = |t: &'static [(&'static str, Decision)]| t.iter().map(|(f, _)| *f);
    match body {
        Body::Create => {
            rename_keys(
                v,
                names(CONTAINER_CONFIG).chain(["HostConfig", "NetworkingConfig"]),
            );
            if let Some(h) = v.get_mut("HostConfig") {
                rename_keys(h, names(HOST_CONFIG));
            }
            if let Some(n) = v.get_mut("NetworkingConfig") {
                rename_keys(n, ["EndpointsConfig"].into_iter());
                if let Some(eps) = n.get_mut("EndpointsConfig").and_then(Value::as_object_mut) {
                    for e in eps.values_mut() {
                        rename_keys(e, names(ENDPOINT_SETTINGS));
                    }
                }
            }
        }
        Body::Exec => rename_keys(v, names(EXEC_CREATE)),
        Body::ExecStart => rename_keys(v, names(EXEC_START)),
        Body::Update => rename_keys(v, names(UPDATE)),
    }
}

/// Whether a JSON value is a default the clients send (null, false, 0,
/// "", [], {}): not a request for anything.
fn is_default(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

fn refuse(option: &str) -> Error {
    Error::invalid(format!("berth does not support {option} yet"))
}

/// The fields whose values decide: which are applied, which refused.
fn check_value(field: &str, v: &Value) -> Result<()> {
    let s = v.as_str().unwrap_or("");
    match field {
        "LogConfig" => crate::logs::LogSettings::of(Some(v)).map(|_| ()),
        "CgroupnsMode" => match s {
            // The host's by default (dockerd's default on cgroup v1).
            "" | "host" | "private" => Ok(()),
            m => Err(refuse(&format!("--cgroupns {m}"))),
        },
        "IpcMode" => match s {
            "" | "private" | "shareable" | "host" | "none" => Ok(()),
            m if m.starts_with("container:") => Ok(()),
            m => Err(refuse(&format!("--ipc {m}"))),
        },
        "PidMode" => match s {
            "" | "host" => Ok(()),
            m if m.starts_with("container:") => Ok(()),
            m => Err(refuse(&format!("--pid {m}"))),
        },
        "UTSMode" => match s {
            "" | "host" => Ok(()),
            m => Err(refuse(&format!("--uts {m}"))),
        },
        "UsernsMode" => match s {
            "" | "host" => Ok(()),
            m => Err(refuse(&format!("--userns {m}"))),
        },
        "Isolation" => match s {
            "" | "default" => Ok(()),
            m => Err(Error::invalid(format!(
                "Invalid isolation: {m:?} - linux only supports 'default'"
            ))),
        },
        "SecurityOpt" => {
            for o in v.as_array().into_iter().flatten() {
                let o = o.as_str().unwrap_or("");
                // `seccomp=unconfined|builtin|<profile JSON>` (the docker
                // CLI sends a profile file's content): a profile is decoded
                // and checked here, so a bad one is refused at create.
                if let Some(v) = crate::seccomp::opt_value(o) {
                    crate::seccomp::Choice::of_value(v)?;
                    continue;
                }
                let ok = matches!(
                    o,
                    "no-new-privileges"
                        | "no-new-privileges:true"
                        | "no-new-privileges=true"
                        | "no-new-privileges:false"
                        | "no-new-privileges=false"
                        | "systempaths=unconfined"
                )
                // No SELinux and no AppArmor on this host: as dockerd
                // there, these are accepted and have nothing to act on.
                    || o.starts_with("label=")
                    || o.starts_with("label:")
                    || o.starts_with("apparmor=")
                    || o.starts_with("apparmor:");
                if !ok {
                    return Err(refuse(&format!("--security-opt {o}")));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn check_fields(table: &[(&str, Decision)], body: &Value) -> Result<()> {
    let Some(obj) = body.as_object() else {
        return Ok(());
    };
    for (k, v) in obj {
        match table.iter().find(|(f, _)| f == k).map(|(_, d)| *d) {
            Some(Refused(option)) if !is_default(v) => return Err(refuse(option)),
            Some(Values) if !v.is_null() => check_value(k, v)?,
            // Fields the API does not define are ignored, as Go's JSON
            // decoding in dockerd ignores them.
            _ => {}
        }
    }
    Ok(())
}

/// Checks a create body's config and host config against the table.
pub fn check_create(config: &ContainerConfig, host: &HostConfig) -> Result<()> {
    let c = serde_json::to_value(config).map_err(|e| Error::internal(e.to_string()))?;
    check_fields(CONTAINER_CONFIG, &c)?;
    let h = serde_json::to_value(host).map_err(|e| Error::internal(e.to_string()))?;
    check_fields(HOST_CONFIG, &h)
}

/// Checks an update body (`Resources` and `RestartPolicy`): what cannot
/// change on a container is refused by name.
pub fn check_update(body: &Value) -> Result<()> {
    check_fields(UPDATE, body)
}

/// Checks an exec create body.
pub fn check_exec(body: &impl serde::Serialize) -> Result<()> {
    let v = serde_json::to_value(body).map_err(|e| Error::internal(e.to_string()))?;
    check_fields(EXEC_CREATE, &v)
}

#[cfg(test)]
mod tests {
    use super::super::spec_fields;
    use super::*;

    fn names(t: &[(&'static str, Decision)]) -> Vec<&'static str> {
        t.iter().map(|(n, _)| *n).collect()
    }

    /// Every field of the spec has a decision, and every decision is about
    /// a field of the spec.
    #[test]
    fn the_table_covers_the_spec() {
        for (what, table, spec) in [
            (
                "ContainerConfig",
                CONTAINER_CONFIG,
                spec_fields::CONTAINER_CONFIG,
            ),
            ("HostConfig", HOST_CONFIG, spec_fields::HOST_CONFIG),
            (
                "EndpointSettings",
                ENDPOINT_SETTINGS,
                spec_fields::ENDPOINT_SETTINGS,
            ),
            ("ExecConfig", EXEC_CREATE, spec_fields::EXEC_CREATE),
            ("ExecStartConfig", EXEC_START, spec_fields::EXEC_START),
            ("ContainerUpdate", UPDATE, spec_fields::UPDATE),
        ] {
            let have = names(table);
            for f in spec {
                assert!(have.contains(f), "{what}.{f} has no decision in options.rs");
            }
            for f in &have {
                assert!(
                    spec.contains(f),
                    "{what}.{f} is decided but not in the spec"
                );
            }
        }
    }

    /// The typed members of berth's structs are fields of the spec (a
    /// member added without a decision fails here).
    #[test]
    fn typed_members_are_decided() {
        let h = serde_json::to_value(HostConfig::default()).unwrap();
        for k in h.as_object().unwrap().keys() {
            assert!(
                HOST_CONFIG.iter().any(|(f, _)| f == k),
                "HostConfig.{k} has no decision"
            );
        }
        let c = serde_json::to_value(ContainerConfig::default()).unwrap();
        for k in c.as_object().unwrap().keys() {
            assert!(
                CONTAINER_CONFIG.iter().any(|(f, _)| f == k),
                "ContainerConfig.{k} has no decision"
            );
        }
    }

    #[test]
    fn field_names_match_without_case_as_in_go() {
        let mut v = serde_json::json!({
            "image": "busybox", "Cmd": ["true"], "cmd": ["no"],
            "HostConfig": {"CPURealtimeRuntime": 950, "memory": 1},
            "networkingconfig": {"endpointsConfig": {"n": {"ipamconfig": {}}}},
            "NotAField": 1,
        });
        canonicalize(Body::Create, &mut v);
        assert_eq!(v["Image"], "busybox");
        assert_eq!(v["Cmd"], serde_json::json!(["true"]), "the exact key wins");
        assert_eq!(v["HostConfig"]["CpuRealtimeRuntime"], 950);
        assert_eq!(v["HostConfig"]["Memory"], 1);
        assert!(v["NetworkingConfig"]["EndpointsConfig"]["n"]["IPAMConfig"].is_object());
        assert_eq!(v["NotAField"], 1);
        let mut e = serde_json::json!({"detachKeys": "ctrl-a"});
        canonicalize(Body::Exec, &mut e);
        assert_eq!(e["DetachKeys"], "ctrl-a");
    }

    #[test]
    fn refusals_name_the_option_and_defaults_pass() {
        let host = |v: Value| -> HostConfig { serde_json::from_value(v).unwrap() };
        let cfg = ContainerConfig::default();
        // What the docker CLI sends for a plain `docker run`.
        check_create(
            &cfg,
            &host(serde_json::json!({
                "Devices": [], "Ulimits": null, "BlkioWeight": 0, "IpcMode": "",
                "PidMode": "", "CgroupnsMode": "", "Isolation": "", "LogConfig": {"Type": "", "Config": {}},
                "OomKillDisable": false, "Init": null, "SecurityOpt": null,
            })),
        )
        .unwrap();
        for (v, want) in [
            (serde_json::json!({"PidMode": "bogus"}), "--pid bogus"),
            (
                serde_json::json!({"LogConfig": {"Type": "syslog"}}),
                "the log driver syslog",
            ),
            (
                serde_json::json!({"LogConfig": {"Type": "json-file", "Config": {"tag": "x"}}}),
                "--log-opt tag",
            ),
            // A path instead of the file's content, as the docker CLI
            // sends it: not a profile.
            (
                serde_json::json!({"SecurityOpt": ["seccomp=/x.json"]}),
                "Decoding seccomp profile failed: ",
            ),
            (
                serde_json::json!({"SecurityOpt": [r#"seccomp={"defaultAction":"SCMP_ACT_NOPE"}"#]}),
                "unknown action \"SCMP_ACT_NOPE\"",
            ),
            (
                serde_json::json!({"SecurityOpt": ["systempaths=confined"]}),
                "--security-opt systempaths=confined",
            ),
        ] {
            let e = check_create(&cfg, &host(v.clone())).expect_err(&v.to_string());
            assert!(e.message.contains(want), "{v}: {}", e.message);
            assert_eq!(e.kind, base::ErrorKind::InvalidArgument);
        }
        for opts in [
            serde_json::json!(["seccomp=unconfined", "seccomp:unconfined"]),
            serde_json::json!(["seccomp=builtin", "no-new-privileges"]),
            serde_json::json!([
                r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#
            ]),
        ] {
            check_create(&cfg, &host(serde_json::json!({"SecurityOpt": opts}))).unwrap();
        }
    }
}
