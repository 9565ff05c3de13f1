//! Health checks through the docker CLI: `--health-*` and an image's
//! HEALTHCHECK run as execs by the daemon; `State.Health`, `ps` status and
//! its `health` filter, `health_status` events, timeouts, and checks that
//! go on after a daemon restart.

use berth_tests::{require, Daemon, DOCKER};
use std::time::{Duration, Instant};

fn until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn health(d: &Daemon, name: &str) -> String {
    d.docker(&["inspect", "-f", "{{.State.Health.Status}}", name])
        .ok()
        .trim()
        .to_string()
}

#[test]
fn health_checks_run_and_report() {
    if !require(DOCKER) {
        return;
    }
    let mut d = Daemon::start();
    let since = chrono_now(&d);
    d.docker(&[
        "run",
        "-d",
        "--name",
        "h1",
        "--health-cmd",
        "test -f /tmp/ok",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        "busybox",
        "sh",
        "-c",
        "sleep 1; touch /tmp/ok; exec sleep 1000",
    ])
    .ok();
    assert_eq!(health(&d, "h1"), "starting");
    let ps = d
        .docker(&["ps", "--format", "{{.Status}}", "--filter", "name=h1"])
        .ok()
        .to_string();
    assert!(ps.contains("(health: starting)"), "{ps}");
    until("healthy", 20, || health(&d, "h1") == "healthy");
    let ps = d
        .docker(&["ps", "--format", "{{.Names}} {{.Status}}"])
        .ok()
        .to_string();
    assert!(ps.contains("h1 Up") && ps.contains("(healthy)"), "{ps}");
    assert_eq!(
        d.docker(&["ps", "-q", "--filter", "health=healthy"])
            .ok()
            .lines()
            .count(),
        1
    );
    assert_eq!(
        d.docker(&["ps", "-q", "--filter", "health=unhealthy"])
            .ok()
            .trim(),
        ""
    );
    // Failing: unhealthy after two failures in a row.
    d.docker(&["exec", "h1", "rm", "/tmp/ok"]).ok();
    until("unhealthy", 20, || health(&d, "h1") == "unhealthy");
    let streak = d
        .docker(&["inspect", "-f", "{{.State.Health.FailingStreak}}", "h1"])
        .ok()
        .trim()
        .parse::<i64>()
        .unwrap();
    assert!(streak >= 2, "{streak}");
    let log = d
        .docker(&[
            "inspect",
            "-f",
            "{{range .State.Health.Log}}{{.ExitCode}} {{end}}",
            "h1",
        ])
        .ok()
        .to_string();
    let codes: Vec<&str> = log.split_whitespace().collect();
    assert!(codes.len() <= 5 && codes.last() == Some(&"1"), "{log}");
    // Health-check execs do not pile up in the container's ExecIDs (the
    // user's `docker exec` and at most one check in flight).
    let ids = d
        .docker(&["inspect", "-f", "{{json .ExecIDs}}", "h1"])
        .ok()
        .to_string();
    assert!(ids.matches(',').count() <= 1, "{ids}");
    let now = chrono_now(&d);
    let events = d
        .docker(&[
            "events",
            "--since",
            &since,
            "--until",
            &now,
            "--filter",
            "container=h1",
            "--format",
            "{{.Action}}",
        ])
        .ok()
        .to_string();
    assert!(events.contains("health_status: healthy"), "{events}");
    assert!(events.contains("health_status: unhealthy"), "{events}");

    // A check that outlives its timeout is cut off and fails.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "slow",
        "--health-cmd",
        "sleep 5",
        "--health-timeout",
        "300ms",
        "--health-interval",
        "200ms",
        "--health-retries",
        "1",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    until("slow unhealthy", 20, || health(&d, "slow") == "unhealthy");
    let out = d
        .docker(&[
            "inspect",
            "-f",
            "{{(index .State.Health.Log 0).Output}}",
            "slow",
        ])
        .ok()
        .to_string();
    assert!(
        out.contains("Health check exceeded timeout (300ms)"),
        "{out}"
    );

    // An image's HEALTHCHECK, and checks going on after a daemon restart.
    let ctx = d.dir.join("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nHEALTHCHECK --interval=200ms CMD echo fine\nCMD [\"sleep\", \"1000\"]\n",
    )
    .unwrap();
    let mut c = std::process::Command::new(DOCKER);
    c.env("DOCKER_HOST", d.host())
        .env("DOCKER_BUILDKIT", "0")
        .args(["build", "-q", "-t", "hc:1", ctx.to_str().unwrap()]);
    assert_eq!(berth_tests::run(c, None, Duration::from_secs(120)).code, 0);
    d.docker(&["run", "-d", "--name", "img", "hc:1"]).ok();
    until("image check healthy", 20, || health(&d, "img") == "healthy");
    d.restart();
    let runs = |d: &Daemon| {
        d.docker(&[
            "inspect",
            "-f",
            "{{(index .State.Health.Log 0).End}}",
            "img",
        ])
        .ok()
        .to_string()
    };
    let before = runs(&d);
    until("checks after the daemon restart", 20, || runs(&d) != before);
    assert_eq!(health(&d, "img"), "healthy");
    // --no-healthcheck turns the image's check off.
    d.docker(&["run", "-d", "--name", "off", "--no-healthcheck", "hc:1"])
        .ok();
    assert_eq!(
        d.docker(&["inspect", "-f", "{{.State.Health}}", "off"])
            .ok()
            .trim(),
        "<nil>"
    );
    for n in ["h1", "slow", "img", "off"] {
        d.docker(&["rm", "-f", n]).ok();
    }
    d.finish();
}

/// The daemon's clock as `docker events` takes it (RFC 3339).
fn chrono_now(d: &Daemon) -> String {
    let _ = d;
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}.{:09}", t.as_secs(), t.subsec_nanos())
}
