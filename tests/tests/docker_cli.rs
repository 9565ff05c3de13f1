//! Acceptance for the first vertical slice (issue 2), driven through the
//! real Docker CLI (`/usr/local/bin/docker`) against a private berthd.

use berth_tests::{require, Daemon, PtySession, DOCKER};
use std::time::{Duration, Instant};

fn docker_ok() -> bool {
    require(DOCKER)
}

#[test]
fn version_shows_server() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let out = d.docker(&["version"]);
    let s = out.ok();
    assert!(s.contains("Server: berth"), "{s}");
    assert!(
        s.contains("API version:      1.50 (minimum version 1.24)"),
        "{s}"
    );
    let fmt = d.docker(&["version", "--format", "{{.Server.APIVersion}}"]);
    assert_eq!(fmt.ok().trim(), "1.50");
    assert!(d.docker(&["info"]).ok().contains("Server Version: 0.1.0"));
    d.finish();
}

#[test]
fn core_scenarios_with_the_docker_cli() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    berth_tests::core_scenarios(&|args, input| d.docker_in(args, input));
    d.finish();
}

#[test]
fn run_prints_and_propagates_exit_codes() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    assert_eq!(
        d.docker(&["run", "--rm", "busybox", "echo", "hello"]).ok(),
        "hello\n"
    );
    assert_eq!(
        d.docker(&["run", "--rm", "busybox", "sh", "-c", "exit 3"])
            .code,
        3
    );
    let missing = d.docker(&["run", "--rm", "busybox", "nosuchcmd"]);
    assert_eq!(missing.code, 127, "{missing:?}");
    assert!(
        missing.stderr.contains("executable file not found"),
        "{missing:?}"
    );
    // Only the daemon's answer: what the runtime wrote on the container's
    // stderr while failing reaches neither the attached client nor the log.
    assert!(!missing.stderr.contains("berth-runtime"), "{missing:?}");
    // --rm removed every container, including the one that failed to start.
    assert_eq!(d.docker(&["ps", "-aq"]).ok(), "");
    let stderr = d.docker(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2",
    ]);
    assert_eq!(
        (stderr.stdout.as_str(), stderr.stderr.as_str()),
        ("out\n", "err\n")
    );
    d.finish();
}

#[test]
fn detached_container_lifecycle() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let id = d
        .docker(&[
            "run",
            "-d",
            "--name",
            "web",
            "busybox",
            "sh",
            "-c",
            "echo started; exec sleep 300",
        ])
        .ok()
        .trim()
        .to_string();
    assert_eq!(id.len(), 64, "{id}");
    let ps = d.docker(&["ps"]).ok().to_string();
    assert!(
        ps.contains(&id[..12]) && ps.contains("web") && ps.contains("Up "),
        "{ps}"
    );
    assert_eq!(
        d.docker(&["ps", "--format", "{{.Names}} {{.Status}}"])
            .ok()
            .split(' ')
            .next(),
        Some("web")
    );
    assert_eq!(
        d.docker(&["exec", "web", "cat", "/etc/hostname"])
            .ok()
            .trim(),
        &id[..12]
    );
    assert_eq!(d.docker(&["exec", "web", "sh", "-c", "exit 4"]).code, 4);
    assert_eq!(
        d.docker(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.Config.Hostname}}",
            "web"
        ])
        .ok()
        .trim(),
        format!("running {}", &id[..12])
    );
    // Logs arrive through the shim's json-file log.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !d.docker(&["logs", "web"]).stdout.contains("started") {
        assert!(Instant::now() < deadline, "no logs");
        std::thread::sleep(Duration::from_millis(50));
    }
    d.docker(&["stop", "-t", "1", "web"]).ok();
    assert_eq!(
        d.docker(&[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.ExitCode}}",
            "web"
        ])
        .ok()
        .trim(),
        "exited 137"
    );
    assert!(d
        .docker(&["ps", "-a", "--filter", "status=exited"])
        .ok()
        .contains("web"));
    d.docker(&["rm", "web"]).ok();
    assert_eq!(d.docker(&["ps", "-aq"]).ok(), "");
    d.finish();
}

#[test]
fn interactive_stdin_is_echoed() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let out = d.docker_in(
        &["run", "-i", "--rm", "busybox", "cat"],
        Some(b"line one\nline two\n"),
    );
    assert_eq!(out.ok(), "line one\nline two\n");
    let out = d.docker_in(
        &["run", "-i", "--rm", "busybox", "wc", "-c"],
        Some(&[b'x'; 100_000]),
    );
    assert_eq!(out.ok().trim(), "100000");
    d.finish();
}

/// `docker run -it` under a real pseudo-terminal.
#[test]
fn tty_session() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let mut cmd = d.docker_cmd();
    cmd.args(["run", "-it", "--rm", "busybox", "sh"]);
    let mut s = PtySession::spawn(cmd);
    s.expect("# ");
    s.send(b"tty; echo inside-$((40+2))\n");
    s.expect("inside-42");
    assert!(s.seen.contains("/dev/pts/"), "{}", s.seen);
    s.send(b"exit 7\n");
    assert_eq!(s.wait(), Some(7));
    d.finish();
}

/// Detaching with ctrl-p ctrl-q from `run -it`, `attach` and `exec -it`
/// under a pty, with `--detach-keys`, and with config.json's `detachKeys`:
/// the CLI returns 0 and the container (or exec) goes on.
#[test]
fn detach_keys_under_a_pty() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let session = |args: &[&str]| {
        let mut cmd = d.docker_cmd();
        cmd.args(args);
        PtySession::spawn(cmd)
    };
    let running = || d.inspect("dk", "{{.State.Status}}") == "running";
    // `docker attach` reports the detach as "read escape sequence" (exit
    // 1), `run` and `exec` end quietly.
    let detached = |s: PtySession| {
        let (code, seen) = s.wait_output();
        assert!(
            code == Some(0) || (code == Some(1) && seen.contains("read escape sequence")),
            "{code:?}: {seen:?}"
        );
    };
    let mut s = session(&["run", "-it", "--name", "dk", "busybox", "sh"]);
    s.expect("# ");
    s.send(&[16, 17]);
    assert_eq!(s.wait(), Some(0));
    assert!(running());
    let mut s = session(&["attach", "dk"]);
    s.send(b"echo again-$((1+1))\n");
    s.expect("again-2");
    s.send(&[16, 17]);
    detached(s);
    assert!(running());
    let mut s = session(&["exec", "-it", "dk", "sh"]);
    s.expect("# ");
    s.send(b"echo in-exec-$((2+1))\n");
    s.expect("in-exec-3");
    s.send(&[16, 17]);
    detached(s);
    let mut s = session(&["attach", "--detach-keys", "ctrl-x,y", "dk"]);
    s.send(b"echo keys\n");
    s.expect("keys");
    s.send(&[0x18, b'y']);
    detached(s);
    assert!(running());
    // The CLI's config.json names other keys.
    let cfg = d.dir.join("docker-config");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(cfg.join("config.json"), r#"{"detachKeys": "ctrl-e"}"#).unwrap();
    let mut s = session(&["attach", "dk"]);
    s.send(b"echo configured\n");
    s.expect("configured");
    s.send(&[5]);
    detached(s);
    assert!(running());
    d.docker(&["rm", "-f", "dk"]).ok();
    d.finish();
}

#[test]
fn memory_limit_reaches_the_cgroup() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    let out = d.docker(&[
        "run", "--rm", "--memory", "64m", "busybox", "sh", "-c",
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max",
    ]);
    assert_eq!(out.ok().trim(), "67108864");
    let pids = d.docker(&[
        "run",
        "--rm",
        "--pids-limit",
        "33",
        "busybox",
        "cat",
        "/sys/fs/cgroup/pids/pids.max",
    ]);
    assert_eq!(pids.ok().trim(), "33");
    d.finish();
}

#[test]
fn container_is_isolated() {
    if !docker_ok() {
        return;
    }
    let d = Daemon::start();
    // PID 1 is the command and only the container's processes are visible.
    assert_eq!(
        d.docker(&["run", "--rm", "busybox", "sh", "-c", "echo $$"])
            .ok()
            .trim(),
        "1"
    );
    let ps = d
        .docker(&["run", "--rm", "busybox", "ps", "-o", "pid,comm"])
        .ok()
        .to_string();
    assert_eq!(ps.lines().count(), 2, "{ps}");
    // The hostname is the container's.
    let host = d.docker(&["run", "--rm", "--hostname", "boxy", "busybox", "hostname"]);
    assert_eq!(host.ok().trim(), "boxy");
    // Its own network namespace, with loopback up (as Docker's --network none).
    let lo = d.docker(&["run", "--rm", "busybox", "ip", "addr", "show", "lo"]);
    assert!(
        lo.ok().contains("inet 127.0.0.1/8") && lo.stdout.contains(",UP"),
        "{lo:?}"
    );
    // The rootfs is the image's, not the host's.
    assert_eq!(
        d.docker(&["run", "--rm", "busybox", "ls", "/etc/debian_version"])
            .code,
        1
    );
    assert!(d
        .docker(&["run", "--rm", "busybox", "ls", "/bin/busybox"])
        .ok()
        .contains("busybox"));
    // Writes stay in the container's layer.
    d.docker(&[
        "run",
        "--name",
        "writer",
        "busybox",
        "sh",
        "-c",
        "echo x > /marker && rm /bin/ls",
    ])
    .ok();
    assert_eq!(
        d.docker(&[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "test ! -e /marker && test -e /bin/ls"
        ])
        .code,
        0
    );
    d.docker(&["rm", "writer"]).ok();
    // Env, workdir and user reach the process.
    let out = d.docker(&[
        "run",
        "--rm",
        "-e",
        "A=1",
        "-w",
        "/tmp",
        "-u",
        "nobody",
        "busybox",
        "sh",
        "-c",
        "echo $A $(pwd) $(id -u)",
    ]);
    assert_eq!(out.ok().trim(), "1 /tmp 65534");
    // The default seccomp profile refuses new namespaces; unconfined allows them.
    let confined = d.docker(&["run", "--rm", "busybox", "unshare", "-U", "true"]);
    assert_ne!(confined.code, 0, "{confined:?}");
    let free = d.docker(&[
        "run",
        "--rm",
        "--security-opt",
        "seccomp=unconfined",
        "busybox",
        "unshare",
        "-U",
        "true",
    ]);
    assert_eq!(free.code, 0, "{free:?}");
    // Docker's default capabilities: no CAP_SYS_ADMIN, so mount fails.
    assert_ne!(
        d.docker(&["run", "--rm", "busybox", "mount", "-t", "tmpfs", "t", "/mnt"])
            .code,
        0
    );
    d.finish();
}

#[test]
fn runc_can_replace_the_runtime() {
    if !docker_ok() || !require("runc") {
        return;
    }
    let d = Daemon::start();
    assert_eq!(
        d.docker(&[
            "run",
            "--rm",
            "--runtime",
            "runc",
            "busybox",
            "echo",
            "via-runc"
        ])
        .ok(),
        "via-runc\n"
    );
    d.finish();
}

#[test]
fn bad_input_gets_docker_errors_and_daemon_keeps_serving() {
    let d = Daemon::start();
    let create =
        |body: &str, q: &str| d.api("POST", &format!("/containers/create{q}"), body.as_bytes());
    let (s, b) = create(r#"{"Image":"nosuchimage"}"#, "");
    assert_eq!(
        (s, b.contains("No such image: nosuchimage:latest")),
        (404, true),
        "{b}"
    );
    let (s, b) = d.api("GET", "/containers/nosuch/json", b"");
    assert_eq!(
        (s, b.trim()),
        (404, r#"{"message":"No such container: nosuch"}"#)
    );
    let (s, b) = create("{not json", "");
    assert_eq!(s, 400, "{b}");
    assert!(b.starts_with("{\"message\":"), "{b}");
    let (s, b) = create(r#"{"Image":"busybox","HostConfig":{"Memory":1024}}"#, "");
    assert_eq!(
        (s, b.contains("Minimum memory limit allowed is 6MB")),
        (400, true),
        "{b}"
    );
    let (s, _) = create(r#"{"Image":"busybox","Cmd":["sleep","60"]}"#, "?name=taken");
    assert_eq!(s, 201);
    let (s, b) = create(r#"{"Image":"busybox"}"#, "?name=taken");
    assert_eq!((s, b.contains("is already in use")), (409, true), "{b}");
    let (s, _) = create(r#"{"Image":"busybox"}"#, "?name=bad/name");
    assert_eq!(s, 400);
    assert_eq!(d.api("POST", "/containers/taken/start", b"").0, 204);
    let (s, b) = d.api("DELETE", "/containers/taken", b"");
    assert_eq!((s, b.contains("container is running")), (409, true), "{b}");
    assert_eq!(d.api("POST", "/containers/taken/start", b"").0, 304);
    assert_eq!(
        d.api("POST", "/containers/taken/kill?signal=BOGUS", b"").0,
        400
    );
    assert_eq!(d.api("GET", "/v1.99/version", b"").0, 400);
    assert_eq!(d.api("GET", "/nonsense", b"").0, 404);
    assert_eq!(d.api("DELETE", "/containers/taken?force=1", b"").0, 204);
    let (s, b) = d.api("GET", "/_ping", b"");
    assert_eq!((s, b.as_str()), (200, "OK"));
    if require(DOCKER) {
        let out = d.docker(&["run", "--rm", "--memory", "1k", "busybox", "true"]);
        assert_eq!(out.code, 125);
        assert!(
            out.stderr.contains("Minimum memory limit allowed is 6MB"),
            "{out:?}"
        );
        let out = d.docker(&["rm", "nosuch"]);
        assert_eq!(out.code, 1);
        assert!(out.stderr.contains("No such container: nosuch"), "{out:?}");
    }
    d.finish();
}

#[test]
fn containers_survive_a_daemon_restart() {
    if !docker_ok() {
        return;
    }
    let mut d = Daemon::start();
    d.docker(&["run", "-d", "--name", "survivor", "busybox", "sleep", "300"])
        .ok();
    let pid = d
        .docker(&["inspect", "-f", "{{.State.Pid}}", "survivor"])
        .ok()
        .trim()
        .to_string();
    d.stop_daemon();
    assert!(
        std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "container died with the daemon"
    );
    d.restart();
    assert_eq!(
        d.docker(&["inspect", "-f", "{{.State.Status}}", "survivor"])
            .ok()
            .trim(),
        "running"
    );
    d.docker(&["stop", "-t", "1", "survivor"]).ok();
    assert_eq!(
        d.docker(&["inspect", "-f", "{{.State.Status}}", "survivor"])
            .ok()
            .trim(),
        "exited"
    );
    d.finish();
}

#[test]
fn a_killed_daemon_loses_nothing() {
    if !docker_ok() {
        return;
    }
    let mut d = Daemon::start();
    d.docker(&["run", "-d", "--name", "keeper", "busybox", "sleep", "300"])
        .ok();
    d.docker(&["create", "--name", "fresh", "busybox", "true"])
        .ok();
    d.docker(&["run", "--name", "gone", "busybox", "true"]).ok();
    d.docker(&["rm", "gone"]).ok();
    d.docker(&["tag", "busybox", "mine:v1"]).ok();
    // Last before the kill: a container's whole life, ending in an exit.
    let out = d.docker(&[
        "run",
        "--name",
        "done",
        "busybox",
        "sh",
        "-c",
        "echo bye; exit 3",
    ]);
    assert_eq!((out.code, out.stdout.trim()), (3, "bye"), "{out:?}");
    // kill -9 right away: no shutdown, no flush of anything.
    d.kill9_and_restart();
    let ps = d.docker(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]);
    let mut lines: Vec<&str> = ps.ok().lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        vec!["done exited", "fresh created", "keeper running"],
        "{}",
        d.log()
    );
    let state = d.docker(&["inspect", "-f", "{{.State.ExitCode}}", "done"]);
    assert_eq!(state.ok().trim(), "3");
    assert_eq!(d.docker(&["logs", "done"]).ok().trim(), "bye");
    let images = d.docker(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    let mut names: Vec<&str> = images.ok().lines().collect();
    names.sort();
    assert_eq!(names, vec!["busybox:latest", "mine:v1"]);
    // Everything still works: the re-adopted container, and new ones.
    d.docker(&["exec", "keeper", "true"]).ok();
    d.docker(&["stop", "-t", "1", "keeper"]).ok();
    d.docker(&["start", "-a", "fresh"]).ok();
    let out = d.docker(&["run", "--rm", "busybox", "echo", "after"]);
    assert_eq!(out.ok().trim(), "after");
    d.finish();
}
