//! End-to-end test of the `berth` CLI against a real `dockerd`.
//!
//! Starts a private dockerd (own data/exec root and socket under a short
//! /tmp directory), imports a busybox image built from the host's static
//! /bin/busybox, and drives `berth` through run/ps/exec/logs/stop/rm/inspect.
//!
//! Skips (passes with a message) when dockerd, containerd, runc or busybox is
//! missing or when not running as root — except under `CI=true`, where that
//! is a failure. The `berth` binary must already be built
//! (`cargo build -p berth`); it is looked up in `../target/debug/berth`.

use berth_tests::Dockerd;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit={} stdout={:?} stderr={:?}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Run `berth -H <host> args...` with optional stdin, with a timeout.
fn berth(d: &Dockerd, args: &[&str], stdin: Option<&[u8]>) -> Out {
    let mut cmd = Command::new(berth_tests::bin("berth"));
    cmd.arg("-H").arg(d.host()).args(args);
    berth_cmd(cmd, stdin, args)
}

fn berth_cmd(mut cmd: Command, stdin: Option<&[u8]>, args: &[&str]) -> Out {
    cmd.env_remove("BERTH_API_VERSION")
        .env_remove("DOCKER_API_VERSION");
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn berth");
    if let Some(data) = stdin {
        let mut w = child.stdin.take().unwrap();
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        });
    }
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = so.read_to_end(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = se.read_to_end(&mut s);
        s
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("berth {args:?} timed out after 120s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Out {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
    }
}

fn ok(d: &Dockerd, args: &[&str]) -> Out {
    let o = berth(d, args, None);
    assert_eq!(o.code, 0, "berth {args:?} failed: {o:?}");
    o
}

/// rootfs tarball: bin/busybox plus applet symlinks.
fn busybox_tar(path: &Path, busybox: &Path) {
    let f = std::fs::File::create(path).unwrap();
    let mut b = tar::Builder::new(f);
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    for d in ["bin", "etc", "tmp"] {
        b.append_data(&mut dir.clone(), d, std::io::empty())
            .unwrap();
    }
    let data = std::fs::read(busybox).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o755);
    h.set_size(data.len() as u64);
    b.append_data(&mut h, "bin/busybox", &data[..]).unwrap();
    for applet in [
        "sh", "echo", "cat", "true", "sleep", "hostname", "ls", "id", "env", "pwd",
    ] {
        let mut l = tar::Header::new_gnu();
        l.set_entry_type(tar::EntryType::Symlink);
        l.set_mode(0o777);
        l.set_size(0);
        b.append_link(&mut l, format!("bin/{applet}"), "busybox")
            .unwrap();
    }
    b.into_inner().unwrap().sync_all().unwrap();
}

#[test]
fn cli_against_dockerd() {
    let bin = berth_tests::bin("berth");
    let Some(busybox) = ["/bin/busybox", "/usr/bin/busybox"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
    else {
        assert!(!berth_tests::ci(), "busybox-static is required under CI");
        return eprintln!("SKIP: busybox is not installed (apt-get install busybox-static)");
    };
    eprintln!("using {}", bin.display());

    let Some(d) = Dockerd::start() else { return };

    // version: both sections, server via the negotiated (1.41) API.
    let v = ok(&d, &["version"]);
    assert!(v.stdout.starts_with("Client:\n"), "{v:?}");
    assert!(v.stdout.contains("\nServer:"), "{v:?}");
    assert!(v.stdout.contains(" Engine:\n"), "{v:?}");
    assert!(v.stdout.contains("API version:"), "{v:?}");

    // BERTH_HOST is honoured when -H is absent.
    let mut cmd = Command::new(&bin);
    cmd.arg("version")
        .arg("--format")
        .arg("{{.Server.Version}}")
        .env("BERTH_HOST", d.host())
        .env_remove("DOCKER_HOST");
    let o = berth_cmd(cmd, None, &["version", "--format"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(!o.stdout.trim().is_empty(), "{o:?}");

    // import the busybox image
    let tarball = d.dir.join("busybox.tar");
    busybox_tar(&tarball, &busybox);
    let o = ok(&d, &["import", tarball.to_str().unwrap(), "busybox:latest"]);
    assert!(o.stdout.trim().starts_with("sha256:"), "{o:?}");
    let o = ok(&d, &["images"]);
    assert!(
        o.stdout.starts_with("REPOSITORY   TAG       IMAGE ID"),
        "{o:?}"
    );
    assert!(o.stdout.contains("busybox      latest"), "{o:?}");

    // run: output and exit codes
    let o = ok(&d, &["run", "--rm", "busybox", "echo", "hello"]);
    assert_eq!(o.stdout, "hello\n", "{o:?}");
    let o = berth(&d, &["run", "--rm", "busybox", "sh", "-c", "exit 3"], None);
    assert_eq!(o.code, 3, "{o:?}");
    let o = berth(
        &d,
        &["run", "--rm", "busybox", "sh", "-c", "echo to-err >&2"],
        None,
    );
    assert_eq!((o.code, o.stdout.as_str()), (0, ""), "{o:?}");
    assert!(o.stderr.contains("to-err\n"), "{o:?}");
    let o = berth(&d, &["run", "--rm", "busybox", "no-such-binary"], None);
    assert_eq!(o.code, 127, "{o:?}");
    assert!(
        o.stderr.contains("berth: Error response from daemon:"),
        "{o:?}"
    );
    let o = berth(&d, &["run", "-m", "12q", "busybox", "true"], None);
    assert_eq!(o.code, 125, "{o:?}");
    assert!(o.stderr.contains("invalid suffix: 'q'"), "{o:?}");

    // run -i: stdin is copied and half-closed at EOF
    let o = berth(
        &d,
        &["run", "-i", "--rm", "busybox", "cat"],
        Some(b"ping\npong\n"),
    );
    assert_eq!((o.code, o.stdout.as_str()), (0, "ping\npong\n"), "{o:?}");

    // detached container lifecycle
    let name = format!("berth-it-{}", std::process::id());
    let o = ok(
        &d,
        &[
            "run",
            "-d",
            "--name",
            &name,
            "-l",
            "suite=cli",
            "busybox",
            "sh",
            "-c",
            "echo started; sleep 0.2; echo to-stderr >&2; exec sleep 300",
        ],
    );
    let id = o.stdout.trim().to_string();
    assert_eq!(id.len(), 64, "expected a full container ID: {o:?}");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()), "{o:?}");

    let o = ok(&d, &["ps"]);
    assert!(
        o.stdout.starts_with("CONTAINER ID   IMAGE     COMMAND"),
        "{o:?}"
    );
    let line = o
        .stdout
        .lines()
        .find(|l| l.contains(&name))
        .unwrap_or_else(|| panic!("ps lacks {name}: {o:?}"));
    assert!(line.starts_with(&id[..12]), "{line}");
    assert!(line.contains("Up "), "{line}");
    let o = ok(&d, &["ps", "--format", "{{.Names}}"]);
    assert!(o.stdout.lines().any(|l| l == name), "{o:?}");
    let o = ok(&d, &["ps", "-q", "--no-trunc", "-f", "label=suite=cli"]);
    assert_eq!(o.stdout.trim(), id, "{o:?}");

    let o = ok(&d, &["exec", &name, "cat", "/etc/hostname"]);
    assert_eq!(o.stdout.trim(), &id[..12], "{o:?}");

    // top and diff, formatted as the docker CLI does.
    let o = ok(&d, &["top", &name]);
    let lines: Vec<&str> = o.stdout.lines().collect();
    assert!(
        lines[0].starts_with("UID") && lines[0].contains("PID"),
        "{o:?}"
    );
    assert!(lines.iter().any(|l| l.ends_with("sleep 300")), "{o:?}");
    ok(&d, &["exec", &name, "sh", "-c", ": > /made-by-test"]);
    let o = ok(&d, &["diff", &name]);
    assert!(o.stdout.lines().any(|l| l == "A /made-by-test"), "{o:?}");
    let o = berth(&d, &["exec", &name, "sh", "-c", "exit 7"], None);
    assert_eq!(o.code, 7, "{o:?}");
    let o = berth(&d, &["exec", "-i", &name, "cat"], Some(b"via exec\n"));
    assert_eq!((o.code, o.stdout.as_str()), (0, "via exec\n"), "{o:?}");

    let o = ok(&d, &["inspect", "-f", "{{.State.Status}}", &name]);
    assert_eq!(o.stdout, "running\n", "{o:?}");
    let o = ok(&d, &["inspect", "-f", "{{json .Config.Labels}}", &name]);
    assert_eq!(o.stdout.trim(), r#"{"suite":"cli"}"#, "{o:?}");
    let o = ok(&d, &["inspect", &name]);
    let v: serde_json::Value = serde_json::from_str(&o.stdout).expect("inspect prints JSON");
    assert_eq!(v[0]["Id"], id.as_str());

    // logs: stdout and stderr demultiplexed to the right streams
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = ok(&d, &["logs", &name]);
        if o.stdout == "started\n" && o.stderr == "to-stderr\n" {
            break;
        }
        assert!(Instant::now() < deadline, "unexpected logs: {o:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = ok(&d, &["logs", "--tail", "2", "-t", &name]);
    assert!(
        o.stdout.ends_with(" started\n") && o.stdout.starts_with("20"),
        "{o:?}"
    );
    assert!(o.stderr.ends_with(" to-stderr\n"), "{o:?}");
    let o = ok(&d, &["logs", "--tail", "1", &name]);
    assert_eq!(
        (o.stdout.as_str(), o.stderr.as_str()),
        ("", "to-stderr\n"),
        "{o:?}"
    );

    let o = ok(&d, &["stop", "-t", "1", &name]);
    assert_eq!(o.stdout, format!("{name}\n"));
    let o = ok(&d, &["inspect", "-f", "{{.State.Status}}", &name]);
    assert_eq!(o.stdout, "exited\n", "{o:?}");
    let o = ok(&d, &["ps", "-a", "--format", "{{.Names}} {{.State}}"]);
    assert!(
        o.stdout.lines().any(|l| l == format!("{name} exited")),
        "{o:?}"
    );
    let o = ok(&d, &["rm", &name]);
    assert_eq!(o.stdout, format!("{name}\n"));
    let o = ok(&d, &["ps", "-a", "--format", "{{.Names}}"]);
    assert!(!o.stdout.contains(&name), "{o:?}");

    // errors for unknown containers
    for args in [
        vec!["stop", "berth-no-such-ctr"],
        vec!["logs", "berth-no-such-ctr"],
        vec!["rm", "berth-no-such-ctr"],
    ] {
        let o = berth(&d, &args, None);
        assert_eq!(o.code, 1, "{args:?}: {o:?}");
        assert!(o.stderr.contains("No such container"), "{args:?}: {o:?}");
        assert!(
            o.stderr.starts_with("Error response from daemon:"),
            "{args:?}: {o:?}"
        );
    }
    let o = berth(&d, &["inspect", "berth-no-such-ctr"], None);
    assert_eq!(o.code, 1, "{o:?}");
    assert!(o.stderr.contains("No such object"), "{o:?}");

    // create + start -a
    let cname = format!("{name}-c");
    ok(
        &d,
        &[
            "create",
            "--name",
            &cname,
            "busybox",
            "sh",
            "-c",
            "echo created-run; exit 4",
        ],
    );
    let o = berth(&d, &["start", "-a", &cname], None);
    assert_eq!((o.code, o.stdout.as_str()), (4, "created-run\n"), "{o:?}");
    ok(&d, &["rm", &cname]);

    // tag / rmi
    ok(&d, &["tag", "busybox", "berth-test/bb:v1"]);
    let o = ok(&d, &["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(o.stdout.lines().any(|l| l == "berth-test/bb:v1"), "{o:?}");
    let o = ok(&d, &["rmi", "berth-test/bb:v1"]);
    assert_eq!(o.stdout, "Untagged: berth-test/bb:v1\n", "{o:?}");

    // The scenarios every client/daemon pair runs.
    berth_tests::core_scenarios(&|args, input| {
        let o = berth(&d, args, input);
        berth_tests::Out {
            code: o.code,
            stdout: o.stdout,
            stderr: o.stderr,
        }
    });

    drop(d);
}

/// Removes the test's containers, networks and bridges even when an
/// assertion fails midway, so no bridge outlives the test.
struct NetCleanup<'a> {
    d: &'a Dockerd,
    containers: Vec<String>,
    networks: Vec<String>,
    bridges: Vec<String>,
}

impl Drop for NetCleanup<'_> {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = self.d.docker(&["rm", "-f", c]);
        }
        for n in &self.networks {
            let _ = self.d.docker(&["network", "rm", "-f", n]);
        }
        for b in &self.bridges {
            if Path::new("/sys/class/net").join(b).exists() {
                let _ = Command::new("ip").args(["link", "delete", b]).status();
            }
        }
    }
}

/// `berth network create/ls/inspect/rm`, `port` and the `ps` PORTS column
/// print exactly what the docker CLI prints against the same dockerd.
#[test]
fn network_and_ports_like_docker() {
    if !berth_tests::require("busybox") {
        return;
    }
    let Some(d) = Dockerd::start() else { return };
    d.import_busybox();
    let pid = std::process::id() % 100_000;
    let (n1, n2) = (format!("bnet{pid}a"), format!("bnet{pid}b"));
    let (b1, b2) = (format!("btn{pid}a"), format!("btn{pid}b"));
    let (c1, c2) = (format!("bport{pid}a"), format!("bport{pid}b"));
    let _cleanup = NetCleanup {
        d: &d,
        containers: vec![c1.clone(), c2.clone()],
        networks: vec![n1.clone(), n2.clone()],
        bridges: vec![b1.clone(), b2.clone()],
    };
    // Same exit status, stdout and stderr (berth's name read as docker's).
    // (Not `{{.Labels}}` of several labels: docker joins them in Go's random
    // map order.)
    let same = |args: &[&str]| {
        let want = d.docker(args);
        let got = berth(&d, args, None);
        let fix = |s: &str| s.replace("berth", "docker");
        assert_eq!(
            (got.code, fix(&got.stdout), fix(&got.stderr)),
            (want.code, want.stdout.clone(), want.stderr.clone()),
            "berth {args:?} differs from docker"
        );
        want.stdout
    };

    // One network made by each client (10.97/16: outside the 10.128/9 the
    // berthd test daemons take their bridges from).
    let bridge_opt1 = format!("com.docker.network.bridge.name={b1}");
    let o = ok(
        &d,
        &[
            "network",
            "create",
            "--subnet",
            "10.97.1.0/24",
            "--gateway",
            "10.97.1.1",
            "--ip-range",
            "10.97.1.128/25",
            "--aux-address",
            "r=10.97.1.5",
            "-o",
            &bridge_opt1,
            "--label",
            "suite=net",
            "--label",
            "com.example.tier-name=front",
            &n1,
        ],
    );
    assert_eq!(o.stdout.trim().len(), 64, "{o:?}");
    let bridge_opt2 = format!("com.docker.network.bridge.name={b2}");
    let o = d.docker(&[
        "network",
        "create",
        "--subnet",
        "10.97.2.0/24",
        "-o",
        &bridge_opt2,
        "--internal",
        &n2,
    ]);
    assert_eq!(o.code, 0, "{o:?}");

    let ls = same(&["network", "ls"]);
    assert!(
        ls.starts_with("NETWORK ID     NAME") && ls.contains(&n1) && ls.contains(&n2),
        "{ls}"
    );
    same(&["network", "list", "-q", "--no-trunc"]);
    // n2 only: n1's two labels come in Go's random map order from docker.
    same(&[
        "network",
        "ls",
        "-f",
        &format!("name={n2}"),
        "--format",
        "json",
    ]);
    same(&[
        "network",
        "ls",
        "-f",
        "label=suite=net",
        "--format",
        "table {{.Name}}\t{{.Label \"suite\"}}\t{{.Internal}}\t{{.Label \"com.example.tier-name\"}}",
    ]);
    same(&[
        "network",
        "ls",
        "-f",
        &format!("name={n2}"),
        "--format",
        "{{.ID}} {{.Driver}} {{.Scope}} {{.IPv6}} {{.CreatedAt}}",
    ]);
    let inspect = same(&["network", "inspect", &n1, &n2]);
    assert!(inspect.contains("\"AuxiliaryAddresses\""), "{inspect}");
    same(&["network", "inspect", "-f", "json", &n1]);
    same(&[
        "network",
        "inspect",
        "-f",
        "{{.Name}} {{.Internal}} {{json .IPAM.Config}}",
        &n2,
        "nosuch-net-x",
        &n1,
    ]);
    same(&["network", "inspect", "nosuch-net-x"]);
    same(&["network", "rm", "nosuch-net-x"]);
    same(&["network", "rm", "-f", "nosuch-net-x"]);
    same(&["network", "create"]);
    same(&[
        "network",
        "create",
        "--subnet",
        "10.97.3.0/24",
        "--gateway",
        "10.97.4.1",
        "x",
    ]);

    // Published ports: one container made by each client, on a user network
    // (this dockerd has no default bridge).
    let (p1, p2) = (
        berth_tests::free_port().to_string(),
        berth_tests::free_port().to_string(),
    );
    let o = ok(
        &d,
        &[
            "run",
            "-d",
            "--name",
            &c1,
            "--network",
            &n1,
            "--network-alias",
            "web",
            "-p",
            &format!("127.0.0.1:{p1}:80"),
            "-p",
            "127.0.0.1::81/udp",
            "--expose",
            "7000-7002",
            "busybox",
            "sleep",
            "300",
        ],
    );
    assert_eq!(o.stdout.trim().len(), 64, "{o:?}");
    let o = d.docker(&[
        "run",
        "-d",
        "--name",
        &c2,
        "--network",
        &n1,
        "-p",
        &format!("127.0.0.1:{p2}:{p2}"),
        "-P",
        "--expose",
        "5000",
        "busybox",
        "sleep",
        "300",
    ]);
    assert_eq!(o.code, 0, "{o:?}");
    // What dockerd stored from berth's body.
    let o = ok(
        &d,
        &[
            "inspect",
            "-f",
            "{{json .HostConfig.PortBindings}} {{.HostConfig.NetworkMode}}",
            &c1,
        ],
    );
    assert_eq!(
        o.stdout,
        format!("{{\"80/tcp\":[{{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"{p1}\"}}],\"81/udp\":[{{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}}]}} {n1}\n")
    );
    let o = ok(
        &d,
        &["inspect", "-f", "{{json .NetworkSettings.Networks}}", &c1],
    );
    let nets: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(nets[&n1]["Aliases"][0], "web", "{o:?}");

    let filter = format!("name=bport{pid}");
    let ports = same(&[
        "ps",
        "--filter",
        &filter,
        "--format",
        "{{.Names}}: {{.Ports}} {{.Networks}}",
    ]);
    assert!(
        ports.contains(&format!("127.0.0.1:{p1}->80/tcp")),
        "{ports}"
    );
    assert!(ports.contains("7000-7002/tcp"), "{ports}");
    same(&["ps", "--filter", &filter]);
    for c in [&c1, &c2] {
        same(&["port", c]);
        same(&["container", "port", c, "80"]);
        same(&["port", c, "81/udp"]);
        same(&["port", c, "82"]);
        same(&["port", c, "x"]);
    }
    same(&["port", "nosuch-ctr-x"]);
    same(&["port"]);

    // A network in use is refused alike; removed once free.
    same(&["network", "rm", &n1]);
    let o = ok(&d, &["rm", "-f", &c1, &c2]);
    assert_eq!(o.stdout, format!("{c1}\n{c2}\n"));
    let o = ok(&d, &["network", "rm", &n1, &n2]);
    assert_eq!(o.stdout, format!("{n1}\n{n2}\n"));
    let o = ok(&d, &["network", "ls", "--format", "{{.Name}}"]);
    assert!(!o.stdout.contains(&n1) && !o.stdout.contains(&n2), "{o:?}");
    for b in [&b1, &b2] {
        assert!(
            !Path::new("/sys/class/net").join(b).exists(),
            "bridge {b} left behind"
        );
    }
}

/// Removes the volume test's containers (with their anonymous volumes) and
/// volumes even when an assertion fails midway.
struct VolCleanup<'a> {
    d: &'a Dockerd,
    containers: Vec<String>,
    volumes: std::cell::RefCell<Vec<String>>,
}

impl Drop for VolCleanup<'_> {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = self.d.docker(&["rm", "-f", "-v", c]);
        }
        for v in self.volumes.borrow().iter() {
            let _ = self.d.docker(&["volume", "rm", "-f", v]);
        }
    }
}

/// Lines sorted: dockerd lists a container's mounts in map order.
fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(str::to_string).collect();
    v.sort();
    v
}

/// `berth volume create/ls/inspect/rm/prune`, `system df` and the storage
/// flags of `run`/`create` (`-v`, `--mount`, `--tmpfs`, `--volumes-from`,
/// `--volume-driver`) against docker's on the same dockerd: same output and
/// errors, and dockerd stores the same binds, mounts and volumes from
/// berth's create body as from docker's.
#[test]
fn volumes_like_docker() {
    if !berth_tests::require("busybox") {
        return;
    }
    let Some(d) = Dockerd::start() else { return };
    d.import_busybox();
    let pid = std::process::id() % 100_000;
    let [v1, v2, v3] = ["a", "b", "c"].map(|s| format!("bvol{pid}{s}"));
    let [c1, c2, c3, c4, c5] = ["a", "b", "c", "d", "e"].map(|s| format!("bvc{pid}{s}"));
    let cleanup = VolCleanup {
        d: &d,
        containers: vec![c1.clone(), c2.clone(), c3.clone(), c4.clone(), c5.clone()],
        volumes: std::cell::RefCell::new(vec![v1.clone(), v2.clone(), v3.clone()]),
    };
    // berth's name read as docker's (the dockerd's directory is berth-td*).
    let fix = |s: &str| {
        s.replace("berth", "docker")
            .replace("docker-td", "berth-td")
    };
    let same_in = |args: &[&str], input: Option<&[u8]>| {
        let want = d.docker_in(args, input);
        let got = berth(&d, args, input);
        assert_eq!(
            (got.code, fix(&got.stdout), fix(&got.stderr)),
            (want.code, want.stdout.clone(), want.stderr.clone()),
            "berth {args:?} differs from docker"
        );
        want.stdout
    };
    let same = |args: &[&str]| same_in(args, None);

    // One volume made by each client; one label each (docker joins several
    // in Go's random map order).
    let o = ok(
        &d,
        &[
            "volume",
            "create",
            "--label",
            "suite=vol",
            "-o",
            "type=tmpfs",
            "-o",
            "device=tmpfs",
            "-o",
            "o=size=1m",
            &v1,
        ],
    );
    assert_eq!(o.stdout, format!("{v1}\n"));
    let o = d.docker(&["volume", "create", "--name", &v2, "--label", "suite=vol"]);
    assert_eq!(o.code, 0, "{o:?}");
    let anon = ok(&d, &["volume", "create"]).stdout.trim().to_string();
    assert_eq!(anon.len(), 64, "{anon}");
    cleanup.volumes.borrow_mut().push(anon.clone());

    let ls = same(&["volume", "ls"]);
    assert!(
        ls.starts_with("DRIVER    VOLUME NAME\n") && ls.contains(&v1),
        "{ls}"
    );
    same(&["volume", "list", "-q"]);
    same(&["volume", "ls", "--format", "json"]);
    same(&["volume", "ls", "--format", "raw"]);
    same(&[
        "volume",
        "ls",
        "-f",
        "label=suite=vol",
        "--format",
        "table {{.Name}}\t{{.Driver}}\t{{.Scope}}\t{{.Mountpoint}}\t{{.Labels}}\t{{.Label \"suite\"}}\t{{.Links}}\t{{.Size}}",
    ]);
    same(&[
        "volume",
        "ls",
        "-f",
        &format!("name={v1}"),
        "-f",
        "dangling=true",
    ]);
    same(&["volume", "ls", "-f", "driver=local", "-q"]);
    let inspect = same(&["volume", "inspect", &v1, &v2]);
    assert!(inspect.contains("\"device\": \"tmpfs\""), "{inspect}");
    same(&["volume", "inspect", "-f", "json", &v1]);
    same(&[
        "volume",
        "inspect",
        "-f",
        "{{.Name}} {{json .Labels}} {{.Options}} {{.Driver}} {{.Mountpoint}}",
        &v1,
        "nosuch-vol-x",
        &anon,
    ]);
    for args in [
        &["volume", "inspect", "nosuch-vol-x"][..],
        &["volume", "inspect"],
        &["volume", "rm", "nosuch-vol-x", "nosuch-vol-y"],
        &["volume", "rm", "-f", "nosuch-vol-x"],
        &["volume", "remove"],
        &["volume", "create", "a", "b"],
        &["volume", "create", "--name", "a", "b"],
        &["volume", "create", "--label", "=x"],
        &["volume", "ls", "-f", "foo"],
        &["volume", "ls", "-f", "foo=bar"],
        &["volume", "ls", "x"],
        &["volume", "prune", "x"],
        &["volume", "prune", "--filter", "foo"],
        &[
            "inspect",
            "--type",
            "volume",
            "-f",
            "{{.Name}}",
            &v2,
            "nosuch-vol-x",
        ],
        &[
            "inspect",
            "-f",
            "{{.Name}} {{.Driver}} {{.Options}}",
            &v1,
            &anon,
        ],
        &["inspect", "--type", "bogus", "x"],
    ] {
        same(args);
    }

    // Containers with every kind of storage, one made by each client.
    let host = d.dir.join("vol-host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("f"), "from-host\n").unwrap();
    let bind = format!("{}:/h:ro", host.display());
    let named = format!("{v1}:/n:ro");
    let vmount = format!("type=volume,src={v3},dst=/m,volume-label=x=y,volume-nocopy");
    let storage = |name: &str| {
        vec![
            "run".to_string(),
            "-d".into(),
            "--name".into(),
            name.into(),
            "-v".into(),
            "/anon".into(),
            "-v".into(),
            named.clone(),
            "-v".into(),
            bind.clone(),
            "--mount".into(),
            vmount.clone(),
            "--mount".into(),
            "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770".into(),
            "--tmpfs".into(),
            "/u:size=2m".into(),
            "busybox".into(),
            "sleep".into(),
            "300".into(),
        ]
    };
    let args1 = storage(&c1);
    let o = ok(&d, &args1.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.stdout.trim().len(), 64, "{o:?}");
    let args2 = storage(&c2);
    let o = d.docker(&args2.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(o.code, 0, "{o:?}");
    let o = ok(
        &d,
        &[
            "exec",
            &c1,
            "sh",
            "-c",
            "cat /h/f; grep -E ' /(t|u) ' /proc/mounts | cut -d' ' -f1-3 | sort",
        ],
    );
    assert_eq!(
        o.stdout, "from-host\ntmpfs /t tmpfs\ntmpfs /u tmpfs\n",
        "{o:?}"
    );
    // What dockerd stored from each body is the same.
    for f in [
        "{{json .HostConfig.Binds}}",
        "{{json .HostConfig.Mounts}}",
        "{{json .HostConfig.Tmpfs}}",
        "{{json .Config.Volumes}}",
        "{{json .HostConfig.VolumesFrom}} {{.HostConfig.VolumeDriver}}",
    ] {
        let a = same(&["inspect", "-f", f, &c1]);
        let b = same(&["inspect", "-f", f, &c2]);
        // The docker CLI lists -v binds in Go map order (random): compare
        // them as sets.
        let sorted = |s: &str| -> String {
            match serde_json::from_str::<Vec<String>>(s.trim()) {
                Ok(mut v) => {
                    v.sort();
                    format!("{v:?}")
                }
                Err(_) => s.to_string(),
            }
        };
        assert_eq!(sorted(&a), sorted(&b), "{f}");
    }
    // Mount points: templates over .Mounts, fields the daemon omits included.
    let each = "{{range .Mounts}}{{.Type}} [{{.Name}}] {{.Source}} {{.Destination}} {{.Mode}} {{.RW}} {{.Propagation}} [{{.Driver}}]\n{{end}}";
    for c in [&c1, &c2] {
        let want = d.docker(&["inspect", "-f", each, c]);
        let got = ok(&d, &["inspect", "-f", each, c]);
        assert_eq!(sorted_lines(&got.stdout), sorted_lines(&want.stdout), "{c}");
        let got = ok(&d, &["inspect", "-f", "{{json .Mounts}}", c]);
        let want = d.docker(&["inspect", "-f", "{{json .Mounts}}", c]);
        let parse = |s: &str| {
            let mut v: Vec<serde_json::Value> = serde_json::from_str(s).unwrap();
            v.sort_by_key(|m| m["Destination"].to_string());
            v
        };
        assert_eq!(parse(&got.stdout), parse(&want.stdout), "{c}");
        let src = ok(
            &d,
            &["inspect", "-f", "{{range .Mounts}}{{.Source}} {{end}}", c],
        );
        assert!(src.stdout.contains(&host.display().to_string()), "{src:?}");
    }

    // --volumes-from and --volume-driver; a relative bind made absolute.
    // (The source has no tmpfs: dockerd 20.10 answers 404 for
    // --volumes-from of a container with a tmpfs mount.)
    ok(
        &d,
        &[
            "create", "--name", &c5, "-v", "/anon", "-v", &bind, "busybox",
        ],
    );
    let o = ok(
        &d,
        &[
            "create",
            "--name",
            &c3,
            "--volumes-from",
            &format!("{c5}:ro"),
            "--volume-driver",
            "local",
            "busybox",
        ],
    );
    assert_eq!(o.stdout.trim().len(), 64, "{o:?}");
    let o = d.docker(&[
        "create",
        "--name",
        &c4,
        "--volumes-from",
        &format!("{c5}:ro"),
        "--volume-driver",
        "local",
        "busybox",
    ]);
    assert_eq!(o.code, 0, "{o:?}");
    let f =
        "{{json .HostConfig.VolumesFrom}} {{.HostConfig.VolumeDriver}} {{json .HostConfig.Binds}}";
    assert_eq!(
        same(&["inspect", "-f", f, &c3]),
        same(&["inspect", "-f", f, &c4])
    );
    let mut cmd = Command::new(berth_tests::bin("berth"));
    cmd.current_dir(&d.dir).args([
        "-H",
        &d.host(),
        "run",
        "--rm",
        "-v",
        "./vol-host:/r",
        "busybox",
        "cat",
        "/r/f",
    ]);
    let o = berth_cmd(cmd, None, &["run", "-v", "./vol-host:/r"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "from-host\n"), "{o:?}");
    let o = ok(
        &d,
        &[
            "run",
            "--rm",
            "--volumes-from",
            &format!("{c5}:ro"),
            "busybox",
            "sh",
            "-c",
            "cat /h/f",
        ],
    );
    assert_eq!(o.stdout, "from-host\n", "{o:?}");

    // Parse errors and refusals, word for word.
    for args in [
        &["run", "-v", "/a:/b:/c:ro", "busybox"][..],
        &["create", "-v", "/c:", "busybox"],
        &["run", "-v", "", "busybox"],
        &["create", "--mount", "type=bind", "busybox"],
        &[
            "run",
            "--mount",
            "type=bind,dst=/x,volume-nocopy",
            "busybox",
        ],
        &["create", "--mount", "a\"b", "busybox"],
        &[
            "run",
            "--mount",
            "type=tmpfs,dst=/x,tmpfs-mode=9",
            "busybox",
        ],
        &["run", "--mount", "target=/x,foo=1", "busybox"],
        &[
            "run",
            "--mount",
            "type=bind,src=/tmp,dst=/c,bind-recursive=readonly,ro,bind-propagation=rprivate",
            "--rm",
            "busybox",
            "true",
        ],
        &["run", "--rm", "--tmpfs", "/t:bogus", "busybox", "true"],
        &[
            "run",
            "--rm",
            "--mount",
            "type=bind,src=/nonexistent-bvx,dst=/c",
            "busybox",
            "true",
        ],
    ] {
        same(args);
    }

    // df counts the volumes; rm -v takes a container's anonymous volumes.
    same(&["system", "df"]);
    let anon1 = ok(
        &d,
        &[
            "inspect",
            "-f",
            "{{range .Mounts}}{{if eq .Destination \"/anon\"}}{{.Name}}{{end}}{{end}}",
            &c1,
        ],
    );
    let anon1 = anon1.stdout.trim().to_string();
    assert_eq!(anon1.len(), 64, "{anon1}");
    let o = ok(&d, &["rm", "-f", "-v", &c1, &c3, &c4, &c5]);
    assert_eq!(o.stdout, format!("{c1}\n{c3}\n{c4}\n{c5}\n"));
    let o = ok(&d, &["volume", "ls", "-q"]);
    assert!(!o.stdout.contains(&anon1), "{o:?}");
    // In use by c2 alone now (one container ID in the message).
    same(&["volume", "rm", &v3]);

    // prune: the prompt (answered no), then --force with a label filter.
    same_in(&["volume", "prune"], Some(b"n\n"));
    same_in(&["volume", "prune", "-a"], Some(b"n\n"));
    same(&["volume", "prune", "-f", "-a", "--filter", "all=1"]);
    // From API 1.42 a prune takes anonymous volumes only, unless --all.
    let api = d.docker(&["version", "-f", "{{.Server.APIVersion}}"]);
    let minor = api
        .stdout
        .trim()
        .split('.')
        .nth(1)
        .and_then(|m| m.parse::<u32>().ok());
    let mut prune = vec!["volume", "prune", "-f", "--filter", "label=suite=vol"];
    if minor >= Some(42) {
        prune.push("-a");
    }
    let o = ok(&d, &prune);
    let mut lines: Vec<&str> = o.stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"Deleted Volumes:"), "{o:?}");
    assert_eq!(lines.last(), Some(&"Total reclaimed space: 0B"), "{o:?}");
    lines.sort();
    // v2, not v3: c2 still uses it. (dockerd 20.10 keeps v1, a tmpfs
    // volume once mounted, out of prunes.)
    let has = |v: &str| lines.contains(&v);
    assert!(has(&v2) && !has(&v3), "{o:?}");
    same(&prune);
    drop(cleanup);
}
