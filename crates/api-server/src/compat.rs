//! What changes with the API version of the request path (`/v1.NN/...`):
//! every behaviour dockerd gates on the version, for the versions berth
//! serves (1.24 to 1.50), is decided here and nowhere else. Handlers ask
//! for a request's parameters through these functions and pass responses
//! through them; the engine knows nothing of versions.
//!
//! The boundaries are dockerd's (its `versions.LessThan` checks in the API
//! routers); the test table at the end pins each one.

use serde_json::Value;

/// An API version, `1.NN`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion(pub u32, pub u32);

impl ApiVersion {
    /// The version a request without one in its path gets.
    pub const CURRENT: ApiVersion = ApiVersion(1, 50);

    fn before(self, minor: u32) -> bool {
        self < ApiVersion(1, minor)
    }
}

/// `Content-Type` of attach, exec and logs streams: multiplexed (for a
/// stream without a terminal) only from 1.42; raw-stream before.
pub fn stream_content_type(v: ApiVersion, tty: bool) -> &'static str {
    if tty || v.before(42) {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    }
}

/// The `signal` of stop and restart: from 1.42.
pub fn stop_signal(v: ApiVersion, signal: Option<&str>) -> Option<&str> {
    signal.filter(|s| !s.is_empty() && !v.before(42))
}

/// Stats' `one-shot`: from 1.41.
pub fn stats_one_shot(v: ApiVersion, one_shot: bool) -> bool {
    one_shot && !v.before(41)
}

/// Wait's `condition`: from 1.30 (before, always `not-running`).
pub fn wait_condition(v: ApiVersion, condition: Option<&str>) -> &str {
    if v.before(30) {
        ""
    } else {
        condition.unwrap_or("")
    }
}

/// Volume prune: before 1.42 every unused volume; since, anonymous ones
/// unless the `all` filter says otherwise.
pub fn volume_prune_all(v: ApiVersion, all_filter: Option<&Vec<String>>) -> bool {
    v.before(42) || all_filter.is_some_and(|a| a.iter().any(|a| a == "true" || a == "1"))
}

/// A create body as an older client meant it: fields its version did not
/// have are dropped (dockerd ignores them rather than apply them).
pub fn container_create(v: ApiVersion, body: &mut Value) {
    if v.before(44) {
        if let Some(h) = body.get_mut("Healthcheck").and_then(Value::as_object_mut) {
            h.remove("StartInterval");
        }
    }
    if v.before(40) {
        // Clients before 1.40 expect a container's IPC to be shareable
        // unless they say otherwise, as dockerd keeps it for them.
        if let Some(b) = body.as_object_mut() {
            let h = b
                .entry("HostConfig")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(h) = h.as_object_mut() {
                if h.get("IpcMode")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .is_empty()
                {
                    h.insert("IpcMode".into(), "shareable".into());
                }
            }
        }
    }
    if let Some(h) = body.get_mut("HostConfig").and_then(Value::as_object_mut) {
        if v.before(25) {
            h.insert("AutoRemove".into(), false.into());
        }
        if v.before(40) {
            h.remove("KernelMemoryTCP");
        }
        if v.before(43) {
            h.remove("Annotations");
        }
    }
    if v.before(48) {
        let eps = body
            .get_mut("NetworkingConfig")
            .and_then(|n| n.get_mut("EndpointsConfig"))
            .and_then(Value::as_object_mut);
        for e in eps.into_iter().flat_map(|m| m.values_mut()) {
            if let Some(e) = e.as_object_mut() {
                e.remove("GwPriority");
            }
        }
    }
}

/// Container inspect: before 1.45, the aliases on a user-defined network
/// also hold the short ID and the hostname.
pub fn container_inspect(v: ApiVersion, c: &mut Value) {
    if !v.before(45) {
        return;
    }
    let short: String = c["Id"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(12)
        .collect();
    let hostname = c["Config"]["Hostname"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let nets = c
        .get_mut("NetworkSettings")
        .and_then(|n| n.get_mut("Networks"))
        .and_then(Value::as_object_mut);
    for (name, ep) in nets.into_iter().flat_map(|m| m.iter_mut()) {
        if matches!(name.as_str(), "bridge" | "host" | "none") {
            continue;
        }
        let mut aliases: Vec<Value> = ep["Aliases"].as_array().cloned().unwrap_or_default();
        for a in [&short, &hostname] {
            if !a.is_empty() && !aliases.iter().any(|x| x == a.as_str()) {
                aliases.push(Value::from(a.as_str()));
            }
        }
        ep["Aliases"] = Value::Array(aliases);
    }
}

/// The `Config` keys an image's config always shows before 1.50.
const LEGACY_CONFIG: [(&str, Value); 16] = [
    ("AttachStderr", Value::Bool(false)),
    ("AttachStdin", Value::Bool(false)),
    ("AttachStdout", Value::Bool(false)),
    ("Cmd", Value::Null),
    ("Domainname", Value::String(String::new())),
    ("Entrypoint", Value::Null),
    ("Env", Value::Null),
    ("Hostname", Value::String(String::new())),
    ("Image", Value::String(String::new())),
    ("Labels", Value::Null),
    ("OnBuild", Value::Null),
    ("OpenStdin", Value::Bool(false)),
    ("StdinOnce", Value::Bool(false)),
    ("Tty", Value::Bool(false)),
    ("User", Value::String(String::new())),
    ("WorkingDir", Value::String(String::new())),
];

/// The `Config` keys shown from 1.50 even when unset.
const ALWAYS_CONFIG: [&str; 7] = [
    "Cmd",
    "Entrypoint",
    "Env",
    "Labels",
    "OnBuild",
    "User",
    "WorkingDir",
];

/// Image inspect: `Container`/`ContainerConfig` before 1.45,
/// `VirtualSize` before 1.44, the full legacy `Config` key set before 1.50.
pub fn image_inspect(v: ApiVersion, img: &mut Value) {
    let Some(obj) = img.as_object_mut() else {
        return;
    };
    if let Some(cfg) = obj.get_mut("Config").and_then(Value::as_object_mut) {
        for (k, default) in LEGACY_CONFIG.iter() {
            if v.before(50) {
                cfg.entry(*k).or_insert_with(|| default.clone());
            } else if !ALWAYS_CONFIG.contains(k) && cfg.get(*k) == Some(default) {
                // From 1.50 the container-only keys go when unset.
                cfg.remove(*k);
            }
        }
        cfg.entry("Volumes").or_insert(Value::Null);
    }
    if v.before(45) {
        // What the image records (a build step's or a commit's container),
        // else its Config.
        obj.entry("Container").or_insert_with(|| "".into());
        let cc = obj
            .get("Config")
            .cloned()
            .unwrap_or_else(|| serde_json::json!({}));
        obj.entry("ContainerConfig").or_insert(cc);
    } else {
        obj.remove("Container");
        obj.remove("ContainerConfig");
    }
    if v.before(44) {
        let size = obj.get("Size").cloned().unwrap_or(Value::from(0));
        obj.insert("VirtualSize".into(), size);
    } else {
        obj.remove("VirtualSize");
    }
}

/// Image list: `VirtualSize` before 1.44, `<none>` placeholders for an
/// untagged image before 1.43, `Containers` -1 through 1.50 (dockerd counts
/// them only from 1.51), `SharedSize` -1 unless asked for (from 1.42).
pub fn image_list(v: ApiVersion, list: &mut Value, shared_size: bool) {
    for img in list.as_array_mut().into_iter().flatten() {
        let Some(obj) = img.as_object_mut() else {
            continue;
        };
        if v.before(44) {
            let size = obj.get("Size").cloned().unwrap_or(Value::from(0));
            obj.insert("VirtualSize".into(), size);
        } else {
            obj.remove("VirtualSize");
        }
        if v.before(43) {
            let empty = |k: &str| {
                obj.get(k)
                    .and_then(Value::as_array)
                    .is_none_or(|a| a.is_empty())
            };
            if empty("RepoTags") && empty("RepoDigests") {
                obj.insert("RepoTags".into(), serde_json::json!(["<none>:<none>"]));
                obj.insert("RepoDigests".into(), serde_json::json!(["<none>@<none>"]));
            }
        }
        if v.before(51) {
            obj.insert("Containers".into(), Value::from(-1));
        }
        if !shared_size || v.before(42) {
            obj.insert("SharedSize".into(), Value::from(-1));
        }
    }
}

/// Events: image `create` events exist from 1.46.
pub fn keep_event(v: ApiVersion, event: &Value) -> bool {
    !(v.before(46) && event["Type"] == "image" && event["Action"] == "create")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OLD: ApiVersion = ApiVersion(1, 24);
    const NOW: ApiVersion = ApiVersion::CURRENT;

    /// (version, request, what dockerd does): one row per difference.
    #[test]
    fn version_table() {
        // Streams, parameters.
        for (v, tty, want) in [
            (
                ApiVersion(1, 41),
                false,
                "application/vnd.docker.raw-stream",
            ),
            (
                ApiVersion(1, 42),
                false,
                "application/vnd.docker.multiplexed-stream",
            ),
            (NOW, true, "application/vnd.docker.raw-stream"),
        ] {
            assert_eq!(stream_content_type(v, tty), want, "{v:?} tty={tty}");
        }
        assert_eq!(stop_signal(ApiVersion(1, 41), Some("SIGINT")), None);
        assert_eq!(
            stop_signal(ApiVersion(1, 42), Some("SIGINT")),
            Some("SIGINT")
        );
        assert!(!stats_one_shot(ApiVersion(1, 40), true));
        assert!(stats_one_shot(ApiVersion(1, 41), true));
        assert_eq!(wait_condition(ApiVersion(1, 29), Some("removed")), "");
        assert_eq!(
            wait_condition(ApiVersion(1, 30), Some("removed")),
            "removed"
        );
        assert!(volume_prune_all(ApiVersion(1, 41), None));
        assert!(!volume_prune_all(ApiVersion(1, 42), None));
        assert!(volume_prune_all(NOW, Some(&vec!["true".into()])));
        // Create bodies.
        let body = || {
            json!({
                "Healthcheck": {"Test": ["CMD", "true"], "StartInterval": 5},
                "HostConfig": {"AutoRemove": true, "KernelMemoryTCP": 1, "Annotations": {"a": "b"}},
                "NetworkingConfig": {"EndpointsConfig": {"n": {"GwPriority": 3}}},
            })
        };
        let mut b = body();
        container_create(OLD, &mut b);
        assert_eq!(
            b,
            json!({
                "Healthcheck": {"Test": ["CMD", "true"]},
                "HostConfig": {"AutoRemove": false, "IpcMode": "shareable"},
                "NetworkingConfig": {"EndpointsConfig": {"n": {}}},
            })
        );
        let mut b = body();
        container_create(NOW, &mut b);
        assert_eq!(b, body());
        // Container inspect: aliases.
        let c = || {
            json!({"Id": "0123456789abcdef", "Config": {"Hostname": "web"},
                   "NetworkSettings": {"Networks": {
                       "mynet": {"Aliases": ["db"]}, "bridge": {"Aliases": null}}}})
        };
        let mut old = c();
        container_inspect(ApiVersion(1, 44), &mut old);
        assert_eq!(
            old["NetworkSettings"]["Networks"]["mynet"]["Aliases"],
            json!(["db", "0123456789ab", "web"])
        );
        assert!(old["NetworkSettings"]["Networks"]["bridge"]["Aliases"].is_null());
        let mut now = c();
        container_inspect(ApiVersion(1, 45), &mut now);
        assert_eq!(now, c());
        // Image inspect.
        let img = || json!({"Id": "x", "Size": 10, "VirtualSize": 10, "Config": {"Cmd": ["sh"]}});
        let mut old = img();
        image_inspect(ApiVersion(1, 43), &mut old);
        assert_eq!(old["VirtualSize"], 10);
        assert_eq!(old["Container"], "");
        assert_eq!(old["ContainerConfig"]["Cmd"], json!(["sh"]));
        assert_eq!(old["Config"]["AttachStdin"], false);
        assert!(old["Config"]["Volumes"].is_null() && old["Config"].get("Volumes").is_some());
        let mut mid = img();
        image_inspect(ApiVersion(1, 45), &mut mid);
        assert!(mid.get("ContainerConfig").is_none() && mid.get("VirtualSize").is_none());
        assert_eq!(mid["Config"]["Tty"], false);
        let mut now = img();
        now["Config"]["Tty"] = false.into();
        now["Config"]["User"] = "".into();
        image_inspect(NOW, &mut now);
        assert!(now["Config"].get("Tty").is_none());
        assert_eq!(now["Config"]["User"], "");
        // Image list.
        let list = || json!([{"Size": 7, "RepoTags": [], "RepoDigests": [], "Containers": 2, "SharedSize": 3}]);
        let mut old = list();
        image_list(ApiVersion(1, 42), &mut old, true);
        assert_eq!(
            old,
            json!([{"Size": 7, "VirtualSize": 7, "RepoTags": ["<none>:<none>"],
                    "RepoDigests": ["<none>@<none>"], "Containers": -1, "SharedSize": 3}])
        );
        let mut now = list();
        image_list(NOW, &mut now, false);
        assert_eq!(
            now,
            json!([{"Size": 7, "RepoTags": [], "RepoDigests": [], "Containers": -1, "SharedSize": -1}])
        );
        // Events.
        let created = json!({"Type": "image", "Action": "create"});
        assert!(!keep_event(ApiVersion(1, 45), &created));
        assert!(keep_event(ApiVersion(1, 46), &created));
    }
}
