//! Test harness for the integration suites: starts a real `berthd` with
//! its own data root, exec root, socket and cgroup parent (so suites run in
//! parallel), imports a busybox image built from the host's busybox-static,
//! runs the real docker CLI or `berth` against it, and cleans everything up,
//! checking that nothing leaked.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Directory holding the built binaries (`BERTH_BIN_DIR` or `target/debug`).
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("BERTH_BIN_DIR") {
        return d.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("debug")
}

/// Path of one of our binaries; panics with a hint when it was not built.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: build the workspace first (cargo build --workspace --bins)",
        p.display()
    );
    p
}

/// True when running under CI, where a missing prerequisite is a failure.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether an external program exists; under CI a missing one fails the test.
pub fn require(program: &str) -> bool {
    let found = Path::new(program).is_absolute() && Path::new(program).exists()
        || std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()));
    if !found {
        assert!(!ci(), "{program} is required under CI but is not installed");
        eprintln!("SKIP: {program} is not installed");
    }
    found
}

/// The real docker CLI.
pub const DOCKER: &str = "/usr/local/bin/docker";

/// A busybox rootfs tarball, built once (in the target directory, shared by
/// all test processes; written under a temporary name, then renamed).
pub fn busybox_tar() -> &'static Path {
    static TAR: OnceLock<PathBuf> = OnceLock::new();
    TAR.get_or_init(|| {
        let dir = bin_dir().join("../tmp");
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("berth-busybox.tar");
        let fresh = |p: &Path| {
            let (Ok(t), Ok(b)) = (std::fs::metadata(p), std::fs::metadata("/bin/busybox")) else {
                return false;
            };
            t.modified().ok() >= b.modified().ok()
        };
        if !fresh(&out) {
            let tmp = dir.join(format!("berth-busybox.tar.{}", std::process::id()));
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/busybox-tar.sh");
            let st = Command::new("bash")
                .arg(&script)
                .arg(&tmp)
                .status()
                .expect("run busybox-tar.sh");
            assert!(
                st.success(),
                "busybox-tar.sh failed (is busybox-static installed?)"
            );
            std::fs::rename(&tmp, &out).unwrap();
        }
        out
    })
}

/// A busybox root filesystem tarball of another architecture (a Debian
/// architecture: `arm64`, `armhf`), from that architecture's busybox-static
/// package (scripts/busybox-tar.sh fetches it with apt-get download, never
/// from a registry). Built once per run.
pub fn busybox_tar_for(arch: &str) -> PathBuf {
    let dir = bin_dir().join("../tmp");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("berth-busybox-{arch}.tar"));
    if !out.exists() {
        let tmp = dir.join(format!("berth-busybox-{arch}.tar.{}", std::process::id()));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/busybox-tar.sh");
        let st = Command::new("bash")
            .arg(&script)
            .arg(&tmp)
            .arg(arch)
            .status()
            .expect("run busybox-tar.sh");
        assert!(st.success(), "busybox-tar.sh {arch} failed");
        std::fs::rename(&tmp, &out).unwrap();
    }
    out
}

/// A finished command.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "command failed: {self:?}");
        &self.stdout
    }
}

/// Runs a command with optional stdin, bounded by `timeout`.
pub fn run(mut cmd: Command, input: Option<&[u8]>, timeout: Duration) -> Out {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    if let Some(data) = input {
        let mut stdin = child.stdin.take().unwrap();
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
    }
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(o)) => Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        },
        Ok(Err(e)) => panic!("wait {cmd:?}: {e}"),
        Err(_) => {
            // SAFETY: signalling a child we spawned, by PID.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("timed out after {timeout:?}: {cmd:?}");
        }
    }
}

/// One raw HTTP/1.0 request on a unix socket: (status, body). Independent
/// of every client, so the harness never depends on the code under test.
pub fn http(sock: &Path, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    use std::io::Read;
    let mut s = std::os::unix::net::UnixStream::connect(sock)
        .unwrap_or_else(|e| panic!("connect {}: {e}", sock.display()));
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.0\r\nHost: berth\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    let _ = s.read_to_end(&mut resp);
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Removes a cgroup parent a test gave containers (`--cgroup-parent`) from
/// every hierarchy: it stays after them, as with dockerd, and can go once
/// the runtime has removed the containers' cgroups (just after `rm`
/// answers), so it is retried for up to 5 s.
pub fn remove_cgroup_parent(parent: &str) {
    for _ in 0..100 {
        let mut left = false;
        for ctrl in std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            let p = ctrl.path().join(parent.trim_start_matches('/'));
            left |= p.exists() && std::fs::remove_dir(&p).is_err();
        }
        if !left {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// PATH with the sbin directories, where dockerd finds containerd and runc.
pub fn sbin_path() -> String {
    let mut p = std::env::var("PATH").unwrap_or_default();
    for d in ["/usr/local/sbin", "/usr/sbin", "/sbin"] {
        if !p.split(':').any(|x| x == d) {
            p.push(':');
            p.push_str(d);
        }
    }
    p
}

/// Unmounts everything mounted under `dir`, deepest first.
pub fn unmount_under(dir: &Path) {
    let prefix = dir.display().to_string();
    let mut mounts: Vec<String> = std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(|m| m.replace("\\040", " ")))
        .filter(|m| m.starts_with(&prefix))
        .collect();
    mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
    for m in mounts {
        let _ = nix::mount::umount2(m.as_str(), nix::mount::MntFlags::MNT_DETACH);
    }
}

/// A private dockerd (Debian's docker.io), the reference daemon. Stopped by
/// PID (SIGTERM, then SIGKILL) and cleaned up on drop.
pub struct Dockerd {
    pub dir: PathBuf,
    pub sock: PathBuf,
    child: Option<std::process::Child>,
}

impl Dockerd {
    /// Starts dockerd, or returns None (after `require`'s message, or a
    /// panic under CI) when it is not installed.
    pub fn start() -> Option<Dockerd> {
        Dockerd::start_with(&[])
    }

    /// [`Dockerd::start`] with extra dockerd arguments (another `-H`, TLS).
    pub fn start_with(extra: &[&str]) -> Option<Dockerd> {
        let found = std::env::split_paths(&sbin_path()).any(|d| d.join("dockerd").is_file());
        if !found {
            assert!(!ci(), "dockerd is required under CI but is not installed");
            eprintln!("SKIP: dockerd is not installed (apt-get install docker.io)");
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("berth-td")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        let sock = dir.join("docker.sock");
        let log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .args(["--ip-forward=false", "--iptables=false", "--bridge=none"])
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("pid"))
            .arg("-H")
            .arg(format!("unix://{}", sock.display()))
            .args(extra)
            .env("PATH", sbin_path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("spawn dockerd");
        let mut d = Dockerd {
            dir,
            sock,
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if std::os::unix::net::UnixStream::connect(&d.sock).is_ok()
                && http(&d.sock, "GET", "/_ping", b"").0 == 200
            {
                break;
            }
            if let Some(st) = d.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("dockerd exited ({st}):\n{}", d.log());
            }
            assert!(
                Instant::now() < deadline,
                "dockerd did not start:\n{}",
                d.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(d)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default()
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.sock.display())
    }

    /// The real docker CLI pointed at this dockerd.
    pub fn docker_in(&self, args: &[&str], input: Option<&[u8]>) -> Out {
        let mut c = Command::new(DOCKER);
        c.env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.dir.join("docker-config"))
            .args(args);
        run(c, input, Duration::from_secs(120))
    }

    pub fn docker(&self, args: &[&str]) -> Out {
        self.docker_in(args, None)
    }

    /// Imports busybox:latest from the host's busybox-static.
    pub fn import_busybox(&self) {
        let out = self.docker(&[
            "import",
            "-c",
            "CMD [\"sh\"]",
            busybox_tar().to_str().unwrap(),
            "busybox:latest",
        ]);
        assert_eq!(out.code, 0, "import into dockerd: {out:?}");
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: signalling the dockerd we started, by PID.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(40);
            while child.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        unmount_under(&self.dir);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A private berthd instance.
pub struct Daemon {
    pub dir: PathBuf,
    pub sock: PathBuf,
    pub cgroup_parent: String,
    runtime: String,
    pid: i32,
    finished: bool,
    /// The data root is a tmpfs of this test's (see `DaemonOpts::data_tmpfs_mib`).
    data_tmpfs: bool,
    /// This daemon's default bridge (`bt-XXXXXX`) and its subnet block.
    pub net: TestNet,
}

/// The network resources of one test daemon: a default bridge of its own,
/// its nftables table, and a /20 of 10.128.0.0/9 for its bridge and pools,
/// so daemons run side by side without meeting.
#[derive(Debug, Clone)]
pub struct TestNet {
    pub bridge: String,
    pub table: String,
    /// The first three octets of the block (`10.A.B`); the bridge is `10.A.B.1/24`.
    pub prefix: String,
    /// The whole block, `10.A.B.0/20`.
    pub block: String,
}

impl TestNet {
    fn new(tag: &str) -> TestNet {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 32
            + (std::process::id() % 64) * 32;
        let base = u32::from(std::net::Ipv4Addr::new(10, 128, 0, 0)) + n * 4096;
        let ip = std::net::Ipv4Addr::from(base).octets();
        let short: String = tag
            .chars()
            .rev()
            .take(6)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let bridge = format!("bt-{short}");
        TestNet {
            table: format!(
                "berth_{}",
                bridge.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
            ),
            bridge,
            prefix: format!("{}.{}.{}", ip[0], ip[1], ip[2]),
            block: format!("{}.{}.{}.0/20", ip[0], ip[1], ip[2]),
        }
    }

    /// The daemon.json keys that give the daemon these resources, with
    /// forwarding, masquerade and DNS forwarding off (tests never route
    /// container traffic off the machine).
    fn settings(&self) -> serde_json::Value {
        serde_json::json!({
            "bridge": self.bridge,
            "bip": format!("{}.1/24", self.prefix),
            "default-address-pools": [{"base": self.block, "size": 24}],
            "ip-forward": false,
            "ip-masq": false,
            "dns-forward": false,
            // binfmt_misc is the host's: only the platform tests register
            // emulators (and remove what they registered).
            "emulation": false,
        })
    }

    /// Removes the bridge and the table (after the daemon stopped).
    fn remove(&self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .stderr(Stdio::null())
            .status();
        let _ = Command::new("nft")
            .args(["delete", "table", "ip", &self.table])
            .stderr(Stdio::null())
            .status();
    }
}

/// Options for [`Daemon::start_with`].
#[derive(Default, Clone)]
pub struct DaemonOpts {
    /// Runtime name for `--default-runtime` (`BERTH_TEST_RUNTIME` or berth-runtime).
    pub runtime: Option<String>,
    /// Skip importing busybox.
    pub no_image: bool,
    /// daemon.json contents (default `{}`).
    pub config: Option<String>,
    /// Put the data root on a tmpfs of this many MiB: a disk that fills up.
    pub data_tmpfs_mib: Option<u64>,
}

impl Daemon {
    /// Starts berthd with busybox:latest imported.
    pub fn start() -> Daemon {
        Daemon::start_with(DaemonOpts::default())
    }

    pub fn start_with(o: DaemonOpts) -> Daemon {
        let dir = tempfile::Builder::new()
            .prefix("berth-t")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        let tag = dir.file_name().unwrap().to_string_lossy().replace('.', "");
        let sock = dir.join("d.sock");
        let cgroup_parent = format!("/{tag}");
        let runtime = o
            .runtime
            .or_else(|| std::env::var("BERTH_TEST_RUNTIME").ok())
            .unwrap_or_else(|| "berth-runtime".into());
        let net = TestNet::new(&tag);
        // Network settings of our own, unless the test's daemon.json is not
        // an object (a test of bad configuration) or sets them itself.
        let config =
            match serde_json::from_str::<serde_json::Value>(o.config.as_deref().unwrap_or("{}")) {
                Ok(serde_json::Value::Object(mut m)) => {
                    for (k, v) in net.settings().as_object().unwrap() {
                        m.entry(k.clone()).or_insert(v.clone());
                    }
                    serde_json::Value::Object(m).to_string()
                }
                _ => o.config.clone().unwrap_or_default(),
            };
        std::fs::write(dir.join("daemon.json"), config).unwrap();
        if let Some(mib) = o.data_tmpfs_mib {
            let data = dir.join("data");
            std::fs::create_dir(&data).unwrap();
            nix::mount::mount(
                Some("berth-t-full"),
                &data,
                Some("tmpfs"),
                nix::mount::MsFlags::empty(),
                Some(format!("size={mib}m").as_str()),
            )
            .expect("mount a tmpfs data root");
        }
        let mut d = Daemon {
            dir,
            sock,
            cgroup_parent,
            runtime,
            pid: 0,
            finished: false,
            data_tmpfs: o.data_tmpfs_mib.is_some(),
            net,
        };
        d.spawn();
        if !o.no_image {
            let tar = std::fs::read(busybox_tar()).unwrap();
            let (status, body) = d.api(
                "POST",
                "/images/create?fromSrc=-&repo=busybox&tag=latest&changes=CMD%20%5B%22sh%22%5D",
                &tar,
            );
            assert_eq!(status, 200, "import busybox: {body}\n{}", d.log());
        }
        d
    }

    /// Starts (or restarts) the berthd process and waits for its socket.
    fn spawn(&mut self) {
        let dir = &self.dir;
        let log = std::fs::File::options()
            .create(true)
            .append(true)
            .open(dir.join("berthd.log"))
            .unwrap();
        let _ = std::fs::remove_file(&self.sock);
        let child = Command::new(bin("berthd"))
            .args(["--data-root", dir.join("data").to_str().unwrap()])
            .args(["--exec-root", dir.join("exec").to_str().unwrap()])
            .args(["-H", &format!("unix://{}", self.sock.display())])
            .args(["--pidfile", dir.join("berthd.pid").to_str().unwrap()])
            .args(["--config-file", dir.join("daemon.json").to_str().unwrap()])
            .args(["--cgroup-parent", &self.cgroup_parent])
            .args(["--default-runtime", &self.runtime])
            .args(["--log-level", "debug"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start berthd");
        self.pid = child.id() as i32;
        // Reap it from a thread so it never lingers as a zombie.
        std::thread::spawn(move || {
            let mut c = child;
            let _ = c.wait();
        });
        self.wait_ready();
    }

    /// Kills the daemon with SIGKILL (no shutdown of any kind), waits for it
    /// to be gone, and starts it again on the same roots.
    pub fn kill9_and_restart(&mut self) {
        // SAFETY: signalling the daemon we started, by PID.
        unsafe { libc::kill(self.pid, libc::SIGKILL) };
        let deadline = Instant::now() + Duration::from_secs(10);
        // Gone means reaped: a killed process's leader can show as a zombie
        // while its other threads (one in an fsync, say) still hold its files.
        while Path::new(&format!("/proc/{}", self.pid)).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.spawn();
    }

    /// Entries in the data root's layer, blob, staged-snapshot and ingest
    /// directories: what a failed or cut pull or load must leave unchanged.
    pub fn store_counts(&self) -> [usize; 4] {
        let data = self.dir.join("data");
        let entries = |p: &str| {
            std::fs::read_dir(data.join(p))
                .map(|d| d.count())
                .unwrap_or(0)
        };
        [
            entries("snapshots/layers"),
            entries("content/blobs/sha256"),
            entries("snapshots/tmp"),
            entries("content/ingest"),
        ]
    }

    /// Starts the daemon again after [`Daemon::stop_daemon`].
    pub fn start_again(&mut self) {
        self.spawn();
    }

    /// Stops and starts the daemon on the same roots.
    pub fn restart(&mut self) {
        self.stop_daemon();
        self.spawn();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if std::os::unix::net::UnixStream::connect(&self.sock).is_ok() {
                return;
            }
            assert!(
                Path::new(&format!("/proc/{}", self.pid)).exists() && !self.is_zombie(),
                "berthd exited:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("berthd did not start:\n{}", self.log());
    }

    fn is_zombie(&self) -> bool {
        std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .map(|s| s.contains(") Z"))
            .unwrap_or(true)
    }

    /// One raw HTTP/1.0 request on the daemon's socket: (status, body).
    pub fn api(&self, method: &str, path: &str, body: &[u8]) -> (u16, String) {
        http(&self.sock, method, path, body)
    }

    /// berthd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("berthd.log")).unwrap_or_default()
    }

    /// `unix://...` for DOCKER_HOST.
    pub fn host(&self) -> String {
        format!("unix://{}", self.sock.display())
    }

    /// The real docker CLI pointed at this daemon, with a private config dir.
    pub fn docker_cmd(&self) -> Command {
        let mut c = Command::new(DOCKER);
        c.env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.dir.join("docker-config"))
            .env_remove("DOCKER_CONTEXT");
        c
    }

    /// `berth` pointed at this daemon.
    pub fn berth_cmd(&self) -> Command {
        let mut c = Command::new(bin("berth"));
        c.env("BERTH_HOST", self.host())
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.dir.join("docker-config"));
        c
    }

    pub fn docker(&self, args: &[&str]) -> Out {
        self.docker_in(args, None)
    }

    pub fn docker_in(&self, args: &[&str], input: Option<&[u8]>) -> Out {
        let mut c = self.docker_cmd();
        c.args(args);
        run(c, input, Duration::from_secs(60))
    }

    pub fn berth(&self, args: &[&str]) -> Out {
        self.berth_in(args, None)
    }

    pub fn berth_in(&self, args: &[&str], input: Option<&[u8]>) -> Out {
        let mut c = self.berth_cmd();
        c.args(args);
        run(c, input, Duration::from_secs(60))
    }

    /// Runs each command with `berth` and with the docker CLI against this
    /// daemon and asserts the same exit code and the same output (stdout,
    /// or stderr with `errors`).
    #[track_caller]
    pub fn assert_same_output(&self, commands: &[&[&str]], errors: bool) {
        for args in commands {
            let b = self.berth(args);
            let k = self.docker(args);
            assert_eq!(b.code, k.code, "{args:?}: {b:?} vs {k:?}");
            if errors {
                assert_eq!(b.stderr, k.stderr, "{args:?}");
            } else {
                assert_eq!(b.stdout, k.stdout, "{args:?}");
            }
        }
    }

    /// `docker inspect -f FMT WHAT` through the docker CLI, trimmed; panics
    /// when it fails.
    pub fn inspect(&self, what: &str, fmt: &str) -> String {
        self.docker(&["inspect", "-f", fmt, what])
            .ok()
            .trim()
            .to_string()
    }

    /// The daemon's pid.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Stops the daemon (SIGTERM, then SIGKILL after 10 s).
    pub fn stop_daemon(&mut self) {
        // SAFETY: signalling the daemon we started, by PID.
        unsafe { libc::kill(self.pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Path::new(&format!("/proc/{}", self.pid)).exists() && !self.is_zombie() {
            if Instant::now() > deadline {
                // SAFETY: as above.
                unsafe { libc::kill(self.pid, libc::SIGKILL) };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Removes every container, stops the daemon and returns what leaked
    /// (mounts, cgroups, processes). Empty means clean.
    pub fn shutdown(&mut self) -> Vec<String> {
        self.finished = true;
        if Path::new(&format!("/proc/{}", self.pid)).exists() && !self.is_zombie() {
            let (_, list) = self.api("GET", "/containers/json?all=1", b"");
            let list: serde_json::Value = serde_json::from_str(&list).unwrap_or_default();
            for c in list.as_array().into_iter().flatten() {
                let id = c["Id"].as_str().unwrap_or_default();
                self.api("DELETE", &format!("/containers/{id}?force=1"), b"");
            }
        }
        let mut net_leaks = self.remove_networks();
        self.stop_daemon();
        // Shims finish the runtime's cleanup just after they report an exit.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut leaks = self.leaks();
        while !leaks.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            leaks = self.leaks();
        }
        self.force_cleanup();
        self.net.remove();
        leaks.append(&mut net_leaks);
        leaks
    }

    /// Removes the test's user-defined networks through the API (retrying
    /// while removed containers still leave them) and returns the bridges
    /// that are left, removing them by hand.
    fn remove_networks(&self) -> Vec<String> {
        if !Path::new(&format!("/proc/{}", self.pid)).exists() || self.is_zombie() {
            return vec![];
        }
        let (_, list) = self.api("GET", "/networks", b"");
        let list: serde_json::Value = serde_json::from_str(&list).unwrap_or_default();
        let mut leaks = Vec::new();
        for n in list.as_array().into_iter().flatten() {
            let (id, name) = (
                n["Id"].as_str().unwrap_or_default(),
                n["Name"].as_str().unwrap_or_default(),
            );
            if matches!(name, "bridge" | "host" | "none") {
                continue;
            }
            let bridge = n["Options"]["com.docker.network.bridge.name"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| format!("br-{}", &id[..12]));
            let deadline = Instant::now() + Duration::from_secs(10);
            while self.api("DELETE", &format!("/networks/{id}"), b"").0 >= 300
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            if Path::new("/sys/class/net").join(&bridge).exists() {
                leaks.push(format!("bridge {bridge} of network {name}"));
                let _ = Command::new("ip").args(["link", "del", &bridge]).status();
            }
        }
        leaks
    }

    /// Shuts down and asserts that nothing leaked.
    #[track_caller]
    pub fn finish(mut self) {
        let leaks = self.shutdown();
        assert!(
            leaks.is_empty(),
            "resources leaked: {leaks:#?}\n{}",
            self.log()
        );
    }

    /// Mounts under the test's directory, but for a tmpfs data root of the
    /// test's own (removed by `force_cleanup` with the rest).
    fn our_mounts(&self) -> Vec<String> {
        let data = self.dir.join("data").display().to_string();
        self.all_mounts()
            .into_iter()
            .filter(|m| !(self.data_tmpfs && *m == data))
            .collect()
    }

    fn all_mounts(&self) -> Vec<String> {
        let dir = self.dir.display().to_string();
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split(' ').nth(4).map(String::from))
            .filter(|m| m.starts_with(&dir))
            .collect()
    }

    fn our_cgroups(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for h in std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            let p = h.path().join(self.cgroup_parent.trim_start_matches('/'));
            for c in std::fs::read_dir(&p).into_iter().flatten().flatten() {
                if c.path().is_dir() {
                    out.push(c.path());
                }
            }
        }
        out
    }

    fn our_processes(&self) -> Vec<(i32, String)> {
        let needle = self.dir.display().to_string();
        let mut out = Vec::new();
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            if let Ok(cmd) = std::fs::read(e.path().join("cmdline")) {
                let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
                if cmd.contains(&needle) && pid != self.pid {
                    out.push((pid, cmd));
                }
            }
        }
        out
    }

    fn leaks(&self) -> Vec<String> {
        let mut l: Vec<String> = self
            .our_mounts()
            .into_iter()
            .map(|m| format!("mount {m}"))
            .collect();
        l.extend(
            self.our_cgroups()
                .into_iter()
                .map(|c| format!("cgroup {}", c.display())),
        );
        l.extend(
            self.our_processes()
                .into_iter()
                .map(|(p, c)| format!("process {p}: {c}")),
        );
        l
    }

    /// Best effort: kill our processes, unmount, remove cgroups and files.
    fn force_cleanup(&mut self) {
        for (pid, _) in self.our_processes() {
            // SAFETY: these processes run our binaries on our private paths.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        // Containers whose shim died: ask the runtime to delete them.
        for rt in std::fs::read_dir(self.dir.join("exec/runtime"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let runtime = match rt.file_name().to_string_lossy().as_ref() {
                "runc" => PathBuf::from("runc"),
                other => bin_dir().join(other),
            };
            for c in std::fs::read_dir(rt.path()).into_iter().flatten().flatten() {
                let _ = Command::new(&runtime)
                    .arg("--root")
                    .arg(rt.path())
                    .args(["delete", "--force"])
                    .arg(c.file_name())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
        let mut mounts = self.all_mounts();
        mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in mounts {
            let _ = nix::mount::umount2(m.as_str(), nix::mount::MntFlags::MNT_DETACH);
        }
        for h in std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            // Bottom up: a cgroup goes only once its children are gone (a
            // test's own `--cgroup-parent` nests under ours).
            fn remove_tree(p: &Path) {
                for c in std::fs::read_dir(p).into_iter().flatten().flatten() {
                    if c.path().is_dir() {
                        remove_tree(&c.path());
                    }
                }
                let _ = std::fs::remove_dir(p);
            }
            remove_tree(&h.path().join(self.cgroup_parent.trim_start_matches('/')));
        }
        if std::env::var_os("BERTH_KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if !self.finished {
            self.shutdown();
        }
    }
}

/// Incompressible bytes (xorshift), so that no layer shrinks in transit.
pub fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(n);
    out
}

/// A unique, short name for test resources.
pub fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// A client invocation: arguments and optional stdin, giving an [`Out`].
pub type Client<'a> = &'a dyn Fn(&[&str], Option<&[u8]>) -> Out;

/// The core Docker scenarios, run by any client (docker CLI or berth)
/// against any daemon (berthd or dockerd) that has `busybox:latest`.
pub fn core_scenarios(client: Client) {
    let ok = |args: &[&str]| {
        let o = client(args, None);
        assert_eq!(o.code, 0, "{args:?} failed: {o:?}");
        o.stdout
    };
    let v = ok(&["version"]);
    assert!(v.contains("Server"), "{v}");
    assert_eq!(ok(&["run", "--rm", "busybox", "echo", "hello"]), "hello\n");
    assert_eq!(
        client(&["run", "--rm", "busybox", "sh", "-c", "exit 3"], None).code,
        3
    );
    let name = unique("core");
    let id = ok(&[
        "run",
        "-d",
        "--name",
        &name,
        "busybox",
        "sh",
        "-c",
        "echo up; exec sleep 300",
    ])
    .trim()
    .to_string();
    assert_eq!(id.len(), 64, "{id}");
    let ps = ok(&["ps"]);
    assert!(ps.contains(&id[..12]) && ps.contains(&name), "{ps}");
    assert_eq!(
        ok(&["ps", "-q", "--filter", &format!("name={name}")]).trim(),
        &id[..12]
    );
    assert_eq!(
        ok(&["exec", &name, "cat", "/etc/hostname"]).trim(),
        &id[..12]
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !client(&["logs", &name], None).stdout.contains("up") {
        assert!(Instant::now() < deadline, "no log output");
        std::thread::sleep(Duration::from_millis(50));
    }
    ok(&["stop", "-t", "1", &name]);
    assert_eq!(
        ok(&["inspect", "-f", "{{.State.Status}}", &name]).trim(),
        "exited"
    );
    ok(&["rm", &name]);
    let gone = client(&["inspect", &name], None);
    assert_eq!(gone.code, 1, "{gone:?}");
    let echoed = client(
        &["run", "-i", "--rm", "busybox", "cat"],
        Some(b"from stdin\n"),
    );
    assert_eq!(echoed.stdout, "from stdin\n", "{echoed:?}");
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ------------------------------------------------------------------ TLS daemons

/// Runs `openssl ARGS` in `dir`; panics when it fails.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1, a client certificate the CA
/// signed (ca.pem, cert.pem, key.pem: the docker CLI's names) and a rogue
/// self-signed client certificate (rogue.pem, rogue-key.pem); the server's
/// are server-cert.pem and server-key.pem. Needs `openssl`.
pub fn tls_certificates(dir: &Path) {
    let days = ["-days", "2"];
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=berth-test-ca",
            days[0],
            days[1],
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server-key.pem",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-out",
            "server-cert.pem",
            "-extfile",
            "server.ext",
            days[0],
            days[1],
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "client.csr",
            "-subj",
            "/CN=client",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "client.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca-key.pem",
            "-CAcreateserial",
            "-out",
            "cert.pem",
            "-extfile",
            "client.ext",
            days[0],
            days[1],
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "rogue-key.pem",
            "-out",
            "rogue.pem",
            "-subj",
            "/CN=rogue",
            "-addext",
            "extendedKeyUsage=clientAuth",
            days[0],
            days[1],
        ],
    );
}

/// A berthd on `args`' listeners that runs no containers (no bridge, no
/// firewall), its roots and daemon.json in `dir`.
pub fn bare_berthd(dir: &Path, args: &[&str]) -> Command {
    std::fs::write(
        dir.join("daemon.json"),
        r#"{"bridge": "none", "iptables": false, "ip-forward": false, "emulation": false}"#,
    )
    .unwrap();
    let mut c = Command::new(bin("berthd"));
    c.arg("--config-file")
        .arg(dir.join("daemon.json"))
        .arg("--data-root")
        .arg(dir.join("data"))
        .arg("--exec-root")
        .arg(dir.join("exec"))
        .arg("--pidfile")
        .arg(dir.join("berthd.pid"))
        .args(args);
    c
}

/// A daemon's flags to serve `host` with `--tlsverify` and the server
/// certificate of [`tls_certificates`] in `dir` (berthd's and dockerd's
/// are the same).
pub fn tls_server_args(dir: &Path, host: &str) -> Vec<String> {
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    vec![
        "--tlsverify".into(),
        "--tlscacert".into(),
        p("ca.pem"),
        "--tlscert".into(),
        p("server-cert.pem"),
        "--tlskey".into(),
        p("server-key.pem"),
        "-H".into(),
        host.into(),
    ]
}

/// A container-less berthd that listens on 127.0.0.1 with `--tlsverify`
/// (as dockerd's): certificates from [`tls_certificates`] in `dir`;
/// stopped (SIGTERM, by PID) on drop.
pub struct TlsBerthd {
    child: std::process::Child,
    /// `tcp://127.0.0.1:PORT`.
    pub host: String,
}

impl TlsBerthd {
    pub fn start(dir: &Path) -> TlsBerthd {
        let port = free_port();
        let host = format!("tcp://127.0.0.1:{port}");
        let args = tls_server_args(dir, &host);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let child = bare_berthd(dir, &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "no tcp listener");
            std::thread::sleep(Duration::from_millis(20));
        }
        TlsBerthd { child, host }
    }
}

impl Drop for TlsBerthd {
    fn drop(&mut self) {
        // SAFETY: signalling the daemon we started, by PID.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

/// The CNCF registry (Debian's `docker-registry`) on 127.0.0.1, stopped by PID on drop.
pub struct CncfRegistry {
    pub dir: PathBuf,
    pub addr: String,
    child: Option<std::process::Child>,
}

impl CncfRegistry {
    /// Starts it, with htpasswd Basic auth when `creds` is given. None when
    /// not installed (a panic under CI).
    pub fn start(creds: Option<(&str, &str)>) -> Option<CncfRegistry> {
        let htpasswd = creds.map(|(user, pass)| {
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, pass])
                .output()
                .expect("htpasswd (apache2-utils)");
            assert!(out.status.success(), "htpasswd failed");
            String::from_utf8(out.stdout).unwrap()
        });
        CncfRegistry::start_with(htpasswd.as_deref(), None)
    }

    /// Starts it with an htpasswd file's contents for Basic auth, and with
    /// `tls` = (certificate, key) serving HTTPS.
    pub fn start_with(htpasswd: Option<&str>, tls: Option<(&Path, &Path)>) -> Option<CncfRegistry> {
        let bin = ["/usr/bin/docker-registry", "/usr/sbin/docker-registry"]
            .into_iter()
            .find(|p| Path::new(p).exists());
        let Some(bin) = bin else {
            assert!(
                !ci(),
                "docker-registry is required under CI but is not installed"
            );
            eprintln!("SKIP: docker-registry is not installed (apt-get install docker-registry)");
            return None;
        };
        // A free port can be taken by another test before the registry binds
        // it: retry with another one.
        for _ in 0..5 {
            if let Some(r) = CncfRegistry::spawn(bin, htpasswd, tls) {
                return Some(r);
            }
        }
        panic!("docker-registry: no free port after 5 tries");
    }

    /// One attempt on a fresh port; None when the port was taken meanwhile.
    fn spawn(
        bin: &str,
        htpasswd: Option<&str>,
        tls: Option<(&Path, &Path)>,
    ) -> Option<CncfRegistry> {
        let dir = tempfile::Builder::new()
            .prefix("berth-treg")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        let addr = format!("127.0.0.1:{}", free_port());
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            dir.join("data").display()
        );
        // Under `http:`, so before any other top-level key.
        if let Some((cert, key)) = tls {
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                cert.display(),
                key.display()
            ));
        }
        if let Some(h) = htpasswd {
            std::fs::write(dir.join("htpasswd"), h).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n",
                dir.join("htpasswd").display()
            ));
        }
        std::fs::write(dir.join("config.yml"), config).unwrap();
        let log = std::fs::File::create(dir.join("registry.log")).unwrap();
        let child = Command::new(bin)
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let mut r = CncfRegistry {
            dir,
            addr,
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&r.addr).is_err() {
            if let Some(st) = r.child.as_mut().unwrap().try_wait().unwrap() {
                let log = std::fs::read_to_string(r.dir.join("registry.log")).unwrap_or_default();
                assert!(
                    log.contains("address already in use"),
                    "docker-registry exited ({st}): {log}"
                );
                return None;
            }
            assert!(Instant::now() < deadline, "docker-registry did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(r)
    }
}

impl CncfRegistry {
    /// One HTTP/1.0 request to the registry: (status, head, body).
    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[&str],
    ) -> Option<(u16, String, String)> {
        use std::io::Read;
        let mut s = std::net::TcpStream::connect(&self.addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        let mut req = format!("{method} {path} HTTP/1.0\r\nHost: {}\r\n", self.addr);
        for h in headers {
            req.push_str(h);
            req.push_str("\r\n");
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).ok()?;
        let mut resp = Vec::new();
        let _ = s.read_to_end(&mut resp);
        let text = String::from_utf8_lossy(&resp).into_owned();
        let status = text.split(' ').nth(1)?.parse().ok()?;
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        Some((status, head.to_string(), body.to_string()))
    }

    /// The registry's digest for a manifest (`Docker-Content-Digest`);
    /// `auth` is base64 `user:pass`.
    pub fn manifest_digest(&self, repo: &str, tag: &str, auth: Option<&str>) -> String {
        let mut headers = vec!["Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json".to_string()];
        if let Some(a) = auth {
            headers.push(format!("Authorization: Basic {a}"));
        }
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let (status, head, body) = self
            .http("HEAD", &format!("/v2/{repo}/manifests/{tag}"), &refs)
            .expect("registry answers");
        assert_eq!(status, 200, "HEAD manifest: {head}{body}");
        head.lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case("docker-content-digest"))
                    .map(|(_, v)| v.trim().to_string())
            })
            .expect("Docker-Content-Digest header")
    }
}

impl Drop for CncfRegistry {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs skopeo with plain HTTP to loopback registries; returns its output.
pub fn skopeo(args: &[&str]) -> Out {
    let mut c = Command::new("skopeo");
    c.args(args);
    run(c, None, Duration::from_secs(120))
}

/// Writes an OCI image layout at `dir` (tag `tag`) with the given layer
/// tarballs (uncompressed) for `arch`; returns the manifest digest.
pub fn write_oci_layout(dir: &Path, tag: &str, layers: &[Vec<u8>], arch: &str) -> String {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |data: &[u8]| -> (String, usize) {
        let d = sha256_hex(data);
        std::fs::write(blobs.join(&d), data).unwrap();
        (format!("sha256:{d}"), data.len())
    };
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", sha256_hex(l)))
        .collect();
    let config = serde_json::json!({
        "architecture": arch, "os": "linux", "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let (cd, cs) = put(config.to_string().as_bytes());
    let layer_descs: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            let (d, s) = put(l);
            serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": s})
        })
        .collect();
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": layer_descs,
    });
    let (md, ms) = put(manifest.to_string().as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
            "platform": {"architecture": arch, "os": "linux"},
            "annotations": {"org.opencontainers.image.ref.name": tag}}],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    md
}

/// sha256 of `data` in hex (via sha256sum, to stay independent of the code under test).
pub fn sha256_hex(data: &[u8]) -> String {
    let mut c = Command::new("sha256sum");
    c.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = data.to_vec();
    let w = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    w.join().unwrap().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// A tar with one regular file per (path, content), written with raw names
/// (so hostile names like `../x` can be made).
pub fn tar_with(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// A command on a pseudo-terminal of its own (its controlling terminal), as
/// when a user types `docker run -it` or `docker attach`.
pub struct PtySession {
    child: std::process::Child,
    master: std::fs::File,
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    /// Everything the command printed so far.
    pub seen: String,
}

impl PtySession {
    pub fn spawn(mut cmd: Command) -> PtySession {
        use std::io::Read;
        let pty = nix::pty::openpty(None, None).unwrap();
        let slave = pty.slave;
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: setsid and TIOCSCTTY only, between fork and exec.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        let master = std::fs::File::from(pty.master);
        let mut reader = master.try_clone().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        PtySession {
            child,
            master,
            rx,
            seen: String::new(),
        }
    }

    /// Waits (15 s at most) until the output holds `want`.
    #[track_caller]
    pub fn expect(&mut self, want: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !self.seen.contains(want) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(b) => self.seen.push_str(&String::from_utf8_lossy(&b)),
                Err(_) => panic!("did not see {want:?} in {:?}", self.seen),
            }
        }
    }

    /// Types `data`.
    pub fn send(&mut self, data: &[u8]) {
        self.master.write_all(data).unwrap();
    }

    /// Waits (15 s at most) for the command to end; its exit code.
    #[track_caller]
    pub fn wait(self) -> Option<i32> {
        self.wait_output().0
    }

    /// Waits (15 s at most) for the command to end; its exit code and all
    /// it printed.
    #[track_caller]
    pub fn wait_output(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                // What it printed last is still on its way from the reader.
                while let Ok(b) = self.rx.recv_timeout(Duration::from_millis(200)) {
                    self.seen.push_str(&String::from_utf8_lossy(&b));
                }
                return (s.code(), self.seen);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the command did not end; it printed {:?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
