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
        r#"{"bridge": "none", "iptables": false, "ip-forward": false, "emulation": false}"#,
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

/// The unix socket: mode 0660, owned by the `-G` group (or dockerd's
/// default `docker`, when the host has it); a group that is not there is
/// an error at start.
#[test]
fn the_socket_belongs_to_the_group() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::Builder::new()
        .prefix("berth-tcfg")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::write(
        dir.path().join("daemon.json"),
        r#"{"bridge": "none", "iptables": false, "ip-forward": false, "emulation": false}"#,
    )
    .unwrap();
    // A group every Debian system has, and not root's.
    let group = nix::unistd::Group::from_name("users")
        .unwrap()
        .expect("the users group");
    let sock = dir.path().join("d.sock");
    let mut child = Command::new(bin("berthd"))
        .arg("--config-file")
        .arg(dir.path().join("daemon.json"))
        .arg("--data-root")
        .arg(dir.path().join("data"))
        .arg("--exec-root")
        .arg(dir.path().join("exec"))
        .args(["-G", "users", "-H", &format!("unix://{}", sock.display())])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !sock.exists() {
        assert!(std::time::Instant::now() < deadline, "no socket");
        std::thread::sleep(Duration::from_millis(20));
    }
    let m = std::fs::metadata(&sock).unwrap();
    let (mode, gid) = (m.mode() & 0o777, m.gid());
    // SAFETY: signalling the daemon we started, by PID.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    assert_eq!((mode, gid), (0o660, group.gid.as_raw()));
    // (Refused before anything changes on the host: no forwarding, no
    // emulators registered.)
    let out = berthd_with_config(r#"{"emulation": false}"#, &["-G", "berth-no-such-group"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("group berth-no-such-group not found"),
        "{out:?}"
    );
}
