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
