//! Reliability under load and faults, through the real docker CLI:
//! 100 `run --rm` at once, 20 `run -d` then 20 `rm -f` at once, a restart
//! loop that backs off instead of spinning, and `kill -9` of the daemon
//! while restarts and health checks are in flight. Each ends with the
//! harness's leak check (mounts, netns files, cgroups, processes) and no
//! port left on the test's bridge.

use berth_tests::{require, Daemon, DOCKER};
use std::time::{Duration, Instant};

fn until(what: &str, secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The veths left on the test daemon's default bridge.
fn bridge_ports(d: &Daemon) -> Vec<String> {
    std::fs::read_dir(format!("/sys/class/net/{}/brif", d.net.bridge))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// Runs `n` docker commands at once (one thread each) and returns their
/// outputs in order.
fn at_once(
    d: &Daemon,
    n: usize,
    args: impl Fn(usize) -> Vec<String> + Sync,
) -> Vec<berth_tests::Out> {
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let args = &args;
                s.spawn(move || {
                    let a = args(i);
                    let a: Vec<&str> = a.iter().map(String::as_str).collect();
                    d.docker(&a)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn many_containers_at_once_leave_nothing_behind() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    // 100 `run --rm` at once: each prints its own number and goes.
    let outs = at_once(&d, 100, |i| {
        ["run", "--rm", "busybox", "echo"]
            .iter()
            .map(|s| s.to_string())
            .chain([format!("n{i}")])
            .collect()
    });
    for (i, o) in outs.iter().enumerate() {
        assert_eq!(
            (o.code, o.stdout.trim()),
            (0, format!("n{i}").as_str()),
            "{o:?}"
        );
    }
    // `--rm` removal is done when the client's wait returns (as dockerd).
    assert_eq!(d.docker(&["ps", "-aq"]).ok().trim(), "");
    until("no veth on the bridge", 10, || bridge_ports(&d).is_empty());

    // 20 `run -d` at once, all listed as running, then 20 `rm -f` at once.
    let outs = at_once(&d, 20, |i| {
        ["run", "-d", "--name"]
            .iter()
            .map(|s| s.to_string())
            .chain([
                format!("par{i}"),
                "busybox".into(),
                "sleep".into(),
                "1000".into(),
            ])
            .collect()
    });
    assert!(outs.iter().all(|o| o.code == 0), "{outs:?}");
    let running = d.docker(&["ps", "-q"]).ok().lines().count();
    assert_eq!(running, 20, "{}", d.docker(&["ps", "-a"]).ok());
    assert_eq!(bridge_ports(&d).len(), 20);
    let outs = at_once(&d, 20, |i| {
        vec!["rm".into(), "-f".into(), format!("par{i}")]
    });
    assert!(outs.iter().all(|o| o.code == 0), "{outs:?}");
    assert_eq!(d.docker(&["ps", "-aq"]).ok().trim(), "");
    until("no veth on the bridge", 10, || bridge_ports(&d).is_empty());
    d.finish();
}

/// The daemon's CPU time (user + system) in clock ticks.
fn cpu_ticks(pid: i32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime), counted from after the name.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// `--restart always` on a command that exits at once: dockerd's backoff
/// (100 ms, doubling) keeps the restarts few and the daemon idle between
/// them. A loop without backoff would restart hundreds of times and keep
/// a core busy.
#[test]
fn a_crash_loop_backs_off() {
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    let before = cpu_ticks(d.pid());
    d.docker(&[
        "run",
        "-d",
        "--name",
        "loop",
        "--restart",
        "always",
        "busybox",
        "true",
    ])
    .ok();
    std::thread::sleep(Duration::from_secs(4));
    let count: u32 = d.inspect("loop", "{{.RestartCount}}").parse().unwrap();
    let ticks = cpu_ticks(d.pid()) - before;
    // 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s: about 5 restarts in 4 s.
    assert!((2..=8).contains(&count), "{count} restarts in 4 s");
    // Spinning would cost ~400 ticks (a whole core for 4 s at 100 Hz).
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    assert!(ticks < hz, "the daemon used {ticks} ticks of CPU in 4 s");
    d.docker(&["rm", "-f", "loop"]).ok();
    d.finish();
}

/// The berth-shim processes of one container (nothing may run twice).
fn shims_of(id: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline")).is_ok_and(|c| {
                let c = String::from_utf8_lossy(&c);
                c.contains("berth-shim") && c.contains(&id[..16])
            })
        })
        .count()
}

/// `kill -9` of the daemon while a crash loop backs off and health checks
/// run: after the restart, every container has one shim, the loop goes on
/// counting from where it was, the health checks resume, and the states
/// are what the containers do.
#[test]
fn kill9_during_restarts_and_health_checks() {
    if !require(DOCKER) {
        return;
    }
    let mut d = Daemon::start();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "loop",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        "sleep 0.3; exit 1",
    ])
    .ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "hc",
        "--health-cmd",
        "echo check >> /checks",
        "--health-interval",
        "200ms",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    d.docker(&[
        "run",
        "-d",
        "--name",
        "steady",
        "--restart",
        "unless-stopped",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    until("restarts and checks under way", 20, || {
        d.inspect("loop", "{{.RestartCount}}")
            .parse::<u32>()
            .unwrap()
            >= 2
            && d.inspect("hc", "{{.State.Health.Status}}") == "healthy"
    });
    let ids: Vec<String> = ["loop", "hc", "steady"]
        .iter()
        .map(|n| d.inspect(n, "{{.Id}}"))
        .collect();
    let steady_pid = d.inspect("steady", "{{.State.Pid}}");
    let count_before: u32 = d.inspect("loop", "{{.RestartCount}}").parse().unwrap();
    d.kill9_and_restart();
    // The steady container was not touched: same process.
    assert_eq!(d.inspect("steady", "{{.State.Status}}"), "running");
    assert_eq!(d.inspect("steady", "{{.State.Pid}}"), steady_pid);
    // The loop goes on, counting from where it was.
    until("the loop restarts after the daemon's", 20, || {
        d.inspect("loop", "{{.RestartCount}}")
            .parse::<u32>()
            .unwrap()
            > count_before
    });
    // Health checks resume: the file inside grows.
    let checks = || {
        d.docker(&["exec", "hc", "sh", "-c", "wc -l < /checks"])
            .ok()
            .trim()
            .parse::<u32>()
            .unwrap()
    };
    let n = checks();
    until("health checks after the restart", 20, || checks() > n + 2);
    assert_eq!(d.inspect("hc", "{{.State.Health.Status}}"), "healthy");
    // Nothing runs twice: one shim per container.
    for (name, id) in ["loop", "hc", "steady"].iter().zip(&ids) {
        let shims = shims_of(id);
        assert!(shims <= 1, "{name}: {shims} shims");
    }
    assert_eq!(shims_of(&ids[1]), 1);
    assert_eq!(shims_of(&ids[2]), 1);
    let running = d
        .docker(&["ps", "-q", "--filter", "name=hc"])
        .ok()
        .lines()
        .count();
    assert_eq!(running, 1);
    for n in ["loop", "hc", "steady"] {
        d.docker(&["rm", "-f", n]).ok();
    }
    d.finish();
}

/// What one client can make the daemon hold is bounded: a JSON body over
/// 32 MiB is refused (400) as soon as it passes the limit, and hijacked
/// streams (attach, exec) take at most a quarter of the daemon's open-file
/// limit (503 beyond, naming the limit); the daemon serves on, and a place
/// freed is taken again.
#[test]
fn request_bodies_and_hijacked_streams_are_bounded() {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    if !require(DOCKER) {
        return;
    }
    let d = Daemon::start();
    // A 33 MiB create body, sent while the answer is read.
    let mut s = UnixStream::connect(&d.sock).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let len = 33 << 20;
    let head = format!(
        "POST /containers/create HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nContent-Length: {len}\r\n\r\n"
    );
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(head.as_bytes());
        let _ = w.write_all(b"{\"Image\": \"busybox\", \"Env\": [\"");
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..33 {
            if w.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&answer).contains("}\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("request body too large"), "{answer}");
    drop(s);
    let _ = writer.join();
    assert_eq!(d.api("GET", "/_ping", b"").0, 200);
    assert_eq!(
        d.docker(&["ps", "-aq"]).ok().trim(),
        "",
        "nothing was created"
    );

    // Streams: a soft open-file limit of 160 leaves (160 - 128) / 4 = 8.
    // (It writes now and then: a client that left is seen at the next
    // write, as with dockerd.)
    let id = d
        .docker(&[
            "run",
            "-d",
            "-i",
            "busybox",
            "sh",
            "-c",
            "while true; do echo x; sleep 0.2; done",
        ])
        .ok()
        .trim()
        .to_string();
    let pid = d.pid().to_string();
    let st = std::process::Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=160:"])
        .status()
        .unwrap();
    assert!(st.success());
    let attach = || {
        let mut s = UnixStream::connect(&d.sock).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "POST /containers/{id}/attach?stream=1&stdout=1&stdin=1 HTTP/1.1\r\nHost: berth\r\n\
             Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match s.read(&mut b) {
                Ok(1) => head.push(b[0]),
                _ => break,
            }
        }
        (s, String::from_utf8_lossy(&head).into_owned())
    };
    let mut held = Vec::new();
    for i in 0..8 {
        let (s, head) = attach();
        assert!(head.starts_with("HTTP/1.1 101"), "stream {i}: {head}");
        held.push(s);
    }
    let (mut s, head) = attach();
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    let mut body = String::new();
    let mut b = [0u8; 512];
    while !body.contains("}\n") {
        match s.read(&mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.push_str(&String::from_utf8_lossy(&b[..n])),
        }
    }
    assert!(
        body.contains("too many attached streams") && body.contains("at most 8"),
        "{body}"
    );
    // Still serving, and an ended stream's place is taken again.
    assert_eq!(d.api("GET", "/_ping", b"").0, 200);
    held.pop();
    until("a freed stream place", 10, || {
        attach().1.starts_with("HTTP/1.1 101")
    });
    drop(held);
    let st = std::process::Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=20000:"])
        .status()
        .unwrap();
    assert!(st.success());
    d.docker(&["rm", "-f", &id]).ok();
    d.finish();
}
