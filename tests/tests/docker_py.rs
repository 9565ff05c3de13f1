//! docker-py (the `docker` PyPI package, installed by scripts/install-deps.sh)
//! against berthd: tests/py/docker_py_smoke.py drives its high-level API.

use berth_tests::{ci, run, Daemon};
use std::process::Command;
use std::time::Duration;

#[test]
fn docker_py_works_against_berthd() {
    let have = Command::new("python3")
        .args(["-c", "import docker"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        assert!(!ci(), "docker-py is required under CI (pip install docker)");
        eprintln!("SKIP: docker-py is not installed");
        return;
    }
    let d = Daemon::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/py/docker_py_smoke.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script).arg(&d.sock);
    let out = run(cmd, None, Duration::from_secs(120));
    assert_eq!(out.code, 0, "{out:?}\n{}", d.log());
    assert!(out.stdout.contains("docker-py: ok"), "{out:?}");
    d.finish();
}

/// tests/py/docker_py_network.py: a published port (`ports={"80/tcp": None}`)
/// answered on 127.0.0.1, and the network API (create, connect with an
/// alias, reload, disconnect, list by name, remove) with name resolution on
/// the user-defined network.
#[test]
fn docker_py_networking_against_berthd() {
    let have = Command::new("python3")
        .args(["-c", "import docker"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        assert!(!ci(), "docker-py is required under CI (pip install docker)");
        eprintln!("SKIP: docker-py is not installed");
        return;
    }
    let d = Daemon::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/py/docker_py_network.py");
    let mut cmd = Command::new("python3");
    cmd.arg(script)
        .arg(&d.sock)
        .arg(berth_tests::unique("pynet"));
    let out = run(cmd, None, Duration::from_secs(120));
    assert_eq!(out.code, 0, "{out:?}\n{}", d.log());
    assert!(out.stdout.contains("docker-py network: ok"), "{out:?}");
    d.finish();
}
