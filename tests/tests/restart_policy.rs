//! Restart policies through the docker CLI: `on-failure:N` stops after N
//! restarts, `always` restarts until `docker stop`, `unless-stopped` and
//! `always` across a daemon restart (and a kill -9 of it), and dockerd's
//! refusals of bad policies.

use berth_tests::{require, Daemon, DOCKER};
use std::time::{Duration, Instant};

fn until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn state(d: &Daemon, name: &str) -> (String, i64) {
    let out = d
        .docker(&["inspect", "-f", "{{.State.Status}} {{.RestartCount}}", name])
        .ok()
        .trim()
        .to_string();
    let (s, n) = out.split_once(' ').unwrap();
    (s.to_string(), n.parse().unwrap())
}

#[test]
fn on_failure_and_always() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    // on-failure:2: two restarts, then it stays exited with its code.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "of",
        "--restart",
        "on-failure:2",
        "busybox",
        "sh",
        "-c",
        "echo run; exit 3",
    ])
    .ok();
    until("two restarts", 20, || {
        state(&d, "of") == ("exited".into(), 2)
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(state(&d, "of"), ("exited".into(), 2));
    assert_eq!(
        d.docker(&["inspect", "-f", "{{.State.ExitCode}}", "of"])
            .ok()
            .trim(),
        "3"
    );
    assert_eq!(d.docker(&["logs", "of"]).ok().matches("run").count(), 3);
    // A success is not a failure: no restart.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "ok",
        "--restart",
        "on-failure",
        "busybox",
        "true",
    ])
    .ok();
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(state(&d, "ok"), ("exited".into(), 0));

    // always: restarts a command that exits at once (backing off), until
    // docker stop; then it stays stopped.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "al",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        "sleep 0.2",
    ])
    .ok();
    until("three restarts", 20, || state(&d, "al").1 >= 3);
    let ps = d.docker(&["ps", "-a", "--filter", "name=al", "--format", "{{.Status}}"]);
    assert!(
        ps.stdout.starts_with("Up ") || ps.stdout.starts_with("Restarting ("),
        "{ps:?}"
    );
    d.docker(&["stop", "-t", "1", "al"]).ok();
    let stopped = state(&d, "al");
    assert_eq!(stopped.0, "exited");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(state(&d, "al"), stopped, "restarted after docker stop");
    // A start by hand starts the count over.
    d.docker(&["start", "al"]).ok();
    assert_eq!(state(&d, "al").1, 0);
    d.docker(&["rm", "-f", "al"]).ok();

    // Refusals, with dockerd's words.
    for (policy, want) in [
        ("sometimes", "unknown policy 'sometimes'"),
        (
            "always:3",
            "maximum retry count can only be used with 'on-failure'",
        ),
    ] {
        let out = d.docker(&["create", "--restart", policy, "busybox", "true"]);
        assert_ne!(out.code, 0);
        assert!(out.stderr.contains(want), "{policy}: {out:?}");
    }
    d.finish();
}

#[test]
fn policies_across_daemon_restarts() {
    if !require(DOCKER) {
        return;
    }
    let mut d = Daemon::start();
    for (name, policy) in [
        ("us-run", "unless-stopped"),
        ("us-stop", "unless-stopped"),
        ("al-stop", "always"),
        ("no-stop", "no"),
    ] {
        d.docker(&[
            "run",
            "-d",
            "--name",
            name,
            "--restart",
            policy,
            "busybox",
            "sleep",
            "1000",
        ])
        .ok();
    }
    for name in ["us-stop", "al-stop", "no-stop"] {
        d.docker(&["stop", "-t", "0", name]).ok();
    }
    // A container that exits while the daemon is away is started again
    // when it comes back, as one whose policy wants it running.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "al-exit",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        "sleep 2",
    ])
    .ok();
    d.stop_daemon();
    std::thread::sleep(Duration::from_secs(3));
    d.start_again();
    until("policies applied at daemon start", 20, || {
        state(&d, "al-stop").0 == "running" && state(&d, "al-exit").0 == "running"
    });
    assert_eq!(state(&d, "us-run").0, "running");
    assert_eq!(state(&d, "us-stop").0, "exited");
    assert_eq!(state(&d, "no-stop").0, "exited");
    // kill -9 of the daemon: nothing runs twice, the policies still hold.
    d.kill9_and_restart();
    assert_eq!(state(&d, "us-run").0, "running");
    assert_eq!(state(&d, "us-stop").0, "exited");
    let running = d.docker(&["ps", "-q"]).ok().lines().count();
    assert_eq!(running, 3, "{}", d.docker(&["ps", "-a"]).ok());
    for n in ["us-run", "al-stop", "al-exit"] {
        d.docker(&["rm", "-f", n]).ok();
    }
    d.finish();
}
