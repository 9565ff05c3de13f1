//! berthd's configuration: dockerd's rules for daemon.json and flags, and
//! several listeners (unix and TCP) at once.

use berth_tests::{bin, free_port, run};
use std::process::Command;
use std::time::Duration;

fn berthd_with_config(config: &str, extra: &[&str]) -> berth_tests::Out {
    let dir = tempfile::Builder::new()
        .prefix("berth-tcfg")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::write(dir.path().join("daemon.json"), config).unwrap();
    let mut c = Command::new(bin("berthd"));
    c.arg("--config-file").arg(dir.path().join("daemon.json"));
    c.arg("--data-root").arg(dir.path().join("data"));
    c.args(extra);
    run(c, None, Duration::from_secs(20))
}

#[test]
fn unknown_keys_and_conflicts_are_refused_like_dockerd() {
    let out = berthd_with_config(r#"{"bogus-key": 1}"#, &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("the following directives don't match any configuration option: bogus-key"),
        "{out:?}"
    );
    let out = berthd_with_config(r#"{"exec-root": "/tmp/x"}"#, &["--exec-root", "/tmp/y"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("specified both as a flag and in the configuration file: exec-root"),
        "{out:?}"
    );
    let out = berthd_with_config("{not json", &[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("unable to configure"), "{out:?}");
}

#[test]
fn listens_on_unix_and_tcp_together() {
    let port = free_port();
    let dir = tempfile::Builder::new()
        .prefix("berth-tcfg")
        .tempdir_in("/tmp")
        .unwrap();
    // No default bridge, firewall or forwarding: this daemon runs no
    // containers, and a test never routes traffic off the machine.
    std::fs::write(
        dir.path().join("daemon.json"),
        r#"{"bridge": "none", "iptables": false, "ip-forward": false}"#,
    )
    .unwrap();
    let sock = dir.path().join("d.sock");
    let mut child = Command::new(bin("berthd"))
        .arg("--config-file")
        .arg(dir.path().join("daemon.json"))
        .arg("--data-root")
        .arg(dir.path().join("data"))
        .arg("--exec-root")
        .arg(dir.path().join("exec"))
        .args([
            "-H",
            &format!("unix://{}", sock.display()),
            "-H",
            &format!("tcp://127.0.0.1:{port}"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "no tcp listener");
        std::thread::sleep(Duration::from_millis(20));
    }
    if berth_tests::require(berth_tests::DOCKER) {
        let mut c = Command::new(berth_tests::DOCKER);
        c.args([
            "-H",
            &format!("tcp://127.0.0.1:{port}"),
            "version",
            "--format",
            "{{.Server.APIVersion}}",
        ]);
        c.env("DOCKER_CONFIG", dir.path().join("cfg"));
        let out = run(c, None, Duration::from_secs(30));
        assert_eq!(out.ok().trim(), "1.50");
    }
    assert_eq!(berth_tests::http(&sock, "GET", "/_ping", b"").0, 200);
    // SAFETY: stopping the daemon we started, by PID.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    assert!(!sock.exists(), "socket removed at shutdown");
}
