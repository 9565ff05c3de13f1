//! docker-py (the `docker` PyPI package, installed by scripts/install-deps.sh)
//! against berthd: each script under tests/py/ drives part of its API and
//! prints `<what>: ok` at the end.

use berth_tests::{ci, run, Daemon};
use std::process::Command;
use std::time::Duration;

/// Runs tests/py/`script` with the daemon's socket and `args(d)`, expecting
/// `done` on its output; skips (or fails under CI) without docker-py.
fn run_script(script: &str, args: impl Fn(&Daemon) -> Vec<std::ffi::OsString>, done: &str) {
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
    let path = format!("{}/py/{script}", env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new("python3");
    cmd.arg(path).arg(&d.sock).args(args(&d));
    let out = run(cmd, None, Duration::from_secs(120));
    assert_eq!(out.code, 0, "{out:?}\n{}", d.log());
    assert!(out.stdout.contains(done), "{out:?}");
    d.finish();
}

/// The high-level API: run, list, exec, top, stats, pause, diff, archives,
/// stop/wait/remove, logs, tags, events, prune.
#[test]
fn docker_py_works_against_berthd() {
    run_script("docker_py_smoke.py", |_| vec![], "docker-py: ok");
}

/// A published port (`ports={"80/tcp": None}`) answered on 127.0.0.1, and
/// the network API (create, connect with an alias, reload, disconnect, list
/// by name, remove) with name resolution on the user-defined network.
#[test]
fn docker_py_networking_against_berthd() {
    run_script(
        "docker_py_network.py",
        |_| vec![berth_tests::unique("pynet").into()],
        "docker-py network: ok",
    );
}

/// The volume API (create with labels, list by label, `Mountpoint` under
/// the data root, get, remove refused with 409 while a container uses the
/// volume, prune's answer) and `volumes={name: {"bind": ..., "mode": ...}}`
/// on run. The script passes against dockerd 20.10 too.
#[test]
fn docker_py_volumes_against_berthd() {
    run_script(
        "docker_py_volumes.py",
        |d| {
            vec![
                d.dir.join("data").into(),
                berth_tests::unique("pyvol").into(),
            ]
        },
        "docker-py volumes: ok",
    );
}

/// `images.build()` (it parses the legacy build stream itself), build
/// args, and a failing build as BuildError.
#[test]
fn docker_py_builds_against_berthd() {
    run_script("docker_py_build.py", |_| vec![], "docker-py build: ok");
}

/// Restart policies, update and health checks through docker-py's
/// high-level API, and a refused option as a 400 naming it.
#[test]
fn docker_py_lifecycle_against_berthd() {
    run_script(
        "docker_py_lifecycle.py",
        |_| vec![],
        "docker-py lifecycle: ok",
    );
}

/// The stream and API details SDKs rely on: exec framing by the start's
/// Tty, detach keys (default, parameter, config.json, exec), attach with
/// logs and without stream, swarm 503s, diff without /etc, the runtime and
/// log driver echoed, a bad load as ImageLoadError, link removal, network
/// stats.
#[test]
fn docker_py_api_details_against_berthd() {
    run_script(
        "docker_py_api.py",
        |d| vec![d.dir.clone().into_os_string()],
        "docker-py api: ok",
    );
}
