//! Behaviour that follows the API version of the request path, against a
//! real berthd (the table of crates/api-server/src/compat.rs, end to end):
//! the same requests under /v1.41/ ... /v1.50/ answer as dockerd does for
//! that version.

use berth_tests::{require, Daemon, DOCKER};

fn get(d: &Daemon, path: &str) -> serde_json::Value {
    let (status, body) = d.api("GET", path, b"");
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

#[test]
fn responses_follow_the_path_version() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    // Image inspect: ContainerConfig before 1.45, VirtualSize before 1.44,
    // the legacy Config keys before 1.50.
    let old = get(&d, "/v1.43/images/busybox/json");
    assert_eq!(old["Container"], "", "{old}");
    assert!(old["ContainerConfig"].is_object(), "{old}");
    assert_eq!(old["VirtualSize"], old["Size"]);
    assert_eq!(old["Config"]["AttachStdin"], false);
    let now = get(&d, "/v1.50/images/busybox/json");
    assert!(now.get("ContainerConfig").is_none() && now.get("VirtualSize").is_none());
    assert!(now["Config"].get("AttachStdin").is_none(), "{now}");
    // Image list: <none> placeholders before 1.43, Containers -1.
    d.docker(&["run", "--name", "cc", "busybox", "touch", "/x"])
        .ok();
    d.docker(&["commit", "cc"]).ok();
    let old = get(&d, "/v1.42/images/json");
    assert!(
        old.as_array()
            .unwrap()
            .iter()
            .any(|i| i["RepoTags"] == serde_json::json!(["<none>:<none>"])),
        "{old}"
    );
    // shared-size (from 1.42): busybox and the committed image share the
    // busybox layer.
    let shared = get(&d, "/images/json?shared-size=1");
    let busybox = shared
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["RepoTags"] == serde_json::json!(["busybox:latest"]))
        .unwrap();
    assert_eq!(busybox["SharedSize"], busybox["Size"], "{busybox}");
    let now = get(&d, "/images/json");
    for i in now.as_array().unwrap() {
        assert_eq!(i["Containers"], -1, "{i}");
        assert!(
            i["RepoTags"].is_array() && i.get("VirtualSize").is_none(),
            "{i}"
        );
    }
    // Container inspect: before 1.45 a user-defined network's aliases hold
    // the short ID and the hostname.
    d.docker(&["network", "create", "vernet"]).ok();
    let id = d
        .docker(&[
            "run",
            "-d",
            "--network",
            "vernet",
            "--network-alias",
            "db",
            "busybox",
            "sleep",
            "100",
        ])
        .ok()
        .trim()
        .to_string();
    let aliases = |v: &str| {
        get(&d, &format!("/{v}/containers/{id}/json"))["NetworkSettings"]["Networks"]["vernet"]
            ["Aliases"]
            .clone()
    };
    assert_eq!(
        aliases("v1.44"),
        // (the hostname is the short ID: listed once)
        serde_json::json!(["db", &id[..12]])
    );
    assert_eq!(aliases("v1.45"), serde_json::json!(["db"]));
    // Logs of a container without a terminal: multiplexed-stream from 1.42.
    for (v, want) in [("v1.41", "raw-stream"), ("v1.42", "multiplexed-stream")] {
        let out = std::process::Command::new("curl")
            .args(["-s", "-D", "-", "-o", "/dev/null", "--unix-socket"])
            .arg(&d.sock)
            .arg(format!("http://x/{v}/containers/{id}/logs?stdout=1"))
            .output()
            .unwrap();
        let head = String::from_utf8_lossy(&out.stdout).to_lowercase();
        assert!(
            head.contains(&format!("content-type: application/vnd.docker.{want}")),
            "{v}: {head}"
        );
    }
    // Volume prune: every unused volume before 1.42, anonymous ones since.
    d.docker(&["volume", "create", "named"]).ok();
    let (_, pruned) = d.api("POST", "/v1.42/volumes/prune", b"");
    assert!(!pruned.contains("named"), "{pruned}");
    let (_, pruned) = d.api("POST", "/v1.41/volumes/prune", b"");
    assert!(pruned.contains("named"), "{pruned}");
    // Create: a field the version did not have is not applied.
    let (status, body) = d.api(
        "POST",
        "/v1.42/containers/create?name=noanno",
        br#"{"Image": "busybox", "HostConfig": {"Annotations": {"a": "b"}}}"#,
    );
    assert_eq!(status, 201, "{body}");
    let c = get(&d, "/containers/noanno/json");
    assert!(
        c["HostConfig"]
            .get("Annotations")
            .is_none_or(|a| a.is_null()),
        "{c}"
    );
    d.docker(&["rm", "-f", &id, "cc", "noanno"]).ok();
    d.docker(&["network", "rm", "vernet"]).ok();
    d.finish();
}
