//! `berth` with health checks, `--ulimit`, `--log-opt`, `update` and
//! restart policies, against berthd and against a real dockerd: the same
//! commands, the same results.

use berth_tests::{bin, require, run, Daemon, Dockerd, DOCKER};
use std::process::Command;
use std::time::{Duration, Instant};

fn berth(host: &str, args: &[&str]) -> berth_tests::Out {
    let mut c = Command::new(bin("berth"));
    c.env("DOCKER_HOST", host)
        .env_remove("BERTH_HOST")
        .args(args);
    run(c, None, Duration::from_secs(60))
}

#[track_caller]
fn ok(host: &str, args: &[&str]) -> String {
    let o = berth(host, args);
    assert_eq!(o.code, 0, "{host} {args:?}: {o:?}");
    o.stdout
}

fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn scenario(host: &str) {
    let inspect = |name: &str, f: &str| ok(host, &["inspect", "-f", f, name]).trim().to_string();
    ok(
        host,
        &[
            "run",
            "-d",
            "--name",
            "bhc",
            "--health-cmd",
            "true",
            "--health-interval",
            "200ms",
            "--health-retries",
            "2",
            "busybox",
            "sleep",
            "100",
        ],
    );
    until("healthy", || {
        inspect("bhc", "{{.State.Health.Status}}") == "healthy"
    });
    assert_eq!(
        ok(
            host,
            &[
                "run",
                "--rm",
                "--ulimit",
                "nofile=100:200",
                "busybox",
                "sh",
                "-c",
                "ulimit -n"
            ]
        )
        .trim(),
        "100"
    );
    assert_eq!(
        ok(
            host,
            &["update", "--memory", "96m", "--memory-swap", "192m", "bhc"]
        )
        .trim(),
        "bhc"
    );
    assert_eq!(inspect("bhc", "{{.HostConfig.Memory}}"), "100663296");
    ok(
        host,
        &[
            "run",
            "-d",
            "--name",
            "brf",
            "--restart",
            "on-failure:1",
            "busybox",
            "sh",
            "-c",
            "exit 2",
        ],
    );
    until("one restart", || {
        inspect("brf", "{{.RestartCount}} {{.State.Status}}") == "1 exited"
    });
    ok(host, &["run", "--name", "blog", "--log-opt", "max-size=1k", "--log-opt", "max-file=2", "busybox", "sh", "-c",
        "i=0; while [ $i -lt 100 ]; do echo line-$i-......................................; i=$((i+1)); done"]);
    let logs = ok(host, &["logs", "blog"]);
    assert!(
        logs.trim_end()
            .ends_with("line-99-......................................"),
        "{logs}"
    );
    assert!(logs.lines().count() < 100, "{}", logs.lines().count());
    // Capabilities, devices, sysctls and oom-score-adj as flags of berth run.
    assert_eq!(
        ok(
            host,
            &[
                "run",
                "--rm",
                "--cap-drop",
                "ALL",
                "--cap-add",
                "CHOWN",
                "busybox",
                "grep",
                "CapEff",
                "/proc/self/status"
            ]
        )
        .trim(),
        "CapEff:\t0000000000000001"
    );
    assert_eq!(
        ok(
            host,
            &[
                "run",
                "--rm",
                "--device",
                "/dev/null:/dev/mynull",
                "busybox",
                "stat",
                "-c",
                "%t,%T",
                "/dev/mynull"
            ]
        )
        .trim(),
        "1,3"
    );
    assert_eq!(
        ok(
            host,
            &[
                "run",
                "--rm",
                "--oom-score-adj",
                "123",
                "--sysctl",
                "net.ipv4.ip_unprivileged_port_start=99",
                "busybox",
                "sh",
                "-c",
                "cat /proc/self/oom_score_adj /proc/sys/net/ipv4/ip_unprivileged_port_start"
            ]
        )
        .trim(),
        "123\n99"
    );
    for n in ["bhc", "brf", "blog"] {
        ok(host, &["rm", "-f", n]);
    }
}

#[test]
fn berth_lifecycle_against_berthd_and_dockerd() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    scenario(&d.host());
    d.finish();
    if let Some(dd) = Dockerd::start() {
        dd.import_busybox();
        scenario(&dd.host());
    }
}
