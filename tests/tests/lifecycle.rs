//! Container lifecycle details through the docker CLI: signals, restart,
//! wait conditions, logs options, exec inspect, ps filters.

use berth_tests::{require, Daemon, DOCKER};
use std::time::{Duration, Instant};

fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn signals_restart_and_wait() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    // A trap proves which signal arrived; names and numbers both work.
    let script = "trap 'echo got-usr1' USR1; trap 'echo got-term; exit 9' TERM; echo ready; while true; do sleep 0.1; done";
    d.docker(&["run", "-d", "--name", "sig", "busybox", "sh", "-c", script])
        .ok();
    until("ready", || {
        d.docker(&["logs", "sig"]).stdout.contains("ready")
    });
    d.docker(&["kill", "-s", "USR1", "sig"]).ok();
    until("usr1", || {
        d.docker(&["logs", "sig"]).stdout.contains("got-usr1")
    });
    d.docker(&["kill", "--signal", "15", "sig"]).ok();
    assert_eq!(d.docker(&["wait", "sig"]).ok().trim(), "9");
    assert!(d.docker(&["logs", "sig"]).stdout.contains("got-term"));
    let again = d.docker(&["kill", "sig"]);
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("is not running"), "{again:?}");
    // restart runs the same command again.
    d.docker(&["restart", "-t", "1", "sig"]).ok();
    assert_eq!(
        d.docker(&["inspect", "-f", "{{.State.Status}}", "sig"])
            .ok()
            .trim(),
        "running"
    );
    until("second ready", || {
        d.docker(&["logs", "sig"]).stdout.matches("ready").count() == 2
    });
    // stop uses SIGTERM first: the trap exits 9 within the timeout.
    d.docker(&["stop", "sig"]).ok();
    assert_eq!(
        d.docker(&["inspect", "-f", "{{.State.ExitCode}}", "sig"])
            .ok()
            .trim(),
        "9"
    );
    // --stop-signal is honoured.
    d.docker(&[
        "run",
        "-d",
        "--name",
        "ss",
        "--stop-signal",
        "USR1",
        "--stop-timeout",
        "1",
        "busybox",
        "sh",
        "-c",
        script,
    ])
    .ok();
    until("ss ready", || {
        d.docker(&["logs", "ss"]).stdout.contains("ready")
    });
    d.docker(&["stop", "ss"]).ok();
    assert!(d.docker(&["logs", "ss"]).stdout.contains("got-usr1"));
    assert_eq!(
        d.docker(&["inspect", "-f", "{{.State.ExitCode}}", "ss"])
            .ok()
            .trim(),
        "137"
    );
    d.finish();
}

#[test]
fn logs_options() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "lg",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3; do echo line$i; sleep 0.3; done",
    ])
    .ok();
    // -f follows until the container exits.
    let follow = d.docker(&["logs", "-f", "lg"]);
    assert_eq!(follow.ok(), "line1\nline2\nline3\n");
    assert_eq!(d.docker(&["logs", "--tail", "1", "lg"]).ok(), "line3\n");
    let ts = d
        .docker(&["logs", "-t", "--tail", "1", "lg"])
        .ok()
        .to_string();
    assert!(ts.starts_with("20") && ts.ends_with(" line3\n"), "{ts}");
    assert_eq!(
        d.docker(&["logs", "--since", "2100-01-01T00:00:00Z", "lg"])
            .ok(),
        ""
    );
    d.finish();
}

#[test]
fn exec_inspect_and_ps_filters() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "run", "-d", "--name", "f1", "-l", "tier=web", "busybox", "sleep", "300",
    ])
    .ok();
    d.docker(&["create", "--name", "f2", "-l", "tier=db", "busybox", "true"])
        .ok();
    let names = |filter: &str| {
        let out = d.docker(&["ps", "-a", "--format", "{{.Names}}", "--filter", filter]);
        let mut v: Vec<String> = out.ok().lines().map(String::from).collect();
        v.sort();
        v.join(",")
    };
    assert_eq!(names("status=running"), "f1");
    assert_eq!(names("status=created"), "f2");
    assert_eq!(names("label=tier=db"), "f2");
    assert_eq!(names("label=tier"), "f1,f2");
    assert_eq!(names("name=f"), "f1,f2");
    assert_eq!(names("ancestor=busybox"), "f1,f2");
    let id = d
        .docker(&["inspect", "-f", "{{.Id}}", "f1"])
        .ok()
        .trim()
        .to_string();
    assert_eq!(names(&format!("id={}", &id[..10])), "f1");
    // ps without -a lists only running containers; -q prints short ids.
    assert_eq!(d.docker(&["ps", "-q"]).ok().trim(), &id[..12]);
    // exec: env, workdir, user; exit code via exec inspect (docker CLI reads it).
    let out = d.docker(&[
        "exec",
        "-e",
        "X=1",
        "-w",
        "/tmp",
        "-u",
        "nobody",
        "f1",
        "sh",
        "-c",
        "echo $X $(pwd) $(id -u)",
    ]);
    assert_eq!(out.ok().trim(), "1 /tmp 65534");
    assert_eq!(
        d.docker_in(&["exec", "-i", "f1", "cat"], Some(b"piped\n"))
            .ok(),
        "piped\n"
    );
    // An exec that cannot start exits 126, even for a missing command, as
    // with dockerd (20.10 here, and docker-py's suite for newer ones).
    let missing = d.docker(&["exec", "f1", "nosuchcmd"]);
    assert_eq!(missing.code, 126, "{missing:?}");
    // Without an upgrade, the output is the answer's body, as dockerd.
    let (status, created) = d.api(
        "POST",
        "/containers/f1/exec",
        br#"{"Cmd":["echo","plain"],"AttachStdout":true}"#,
    );
    assert_eq!(status, 201, "{created}");
    let exec: serde_json::Value = serde_json::from_str(&created).unwrap();
    let (status, out) = d.api(
        "POST",
        &format!("/exec/{}/start", exec["Id"].as_str().unwrap()),
        br#"{"Detach":false,"Tty":false}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(out.as_bytes(), b"\x01\0\0\0\0\0\0\x06plain\n");
    let stopped = d.docker(&["exec", "f2", "true"]);
    assert_ne!(stopped.code, 0);
    assert!(stopped.stderr.contains("is not running"), "{stopped:?}");
    d.docker(&["rename", "f2", "f3"]).ok();
    assert_eq!(names("label=tier=db"), "f3");
    d.finish();
}

#[test]
fn top_and_diff_through_the_docker_cli() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "watched",
        "busybox",
        "sh",
        "-c",
        "mkdir /tmp/newdir && touch /tmp/newdir/f && echo x >> /etc/passwd && rm /etc/group && touch /ready && exec sleep 300",
    ])
    .ok();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while d.docker(&["exec", "watched", "test", "-e", "/ready"]).code != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the container never got ready"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // top: the host's ps, only the container's processes.
    let top = d.docker(&["top", "watched"]);
    let lines: Vec<&str> = top.ok().lines().collect();
    assert!(
        lines[0].contains("PID") && lines[0].contains("CMD"),
        "{lines:?}"
    );
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].ends_with("sleep 300"), "{lines:?}");
    let top = d.docker(&["top", "watched", "-o", "pid,comm"]);
    let lines: Vec<&str> = top.ok().lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].trim_end().ends_with("sleep"), "{lines:?}");
    // diff: what the writable layer changed, in Docker's order and letters.
    let diff = d.docker(&["diff", "watched"]);
    assert_eq!(
        diff.ok().lines().collect::<Vec<_>>(),
        vec![
            "C /etc",
            "D /etc/group",
            "C /etc/passwd",
            "A /ready",
            "C /tmp",
            "A /tmp/newdir",
            "A /tmp/newdir/f",
        ]
    );
    // berth prints the same.
    assert_eq!(d.berth(&["diff", "watched"]).ok(), diff.ok());
    let (ours, theirs) = (d.berth(&["top", "watched"]), d.docker(&["top", "watched"]));
    assert_eq!(ours.ok().lines().next(), theirs.ok().lines().next());
    assert_eq!(ours.ok().lines().count(), theirs.ok().lines().count());
    d.docker(&["stop", "-t", "1", "watched"]).ok();
    let out = d.docker(&["top", "watched"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("is not running"), "{out:?}");
    // diff works on a stopped container too.
    assert!(d.docker(&["diff", "watched"]).ok().contains("A /ready"));
    d.finish();
}

#[test]
fn container_prune_keeps_running_and_filtered_containers() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let p1 = d.docker(&["run", "-d", "--name", "p1", "busybox", "true"]);
    let p1 = p1.ok().trim().to_string();
    d.docker(&[
        "run", "--name", "p2", "--label", "keep=1", "busybox", "true",
    ])
    .ok();
    d.docker(&["run", "-d", "--name", "p3", "busybox", "sleep", "300"])
        .ok();
    d.docker(&["wait", "p1"]).ok();
    // Created within the last hour: `until=1h` keeps everything.
    let out = d.docker(&["container", "prune", "-f", "--filter", "until=1h"]);
    assert_eq!(out.ok(), "Total reclaimed space: 0B\n");
    let out = d.docker(&["container", "prune", "-f", "--filter", "label!=keep"]);
    assert_eq!(
        out.ok(),
        format!("Deleted Containers:\n{p1}\n\nTotal reclaimed space: 0B\n")
    );
    let names = |d: &Daemon| {
        let mut v: Vec<String> = d
            .docker(&["ps", "-a", "--format", "{{.Names}}"])
            .ok()
            .lines()
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&d), vec!["p2", "p3"]);
    // berth prints the same report; the running container stays.
    let out = d.berth(&["container", "prune", "-f"]);
    assert!(out.ok().starts_with("Deleted Containers:\n"), "{out:?}");
    assert_eq!(names(&d), vec!["p3"]);
    let (status, body) = d.api(
        "POST",
        "/containers/prune?filters=%7B%22nope%22%3A%5B%22x%22%5D%7D",
        b"",
    );
    assert_eq!(status, 400, "{body}");
    d.finish();
}

#[test]
fn stats_through_the_docker_cli() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    d.docker(&[
        "run", "-d", "--name", "measured", "-m", "64m", "busybox", "sleep", "300",
    ])
    .ok();
    let out = d.docker(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}}|{{.PIDs}}|{{.MemUsage}}|{{.CPUPerc}}",
        "measured",
    ]);
    let line = out.ok().trim().to_string();
    let f: Vec<&str> = line.split('|').collect();
    assert_eq!(f.len(), 4, "{line}");
    assert_eq!(f[0], "measured");
    assert_eq!(f[1], "1", "one process: {line}");
    assert!(f[2].ends_with("/ 64MiB"), "the memory limit: {line}");
    assert!(!f[2].starts_with("0B"), "some memory in use: {line}");
    assert!(f[3].ends_with('%'), "{line}");
    // berth: the same table header as docker, and the same figures.
    // (Column widths follow the figures, which move between two samples:
    // the columns are compared.)
    let columns = |o: &str| -> Vec<String> {
        o.lines()
            .next()
            .unwrap_or_default()
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect()
    };
    let theirs = d.docker(&["stats", "--no-stream", "measured"]);
    let ours = d.berth(&["stats", "--no-stream", "measured"]);
    assert_eq!(columns(ours.ok()), columns(theirs.ok()));
    let ours = d.berth(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}}|{{.PIDs}}|{{.MemUsage}}|{{.CPUPerc}}",
        "measured",
    ]);
    let g: Vec<String> = ours.ok().trim().split('|').map(str::to_string).collect();
    assert_eq!((g[0].as_str(), g[1].as_str()), ("measured", "1"), "{g:?}");
    assert!(g[2].ends_with("/ 64MiB") && g[3].ends_with('%'), "{g:?}");
    // The raw API: one-shot, and a stream that goes on.
    let (status, body) = d.api(
        "GET",
        "/containers/measured/stats?stream=false&one-shot=true",
        b"",
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["name"], "/measured");
    assert!(
        v["cpu_stats"]["system_cpu_usage"].as_u64().unwrap_or(0) > 0,
        "{v}"
    );
    assert_eq!(v["memory_stats"]["limit"], 64 << 20);
    let (status, _) = d.api("GET", "/containers/nosuch/stats?stream=false", b"");
    assert_eq!(status, 404);
    d.finish();
}

#[test]
fn pause_and_unpause_freeze_the_container() {
    if !require(DOCKER) {
        return;
    }
    let mut d = Daemon::start();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "frozen",
        "busybox",
        "sh",
        "-c",
        "i=0; while true; do i=$((i+1)); echo $i > /count; sleep 0.05; done",
    ])
    .ok();
    let upper = d
        .docker(&["inspect", "-f", "{{.GraphDriver.Data.UpperDir}}", "frozen"])
        .ok()
        .trim()
        .to_string();
    let count = || {
        std::fs::read_to_string(format!("{upper}/count"))
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let changes = |wait_ms: u64| {
        let a = count();
        std::thread::sleep(Duration::from_millis(wait_ms));
        a != count()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !changes(200) {
        assert!(Instant::now() < deadline, "the counter never ran");
    }
    d.docker(&["pause", "frozen"]).ok();
    assert!(!changes(400), "a paused container went on counting");
    let state = d.docker(&[
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.Running}} {{.State.Paused}}",
        "frozen",
    ]);
    assert_eq!(state.ok().trim(), "paused true true");
    let ps = d.docker(&["ps", "--format", "{{.Names}} {{.Status}}"]);
    assert!(ps.ok().trim().ends_with("(Paused)"), "{ps:?}");
    let ps = d.docker(&["ps", "-q", "--filter", "status=paused"]);
    assert_eq!(ps.ok().lines().count(), 1);
    let out = d.docker(&["exec", "frozen", "true"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("is paused"), "{out:?}");
    let out = d.docker(&["pause", "frozen"]);
    assert!(out.stderr.contains("is already paused"), "{out:?}");
    // A daemon restart finds it still paused.
    d.restart();
    let state = d.docker(&["inspect", "-f", "{{.State.Status}}", "frozen"]);
    assert_eq!(state.ok().trim(), "paused");
    assert!(!changes(300));
    // berth unpauses it, and it counts again.
    d.berth(&["unpause", "frozen"]).ok();
    assert!(changes(400), "an unpaused container stayed frozen");
    d.docker(&["exec", "frozen", "true"]).ok();
    let out = d.docker(&["unpause", "frozen"]);
    assert!(out.stderr.contains("is not paused"), "{out:?}");
    // A paused container still stops.
    d.berth(&["pause", "frozen"]).ok();
    d.docker(&["stop", "-t", "1", "frozen"]).ok();
    let state = d.docker(&[
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.Paused}}",
        "frozen",
    ]);
    assert_eq!(state.ok().trim(), "exited false");
    d.finish();
}

#[test]
fn events_through_the_docker_cli() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let unix = |delta: i64| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        (now + delta).to_string()
    };
    let since = unix(-1);
    d.docker(&["run", "--name", "ev", "-l", "tier=x", "busybox", "true"])
        .ok();
    d.docker(&["tag", "busybox", "evtag:v1"]).ok();
    d.docker(&["rm", "ev"]).ok();
    d.docker(&["rmi", "evtag:v1"]).ok();
    let until = unix(1);
    let events = |extra: &[&str]| -> Vec<String> {
        let mut args = vec![
            "events",
            "--since",
            &since,
            "--until",
            &until,
            "--format",
            "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
        ];
        args.extend_from_slice(extra);
        d.docker(&args).ok().lines().map(str::to_string).collect()
    };
    let all = events(&[]);
    let want = [
        "container create ev",
        "container start ev",
        "container die ev",
        "image tag evtag:v1",
        "container destroy ev",
        "image untag evtag:v1",
    ];
    let mut at = 0;
    for line in &all {
        if at < want.len() && line == want[at] {
            at += 1;
        }
    }
    assert_eq!(at, want.len(), "missing or out of order: {all:#?}");
    assert!(events(&["--filter", "type=image"])
        .iter()
        .all(|l| l.starts_with("image ")));
    assert_eq!(events(&["--filter", "label=tier=x"]).len(), 4);
    assert!(events(&["--filter", "container=nosuch"]).is_empty());
    // berth prints them exactly as the docker CLI does.
    let range = ["events", "--since", &since, "--until", &until];
    assert_eq!(d.berth(&range).ok(), d.docker(&range).ok());
    // Following: an event arrives while `docker events` runs.
    let mut follow = d.docker_cmd();
    follow
        .args([
            "events",
            "--filter",
            "container=live",
            "--format",
            "{{.Action}}",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = follow.spawn().unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    d.docker(&["run", "--rm", "--name", "live", "busybox", "true"])
        .ok();
    let got = rx.recv_timeout(Duration::from_secs(10));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(got.as_deref(), Ok("create"));
    d.finish();
}
