//! testcontainers-python (the `testcontainers` PyPI package, installed by
//! scripts/install-deps.sh) against berthd: tests/py/testcontainers_smoke.py
//! starts a busybox httpd with an exposed port and fetches from it at the
//! host and port testcontainers reports.

use berth_tests::{ci, run, Daemon};
use std::process::Command;
use std::time::Duration;

#[test]
fn testcontainers_python_works_against_berthd() {
    let have = Command::new("python3")
        .args(["-c", "import testcontainers, docker"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        assert!(
            !ci(),
            "testcontainers-python is required under CI (pip install testcontainers)"
        );
        eprintln!("SKIP: testcontainers-python is not installed");
        return;
    }
    let d = Daemon::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/py/testcontainers_smoke.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script)
        .arg(format!("{}.1", d.net.prefix))
        .env("DOCKER_HOST", d.host())
        .env("DOCKER_CONFIG", d.dir.join("docker-config"))
        .env_remove("DOCKER_CONTEXT")
        .env_remove("DOCKER_AUTH_CONFIG")
        .env_remove("TC_HOST")
        .env_remove("TESTCONTAINERS_HOST_OVERRIDE")
        // No Ryuk: it would pull testcontainers/ryuk (no internet here) and
        // mount the docker socket into a container.
        .env("TESTCONTAINERS_RYUK_DISABLED", "true")
        // The test and berthd share the host's network namespace, so the
        // published port is on this host's loopback. Without this,
        // testcontainers guesses from /.dockerenv (present when the tests
        // run inside a container) that it runs in docker-in-docker and
        // would use the bridge's gateway address instead.
        .env("TESTCONTAINERS_CONNECTION_MODE", "docker_host");
    let out = run(cmd, None, Duration::from_secs(120));
    assert_eq!(out.code, 0, "{out:?}\n{}", d.log());
    assert!(out.stdout.contains("testcontainers: ok"), "{out:?}");
    d.finish();
}
