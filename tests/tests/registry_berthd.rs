//! berthd pushes to and pulls from berth-registry (the docker CLI driving
//! berthd), and the pulled image runs; skopeo reads the push back.
//!
//! Skips when the docker CLI or skopeo is missing, except under `CI=true`.

mod registry_support;

use berth_tests::{require, Daemon, DOCKER};
use registry_support::Reg;

#[test]
fn berthd_push_pull_run() {
    if !require(DOCKER) || !require("skopeo") {
        return;
    }
    let reg = Reg::start();
    let d = Daemon::start();
    let image = format!("{}/berthd/busybox:v1", reg.addr);
    d.docker(&["tag", "busybox", &image]).ok();
    let push = d.docker(&["push", &image]);
    assert!(
        push.ok().contains("v1: digest: sha256:"),
        "{push:?}\nregistry log:\n{}",
        reg.log()
    );
    let inspect = registry_support::skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{image}"),
    ]);
    let remote: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    let digest = remote["Digest"].as_str().unwrap().to_string();
    d.docker(&["rmi", &image, "busybox"]).ok();
    let pull = d.docker(&["pull", &image]);
    assert!(
        pull.ok().contains(&format!("Digest: {digest}")),
        "{pull:?}\nregistry log:\n{}",
        reg.log()
    );
    assert_eq!(
        d.docker(&["run", "--rm", &image, "echo", "via berth-registry"])
            .ok(),
        "via berth-registry\n"
    );
    d.finish();
}

/// `docker search host:port/query`: a registry without Docker Hub's v1
/// search is searched through its catalog; dockerd's limit check; an
/// unreachable registry is an error naming the request.
#[test]
fn search_a_local_registry() {
    if !require(DOCKER) {
        return;
    }
    let reg = Reg::start();
    let d = Daemon::start();
    for name in ["tools/busybox:1", "other/thing:1"] {
        let image = format!("{}/{name}", reg.addr);
        d.docker(&["tag", "busybox", &image]).ok();
        d.docker(&["push", "-q", &image]).ok();
    }
    let out = d
        .docker(&[
            "search",
            "--format",
            "{{.Name}} {{.StarCount}}",
            &format!("{}/busy", reg.addr),
        ])
        .ok()
        .to_string();
    assert_eq!(out.trim(), format!("{}/tools/busybox 0", reg.addr));
    let out = d.docker(&["search", "--limit", "101", &format!("{}/x", reg.addr)]);
    assert!(
        out.stderr
            .contains("Limit 101 is outside the range of [1, 100]"),
        "{out:?}"
    );
    // A registry that is not there (a port nobody listens on: the
    // registry's own, once it is gone).
    let addr = reg.addr.clone();
    drop(reg);
    let out = d.docker(&["search", &format!("{addr}/busy")]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains(&format!("{addr}/v1/search")), "{out:?}");
    d.finish();
}
