//! Drives the `berth-runtime` binary through its runc-compatible command line
//! the way a shim does: `create` with pipes as the container's stdio, `start`,
//! reaping the container's processes as a child subreaper, `state`, `kill`,
//! `exec --detach`, `delete`, and a terminal through `--console-socket`.
//!
//! Needs root and a prebuilt binary: `cargo build -p berth-runtime` first.
//! Every test uses its own bundle, state root, container id and cgroup, and
//! cleans up (kill, delete, cgroup removal) in a Drop guard, so tests can run
//! in parallel and failures leave nothing behind.
//!
//! `runc_behaviour_table` keeps a table of runc-compatible behaviours and
//! checks each row against both berth-runtime and /usr/sbin/runc.

use std::fs::File;
use std::io::{IoSliceMut, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use serde_json::{json, Value};

const CGROUP_PARENT: &str = "berth-test";

/// Fixtures alive in this process. The last one to go removes the shared
/// `berth-test` parent cgroups (the runtime removes only each container's
/// own); counting under a lock keeps that from racing a new container.
static LIVE_FIXTURES: Mutex<usize> = Mutex::new(0);

/// Docker's default capability set.
const DEFAULT_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

fn runtime_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("BERTH_RUNTIME") {
        return PathBuf::from(p);
    }
    berth_runtime_bin()
}

/// The berth-runtime binary built in this workspace (ignores BERTH_RUNTIME).
fn berth_runtime_bin() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug/berth-runtime");
    assert!(
        p.exists(),
        "{} not found: build it first with `cargo build -p berth-runtime` \
         (or point BERTH_RUNTIME at a binary)",
        p.display()
    );
    p
}

/// Makes this test process a child subreaper, as a shim is: container
/// processes are reparented to us when the runtime exits.
fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        assert!(
            nix::unistd::geteuid().is_root(),
            "runtime_cli tests need root"
        );
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes a plain integer.
        let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
        assert_eq!(rc, 0, "PR_SET_CHILD_SUBREAPER failed");
    });
}

/// A close-on-exec pipe (so parallel tests' children don't inherit it).
fn pipe() -> (File, OwnedFd) {
    let (r, w) = nix::unistd::pipe2(OFlag::O_CLOEXEC).expect("pipe");
    (File::from(r), w)
}

fn read_all(mut f: File) -> String {
    let mut s = String::new();
    f.read_to_string(&mut s).expect("read pipe");
    s
}

/// Waits for one of our (adopted) children, with a timeout.
fn wait_exit(pid: i32, timeout: Duration) -> WaitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        match waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => {}
            Ok(status) => return status,
            Err(e) => panic!("waitpid({pid}): {e}"),
        }
        assert!(
            Instant::now() < deadline,
            "process {pid} did not exit within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn read_pid(path: &Path) -> i32 {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .parse()
        .expect("pid file holds a number")
}

/// Cgroup directories of `rel` (e.g. "berth-test/<id>") in every v1
/// hierarchy (and the v2 one).
fn cgroup_dirs(rel: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
    {
        let p = e.path().join(rel);
        if p.is_dir() {
            out.push(p);
        }
    }
    out
}

struct Fixture {
    runtime: PathBuf,
    dir: tempfile::TempDir,
    id: String,
    root: PathBuf,
    bundle: PathBuf,
    pids: Vec<i32>,
}

impl Fixture {
    /// A bundle with a busybox rootfs running `args`.
    fn new(name: &str, args: &[&str]) -> Self {
        Self::with_config(name, |c| {
            c["process"]["args"] = json!(args);
        })
    }

    fn with_config(name: &str, edit: impl FnOnce(&mut Value)) -> Self {
        Self::with_runtime(runtime_bin(), name, edit)
    }

    /// Like `with_config`, driving the runtime binary at `runtime`.
    fn with_runtime(runtime: PathBuf, name: &str, edit: impl FnOnce(&mut Value)) -> Self {
        setup();
        let dir = tempfile::Builder::new()
            .prefix("berth-trt-")
            .tempdir()
            .expect("tempdir");
        let suffix = dir
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_start_matches("berth-trt-")
            .to_string();
        let id = format!("{name}-{suffix}");
        let root = dir.path().join("state");
        let bundle = dir.path().join("bundle");
        make_rootfs(&bundle.join("rootfs"));
        let mut config = base_config(&id);
        edit(&mut config);
        std::fs::write(
            bundle.join("config.json"),
            serde_json::to_vec_pretty(&config).unwrap(),
        )
        .unwrap();
        *LIVE_FIXTURES.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        Fixture {
            runtime,
            dir,
            id,
            root,
            bundle,
            pids: Vec::new(),
        }
    }

    fn cgroup_rel(&self) -> String {
        format!("{CGROUP_PARENT}/{}", self.id)
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.runtime);
        c.arg("--root").arg(&self.root);
        c.arg("--log").arg(self.dir.path().join("runtime.log"));
        c.arg("--log-format").arg("json");
        c
    }

    /// Runs a verb to completion and returns its output.
    fn run(&self, args: &[&str]) -> Output {
        self.cmd()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("spawn berth-runtime")
    }

    fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "berth-runtime {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn state(&self) -> Value {
        let out = self.run_ok(&["state", &self.id]);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("state JSON {out:?}: {e}"))
    }

    /// `create` with the read ends of the container's stdout and stderr;
    /// returns them and the init pid.
    fn create(&mut self) -> (File, File, i32) {
        self.try_create().unwrap_or_else(|e| panic!("{e}"))
    }

    /// `create` that returns the failure (status and stderr) instead of
    /// panicking.
    fn try_create(&mut self) -> Result<(File, File, i32), String> {
        let (out_r, out_w) = pipe();
        let (err_r, err_w) = pipe();
        let pid_file = self.dir.path().join("init.pid");
        let mut child = self
            .cmd()
            .arg("create")
            .arg("--bundle")
            .arg(&self.bundle)
            .arg("--pid-file")
            .arg(&pid_file)
            .arg(&self.id)
            .stdin(Stdio::null())
            .stdout(Stdio::from(out_w))
            .stderr(Stdio::from(err_w))
            .spawn()
            .expect("spawn berth-runtime create");
        let status = child.wait().unwrap();
        if !status.success() {
            drop(child);
            return Err(format!("create failed ({status}): {}", read_all(err_r)));
        }
        let pid = read_pid(&pid_file);
        self.pids.push(pid);
        Ok((out_r, err_r, pid))
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = self.run(&["kill", "--all", &self.id, "KILL"]);
        let _ = self.run(&["delete", "--force", &self.id]);
        for &pid in &self.pids {
            let deadline = Instant::now() + Duration::from_secs(2);
            while let Ok(WaitStatus::StillAlive) =
                waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG))
            {
                if Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        for dir in cgroup_dirs(&self.cgroup_rel()) {
            let _ = std::fs::remove_dir(dir);
        }
        {
            let mut live = LIVE_FIXTURES.lock().unwrap_or_else(|e| e.into_inner());
            *live -= 1;
            if *live == 0 {
                for dir in cgroup_dirs(CGROUP_PARENT) {
                    let _ = std::fs::remove_dir(dir);
                }
            }
        }
        // Container mounts live in the container's mount namespace; nothing
        // should be mounted under the temp dir, but detach anything that is.
        if let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") {
            let base = self.dir.path().to_string_lossy().into_owned();
            let mut targets: Vec<&str> = info
                .lines()
                .filter_map(|l| l.split(' ').nth(4))
                .filter(|t| t.starts_with(&base))
                .collect();
            targets.sort_by_key(|t| std::cmp::Reverse(t.len()));
            for t in targets {
                let _ = nix::mount::umount2(t, nix::mount::MntFlags::MNT_DETACH);
            }
        }
    }
}

fn make_rootfs(rootfs: &Path) {
    for d in ["bin", "proc", "dev", "sys", "tmp", "etc"] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox"))
        .expect("copy /bin/busybox (install busybox-static)");
    for applet in ["sh", "echo", "cat", "true", "sleep", "hostname"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
    }
}

fn base_config(id: &str) -> Value {
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": { "uid": 0, "gid": 0 },
            "args": ["sh"],
            "env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "TERM=xterm"
            ],
            "cwd": "/",
            "capabilities": {
                "bounding": DEFAULT_CAPS,
                "effective": DEFAULT_CAPS,
                "permitted": DEFAULT_CAPS
            },
            "noNewPrivileges": true
        },
        "root": { "path": "rootfs", "readonly": false },
        "hostname": "berth-test-host",
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            {
                "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]
            },
            {
                "destination": "/dev/pts", "type": "devpts", "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]
            },
            {
                "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
                "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]
            },
            {
                "destination": "/sys", "type": "sysfs", "source": "sysfs",
                "options": ["nosuid", "noexec", "nodev", "ro"]
            }
        ],
        "linux": {
            "cgroupsPath": format!("/{CGROUP_PARENT}/{id}"),
            "namespaces": [
                { "type": "pid" },
                { "type": "mount" },
                { "type": "uts" },
                { "type": "ipc" },
                { "type": "network" }
            ],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

#[test]
fn create_start_wait_reports_output_and_exit_code() {
    let mut fx = Fixture::new("exit3", &["sh", "-c", "echo hi; echo oops >&2; exit 3"]);
    let (out, err, pid) = fx.create();
    assert_eq!(fx.state()["status"], "created");
    assert_eq!(fx.state()["pid"], pid);
    assert!(
        !cgroup_dirs(&fx.cgroup_rel()).is_empty(),
        "the container's cgroup was not created"
    );
    fx.run_ok(&["start", &fx.id]);

    let status = wait_exit(pid, Duration::from_secs(10));
    assert_eq!(status, WaitStatus::Exited(Pid::from_raw(pid), 3));
    assert_eq!(read_all(out), "hi\n");
    assert_eq!(read_all(err), "oops\n");

    let state = fx.state();
    assert_eq!(state["status"], "stopped");
    assert_eq!(state["id"], fx.id.as_str());
    assert_eq!(
        state["bundle"],
        fx.bundle.canonicalize().unwrap().to_str().unwrap()
    );
    fx.run_ok(&["delete", &fx.id]);
    assert!(cgroup_dirs(&fx.cgroup_rel()).is_empty());
    assert!(!fx.root.join(&fx.id).exists());
}

#[test]
fn state_and_kill_of_a_running_container() {
    let mut fx = Fixture::new("kill", &["sleep", "100"]);
    let (_out, _err, pid) = fx.create();
    let state = fx.state();
    assert_eq!(state["ociVersion"], "1.0.2");
    assert_eq!(state["status"], "created");
    assert!(state["created"].as_str().unwrap().contains('T'));
    assert!(state["rootfs"].as_str().unwrap().ends_with("/rootfs"));

    fx.run_ok(&["start", &fx.id]);
    assert_eq!(fx.state()["status"], "running");
    // A second start is refused.
    assert!(!fx.run(&["start", &fx.id]).status.success());
    // Deleting a running container needs --force.
    let out = fx.run(&["delete", &fx.id]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("berth-runtime: "));

    fx.run_ok(&["kill", &fx.id, "KILL"]);
    let status = wait_exit(pid, Duration::from_secs(10));
    assert_eq!(
        status,
        WaitStatus::Signaled(Pid::from_raw(pid), nix::sys::signal::SIGKILL, false)
    );
    let state = fx.state();
    assert_eq!(state["status"], "stopped");
    assert_eq!(state["pid"], 0);
    // Killing a stopped container fails.
    assert!(!fx.run(&["kill", &fx.id, "TERM"]).status.success());

    fx.run_ok(&["delete", &fx.id]);
    assert!(cgroup_dirs(&fx.cgroup_rel()).is_empty());
    // Deleting again: an error, but not with --force.
    assert!(!fx.run(&["delete", &fx.id]).status.success());
    fx.run_ok(&["delete", "--force", &fx.id]);
}

#[test]
fn exec_detached_and_attached() {
    let mut fx = Fixture::new("exec", &["sleep", "100"]);
    let (_out, _err, init) = fx.create();
    fx.run_ok(&["start", &fx.id]);

    // The shim's way: a process file, detached, pid file, inherited stdio.
    let process = fx.dir.path().join("process.json");
    std::fs::write(
        &process,
        json!({
            "terminal": false,
            "user": { "uid": 0, "gid": 0 },
            "args": ["hostname"],
            "env": ["PATH=/bin"],
            "cwd": "/",
            "capabilities": { "bounding": DEFAULT_CAPS, "effective": DEFAULT_CAPS, "permitted": DEFAULT_CAPS },
            "rlimits": [{ "type": "RLIMIT_NOFILE", "hard": u64::MAX, "soft": u64::MAX }]
        })
        .to_string(),
    )
    .unwrap();
    let pid_file = fx.dir.path().join("exec.pid");
    let (out_r, out_w) = pipe();
    let status = fx
        .cmd()
        .args(["exec", "--detach", "--process"])
        .arg(&process)
        .arg("--pid-file")
        .arg(&pid_file)
        .arg(&fx.id)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out_w))
        .status()
        .unwrap();
    assert!(status.success(), "exec --detach failed: {status}");
    let pid = read_pid(&pid_file);
    assert_ne!(pid, init);
    assert_eq!(
        wait_exit(pid, Duration::from_secs(10)),
        WaitStatus::Exited(Pid::from_raw(pid), 0)
    );
    assert_eq!(read_all(out_r), "berth-test-host\n");

    // Attached: the runtime waits and exits with the process's code.
    let out = fx.run(&[
        "exec",
        "--env",
        "X=42",
        &fx.id,
        "sh",
        "-c",
        "echo $X; exit 7",
    ]);
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "42\n");

    // With a terminal: the pty master goes to the console socket.
    let mut tty_process: Value = serde_json::from_slice(&std::fs::read(&process).unwrap()).unwrap();
    tty_process["terminal"] = json!(true);
    tty_process["args"] = json!(["sh", "-c", "test -t 0 && echo exec-tty"]);
    std::fs::write(&process, tty_process.to_string()).unwrap();
    let sock = fx.dir.path().join("exec-console.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let receiver = std::thread::spawn(move || recv_fd(&listener));
    let out = fx.run(&[
        "exec",
        "--detach",
        "--process",
        process.to_str().unwrap(),
        "--pid-file",
        pid_file.to_str().unwrap(),
        "--console-socket",
        sock.to_str().unwrap(),
        &fx.id,
    ]);
    assert!(
        out.status.success(),
        "exec --tty: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let master = receiver.join().unwrap();
    let pid = read_pid(&pid_file);
    let reader = std::thread::spawn(move || read_pty(master));
    assert_eq!(
        wait_exit(pid, Duration::from_secs(10)),
        WaitStatus::Exited(Pid::from_raw(pid), 0)
    );
    let text = reader.join().unwrap();
    assert!(text.contains("exec-tty"), "pty output: {text:?}");

    // A missing program is reported.
    let out = fx.run(&["exec", &fx.id, "nosuchbin"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("executable file not found"));

    fx.run_ok(&["kill", &fx.id, "KILL"]);
    wait_exit(init, Duration::from_secs(10));
    fx.run_ok(&["delete", &fx.id]);
    assert!(cgroup_dirs(&fx.cgroup_rel()).is_empty());
}

#[test]
fn kill_all_and_delete_of_created_containers() {
    // A container that is created but never started can be deleted (the
    // waiting init is killed).
    let mut fx = Fixture::new("created", &["sleep", "100"]);
    let (_out, _err, pid) = fx.create();
    assert!(!cgroup_dirs(&fx.cgroup_rel()).is_empty());
    fx.run_ok(&["delete", &fx.id]);
    wait_exit(pid, Duration::from_secs(10));
    assert!(cgroup_dirs(&fx.cgroup_rel()).is_empty());
    assert!(!fx.root.join(&fx.id).exists());

    // kill --all reaches processes besides the init; a signal the init
    // ignores (TERM, for a pid 1 without a handler) leaves it running.
    let mut fx = Fixture::new("killall", &["sh", "-c", "sleep 100 & sleep 100 & wait"]);
    let (_out, _err, pid) = fx.create();
    fx.run_ok(&["start", &fx.id]);
    fx.run_ok(&["kill", &fx.id, "SIGTERM"]);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(fx.state()["status"], "running");
    fx.run_ok(&["kill", "--all", &fx.id, "9"]);
    // Delete before reaping: the init is (or is about to be) our zombie,
    // which must not keep the cgroup busy.
    let deadline = Instant::now() + Duration::from_secs(10);
    while fx.state()["status"] != "stopped" {
        assert!(Instant::now() < deadline, "container did not stop");
        std::thread::sleep(Duration::from_millis(5));
    }
    fx.run_ok(&["delete", &fx.id]);
    assert!(cgroup_dirs(&fx.cgroup_rel()).is_empty());
    let status = wait_exit(pid, Duration::from_secs(10));
    assert_eq!(
        status,
        WaitStatus::Signaled(Pid::from_raw(pid), nix::sys::signal::SIGKILL, false)
    );
}

#[test]
fn missing_executable_fails_at_create() {
    let fx = Fixture::new("noexec", &["nosuchbin", "arg"]);
    let out = fx
        .cmd()
        .args(["create", "--bundle"])
        .arg(&fx.bundle)
        .arg(&fx.id)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(r#"exec: "nosuchbin": executable file not found in $PATH"#),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    // The reason is also the last error entry in the JSON log.
    let log = std::fs::read_to_string(fx.dir.path().join("runtime.log")).unwrap();
    let last: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["level"], "error");
    assert!(last["msg"]
        .as_str()
        .unwrap()
        .contains("executable file not found"));
    // Nothing is left behind.
    assert!(!fx.root.join(&fx.id).exists());
    assert!(cgroup_dirs(&fx.cgroup_rel()).is_empty());
    let out = fx.run(&["state", &fx.id]);
    assert!(!out.status.success());
}

/// A failing step of the container's setup is named with its OS error, as
/// runc names it, not as libcontainer's bare "failed to prepare rootfs".
#[test]
fn failed_steps_name_the_step_and_the_errno() {
    type Edit = fn(&mut Value);
    let cases: [(&str, Edit, &str); 3] = [
        (
            "mountfile",
            |c| {
                c["mounts"].as_array_mut().unwrap().push(json!({
                    "destination": "/bin/busybox/x", "type": "bind",
                    "source": "/etc/hostname", "options": ["rbind"]
                }))
            },
            r#"error mounting "/etc/hostname" to rootfs at "/bin/busybox/x""#,
        ),
        (
            "sysctl",
            |c| c["linux"]["sysctl"] = json!({"net.ipv4.no_such_key": "1"}),
            "open /proc/sys/net/ipv4/no_such_key: no such file or directory",
        ),
        (
            "cwdfile",
            |c| c["process"]["cwd"] = json!("/bin/busybox"),
            "/bin/busybox",
        ),
    ];
    for (name, edit, want) in cases {
        let fx = Fixture::with_config(name, edit);
        let out = fx.run(&["create", "--bundle", fx.bundle.to_str().unwrap(), &fx.id]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{name}: {stderr}");
        if name != "sysctl" {
            assert!(
                stderr.contains("not a directory (errno 20)"),
                "{name}: {stderr}"
            );
        }
        assert!(!stderr.contains("failed syscall"), "{name}: {stderr}");
        assert!(!fx.root.join(&fx.id).exists(), "{name}");
    }
}

/// A failing poststop hook is a warning, as the runtime spec asks and runc
/// does: `delete` succeeds and removes the state (it could never be
/// deleted before), and the hook gets the state with the caller's bundle.
/// (Passes with runc too: BERTH_RUNTIME=/usr/sbin/runc.)
#[test]
fn a_failing_poststop_hook_does_not_block_delete() {
    let out_file = std::env::temp_dir().join(format!("berth-poststop-{}.json", std::process::id()));
    let script = format!("cat > {}; exit 3", out_file.display());
    let mut fx = Fixture::with_config("poststop", |c| {
        c["process"]["args"] = json!(["true"]);
        c["hooks"] = json!({"poststop": [{"path": "/bin/sh", "args": ["sh", "-c", script]}]});
    });
    let (_out, _err, pid) = fx.create();
    fx.run_ok(&["start", &fx.id]);
    assert_eq!(
        wait_exit(pid, Duration::from_secs(10)),
        WaitStatus::Exited(Pid::from_raw(pid), 0)
    );
    let out = fx.run(&["delete", &fx.id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!fx.root.join(&fx.id).exists(), "the state is gone");
    let state: Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    let _ = std::fs::remove_file(&out_file);
    assert_eq!(
        Path::new(state["bundle"].as_str().unwrap()),
        fx.bundle.as_path(),
        "{state}"
    );
    assert_eq!(state["id"], fx.id.as_str());
}

/// Hooks are told the caller's bundle, also when berth-runtime runs the
/// container from an adjusted copy of the spec (here: rlimits above the
/// hard limit are clamped; runc, which does not clamp, refuses this spec
/// at create, and tells its hooks the caller's bundle otherwise).
#[test]
fn hooks_get_the_callers_bundle() {
    let dir = std::env::temp_dir().join(format!("berth-hooks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hook = |name: &str| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("cat > {}/{name}.json", dir.display())]});
    let mut fx = Fixture::with_config("hooks", |c| {
        c["process"]["args"] = json!(["true"]);
        c["process"]["rlimits"] =
            json!([{ "type": "RLIMIT_NOFILE", "hard": 1u64 << 40, "soft": 1u64 << 40 }]);
        c["hooks"] = json!({
            "createRuntime": [hook("createRuntime")],
            "poststart": [hook("poststart")],
            "poststop": [hook("poststop")],
        });
    });
    let (_out, _err, pid) = fx.create();
    fx.run_ok(&["start", &fx.id]);
    assert_eq!(
        wait_exit(pid, Duration::from_secs(10)),
        WaitStatus::Exited(Pid::from_raw(pid), 0)
    );
    fx.run_ok(&["delete", &fx.id]);
    for name in ["createRuntime", "poststart", "poststop"] {
        let state: Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            Path::new(state["bundle"].as_str().unwrap()),
            fx.bundle.as_path(),
            "{name}: {state}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rlimits_above_the_hard_limit_are_clamped() {
    let mut fx = Fixture::with_config("rlimit", |c| {
        c["process"]["args"] = json!(["sh", "-c", "ulimit -Hn"]);
        c["process"]["rlimits"] =
            json!([{ "type": "RLIMIT_NOFILE", "hard": 1u64 << 40, "soft": 1u64 << 40 }]);
    });
    let (out, _err, pid) = fx.create();
    fx.run_ok(&["start", &fx.id]);
    assert_eq!(
        wait_exit(pid, Duration::from_secs(10)),
        WaitStatus::Exited(Pid::from_raw(pid), 0)
    );
    let (_, hard) =
        nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE).unwrap();
    let got: u64 = read_all(out).trim().parse().unwrap();
    assert!(got <= hard, "container hard limit {got} > ours {hard}");
    // The caller's bundle is untouched.
    let config: Value =
        serde_json::from_slice(&std::fs::read(fx.bundle.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["process"]["rlimits"][0]["hard"], 1u64 << 40);
    fx.run_ok(&["delete", &fx.id]);
}

/// One runc-compatibility behaviour: what berth-runtime and runc are each
/// expected to do, and a probe that drives a runtime binary through it and
/// returns the observed outcome (`Err` for anything unexpected on the way).
struct Behaviour {
    row: &'static str,
    berth: &'static str,
    runc: &'static str,
    probe: fn(&Path) -> Result<String, String>,
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_string()
}

fn verb_ok(fx: &Fixture, args: &[&str]) -> Result<(), String> {
    let out = fx.run(args);
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{args:?} failed ({}): {}",
            out.status,
            stderr_of(&out)
        ))
    }
}

/// create + start, then wait for the init's exit status.
fn run_to_exit(fx: &mut Fixture) -> Result<WaitStatus, String> {
    let (_out, _err, pid) = fx.try_create()?;
    verb_ok(fx, &["start", &fx.id])?;
    Ok(wait_exit(pid, Duration::from_secs(10)))
}

fn probe_failing_poststop(rt: &Path) -> Result<String, String> {
    let mut fx = Fixture::with_runtime(rt.into(), "tbl-poststop", |c| {
        c["process"]["args"] = json!(["true"]);
        c["hooks"] = json!({"poststop": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 1"]}]});
    });
    run_to_exit(&mut fx)?;
    let out = fx.run(&["delete", &fx.id]);
    let gone = !fx.root.join(&fx.id).exists() && !fx.run(&["state", &fx.id]).status.success();
    Ok(format!(
        "delete {}, state {}",
        if out.status.success() { "ok" } else { "fails" },
        if gone { "gone" } else { "kept" }
    ))
}

fn probe_hook_bundle(rt: &Path) -> Result<String, String> {
    let dir = tempfile::Builder::new()
        .prefix("berth-tbl-hooks-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let hook = |name: &str| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("cat > {}/{name}.json", dir.path().display())]});
    let mut fx = Fixture::with_runtime(rt.into(), "tbl-hooks", |c| {
        c["process"]["args"] = json!(["true"]);
        c["hooks"] = json!({
            "createRuntime": [hook("createRuntime")],
            "poststart": [hook("poststart")],
            "poststop": [hook("poststop")],
        });
    });
    run_to_exit(&mut fx)?;
    verb_ok(&fx, &["delete", &fx.id])?;
    let mut wrong = Vec::new();
    for name in ["createRuntime", "poststart", "poststop"] {
        let file = dir.path().join(format!("{name}.json"));
        let state: Value = std::fs::read(&file)
            .map_err(|e| format!("{name}: {e}"))
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| format!("{name}: {e}")))?;
        if state["bundle"].as_str().map(Path::new) != Some(fx.bundle.as_path()) {
            wrong.push(format!("{name}: {}", state["bundle"]));
        }
    }
    Ok(if wrong.is_empty() {
        "all hooks get the bundle".into()
    } else {
        format!("wrong bundle: {wrong:?}")
    })
}

fn probe_missing_executable(rt: &Path) -> Result<String, String> {
    let mut fx = Fixture::with_runtime(rt.into(), "tbl-noexec", |c| {
        c["process"]["args"] = json!(["nosuchbin", "arg"]);
    });
    match fx.try_create() {
        Ok(_) => Ok("create succeeds".into()),
        Err(e) if e.contains("executable file not found") => {
            Ok("create fails: executable file not found".into())
        }
        Err(e) => Err(e),
    }
}

fn probe_rlimit_above_hard(rt: &Path) -> Result<String, String> {
    let mut fx = Fixture::with_runtime(rt.into(), "tbl-rlimit", |c| {
        c["process"]["args"] = json!(["true"]);
        c["process"]["rlimits"] =
            json!([{ "type": "RLIMIT_NOFILE", "hard": 1u64 << 40, "soft": 1u64 << 40 }]);
    });
    let (_out, _err, pid) = match fx.try_create() {
        Ok(created) => created,
        Err(e) => {
            eprintln!("  {}: {}", rt.display(), e.trim());
            return Ok("create fails".into());
        }
    };
    verb_ok(&fx, &["start", &fx.id])?;
    match wait_exit(pid, Duration::from_secs(10)) {
        WaitStatus::Exited(_, 0) => Ok("clamped, runs".into()),
        status => Err(format!("container ended with {status:?}")),
    }
}

fn probe_kill_all_created(rt: &Path) -> Result<String, String> {
    let mut fx = Fixture::with_runtime(rt.into(), "tbl-killall", |c| {
        c["process"]["args"] = json!(["sleep", "100"]);
    });
    let (_out, _err, pid) = fx.try_create()?;
    verb_ok(&fx, &["kill", "--all", &fx.id, "KILL"])?;
    verb_ok(&fx, &["delete", &fx.id])?;
    let status = wait_exit(pid, Duration::from_secs(10));
    if fx.root.join(&fx.id).exists() {
        return Err("state left behind".into());
    }
    Ok(match status {
        WaitStatus::Signaled(_, nix::sys::signal::SIGKILL, _) => "killed and deleted".into(),
        other => format!("deleted, init ended with {other:?}"),
    })
}

fn probe_state_unknown(rt: &Path) -> Result<String, String> {
    let fx = Fixture::with_runtime(rt.into(), "tbl-state", |_| {});
    let out = fx.run(&["state", "no-such-container"]);
    Ok(match out.status.code() {
        Some(code) => format!("exit {code}"),
        None => format!("{}", out.status),
    })
}

/// runc-compatible behaviours, as data: each row runs against both
/// berth-runtime and /usr/sbin/runc, and each must do what its column says.
#[test]
fn runc_behaviour_table() {
    const RUNC: &str = "/usr/sbin/runc";
    if !Path::new(RUNC).exists() {
        assert!(
            !berth_tests::ci(),
            "{RUNC} is required under CI (scripts/install-deps.sh installs it)"
        );
        eprintln!("SKIP: {RUNC} is not installed");
        return;
    }
    let table = [
        Behaviour {
            row: "poststop hook exits 1, then delete",
            berth: "delete ok, state gone",
            runc: "delete ok, state gone",
            probe: probe_failing_poststop,
        },
        Behaviour {
            row: "hooks get the caller's bundle on stdin",
            berth: "all hooks get the bundle",
            runc: "all hooks get the bundle",
            probe: probe_hook_bundle,
        },
        Behaviour {
            row: "missing executable",
            berth: "create fails: executable file not found",
            runc: "create fails: executable file not found",
            probe: probe_missing_executable,
        },
        // berth differs on purpose: the runtime spec does not forbid a soft
        // limit above the hard one, and docker's `--ulimit` passes such
        // values through (e.g. nofile above the host's hard limit), so
        // berth-runtime clamps them to the hard limit instead of refusing.
        Behaviour {
            row: "rlimit soft and hard above the host's hard limit (berth differs on purpose)",
            berth: "clamped, runs",
            runc: "create fails",
            probe: probe_rlimit_above_hard,
        },
        Behaviour {
            row: "kill --all KILL, then delete, of a created container",
            berth: "killed and deleted",
            runc: "killed and deleted",
            probe: probe_kill_all_created,
        },
        Behaviour {
            row: "state of an unknown id",
            berth: "exit 1",
            runc: "exit 1",
            probe: probe_state_unknown,
        },
    ];
    let berth = berth_runtime_bin();
    let mut failures = Vec::new();
    eprintln!("row | expected berth-runtime | expected runc | observed");
    for b in &table {
        let mut observed = Vec::new();
        for (name, bin, want) in [
            ("berth-runtime", berth.as_path(), b.berth),
            ("runc", Path::new(RUNC), b.runc),
        ] {
            let got = (b.probe)(bin).unwrap_or_else(|e| format!("error: {e}"));
            if got != want {
                failures.push(format!("{}: {name}: want {want:?}, got {got:?}", b.row));
            }
            observed.push(format!("{name}: {got}"));
        }
        eprintln!(
            "{} | {} | {} | {}",
            b.row,
            b.berth,
            b.runc,
            observed.join("; ")
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Receives one fd sent with SCM_RIGHTS on an accepted connection.
fn recv_fd(listener: &UnixListener) -> OwnedFd {
    let (conn, _) = listener.accept().expect("accept console connection");
    let mut buf = [0u8; 256];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .expect("recvmsg");
    for c in msg.cmsgs().unwrap() {
        if let ControlMessageOwned::ScmRights(fds) = c {
            // SAFETY: freshly received, owned by nobody else.
            return unsafe { OwnedFd::from_raw_fd(fds[0]) };
        }
    }
    panic!("no fd received on the console socket");
}

/// Reads a pty master until the slave side is gone (EIO).
fn read_pty(master: OwnedFd) -> String {
    let mut f = File::from(master);
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn terminal_through_console_socket() {
    let mut fx = Fixture::with_config("tty", |c| {
        c["process"]["terminal"] = json!(true);
        c["process"]["args"] = json!(["sh", "-c", "test -t 0 && test -t 1 && echo is-a-tty"]);
    });
    let sock = fx.dir.path().join("console.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let receiver = std::thread::spawn(move || recv_fd(&listener));
    let pid_file = fx.dir.path().join("init.pid");
    let out = fx
        .cmd()
        .args(["create", "--bundle"])
        .arg(&fx.bundle)
        .arg("--pid-file")
        .arg(&pid_file)
        .arg("--console-socket")
        .arg(&sock)
        .arg(&fx.id)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pid = read_pid(&pid_file);
    fx.pids.push(pid);
    let master = receiver.join().unwrap();
    let reader = std::thread::spawn(move || read_pty(master));
    fx.run_ok(&["start", &fx.id]);
    assert_eq!(
        wait_exit(pid, Duration::from_secs(10)),
        WaitStatus::Exited(Pid::from_raw(pid), 0)
    );
    let text = reader.join().unwrap();
    assert!(text.contains("is-a-tty"), "pty output: {text:?}");
    fx.run_ok(&["delete", &fx.id]);
    assert!(cgroup_dirs(&fx.cgroup_rel()).is_empty());
}

/// Median time of create + start + wait (+ delete, untimed) of `true`, for
/// berth-runtime and, if installed, runc, on the same bundle. Run with
/// `cargo test -p berth-tests --test runtime_cli -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_create_start_wait_true() {
    fn median(runtime: &Path, fx: &Fixture, runs: usize) -> Duration {
        let root = fx.dir.path().join(format!(
            "root-{}",
            runtime.file_name().unwrap().to_string_lossy()
        ));
        let mut times = Vec::new();
        for i in 0..runs {
            let id = format!("{}-{i}", fx.id);
            let pid_file = fx.dir.path().join("bench.pid");
            let started = Instant::now();
            let ok = Command::new(runtime)
                .arg("--root")
                .arg(&root)
                .args(["create", "--bundle"])
                .arg(&fx.bundle)
                .arg("--pid-file")
                .arg(&pid_file)
                .arg(&id)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .status()
                .unwrap()
                .success();
            assert!(ok, "{} create failed", runtime.display());
            let pid = read_pid(&pid_file);
            let ok = Command::new(runtime)
                .arg("--root")
                .arg(&root)
                .args(["start", &id])
                .status()
                .unwrap()
                .success();
            assert!(ok, "{} start failed", runtime.display());
            wait_exit(pid, Duration::from_secs(10));
            times.push(started.elapsed());
            let ok = Command::new(runtime)
                .arg("--root")
                .arg(&root)
                .args(["delete", &id])
                .status()
                .unwrap()
                .success();
            assert!(ok, "{} delete failed", runtime.display());
        }
        times.sort();
        times[times.len() / 2]
    }

    // Both runtimes read the same config.json. Runs are sequential and each
    // deletes its container, so one cgroup path per runtime is enough.
    let fx = Fixture::new("bench", &["true"]);
    let mut config: Value =
        serde_json::from_slice(&std::fs::read(fx.bundle.join("config.json")).unwrap()).unwrap();
    let runs = 20;
    let mut results = Vec::new();
    for runtime in [runtime_bin(), PathBuf::from("/usr/sbin/runc")] {
        if !runtime.exists() {
            continue;
        }
        let cgroup = format!("{CGROUP_PARENT}/{}-{}", fx.id, results.len());
        config["linux"]["cgroupsPath"] = json!(format!("/{cgroup}"));
        std::fs::write(fx.bundle.join("config.json"), config.to_string()).unwrap();
        let m = median(&runtime, &fx, runs);
        results.push((runtime.display().to_string(), m));
        for dir in cgroup_dirs(&cgroup) {
            let _ = std::fs::remove_dir(dir);
        }
    }
    for (rt, m) in &results {
        println!("{rt}: median create+start+wait of `true` over {runs} runs: {m:?}");
    }
}

/// One request on a fresh connection to a shim's socket; its reply line.
fn shim_call(sock: &Path, req: Value) -> Value {
    let mut s = std::os::unix::net::UnixStream::connect(sock).expect("connect to the shim");
    std::io::Write::write_all(&mut s, format!("{req}\n").as_bytes()).unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(s), &mut line).unwrap();
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("reply {line:?}: {e}"))
}

/// A berth-shim started as berthd starts one for a container without a
/// terminal (`--create-at-start`), over its socket protocol.
struct ShimProc {
    child: std::process::Child,
    state_dir: PathBuf,
    log: PathBuf,
}

impl ShimProc {
    fn spawn(fx: &Fixture) -> ShimProc {
        let bin = berth_tests::bin("berth-shim");
        let state_dir = fx.dir.path().join("shim");
        let log = fx.dir.path().join("container.log");
        let mut child = Command::new(bin)
            .arg("--id")
            .arg(&fx.id)
            .arg("--bundle")
            .arg(&fx.bundle)
            .arg("--state-dir")
            .arg(&state_dir)
            .arg("--runtime")
            .arg(&fx.runtime)
            .arg("--runtime-root")
            .arg(&fx.root)
            .arg("--log-path")
            .arg(&log)
            .arg("--create-at-start")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn berth-shim");
        // Ready, with no pid yet: nothing is created before the start.
        let mut ready = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut ready,
        )
        .unwrap();
        let ready: Value = serde_json::from_str(&ready).expect("ready line");
        assert_eq!(ready, json!({}), "ready: {ready}");
        assert!(!fx.root.join(&fx.id).exists(), "created before the start");
        ShimProc {
            child,
            state_dir,
            log,
        }
    }

    fn call(&self, req: Value) -> Value {
        shim_call(&self.state_dir.join("shim.sock"), req)
    }

    /// Waits for the shim to exit; returns its exit code.
    fn exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code();
            }
            assert!(Instant::now() < deadline, "the shim did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for ShimProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The shim's `start` creates and starts the container in one runtime
/// `run --detach`: the reply carries the pid, output reaches the log, and
/// the exit is reported to a `wait` made before the start.
#[test]
fn a_shim_creates_at_start() {
    let fx = Fixture::new(
        "shimrun",
        &["sh", "-c", "echo out; echo err >&2; sleep 1000"],
    );
    let mut shim = ShimProc::spawn(&fx);
    assert_eq!(shim.call(json!({"op": "state"}))["status"], "created");
    let waiter = {
        let sock = shim.state_dir.join("shim.sock");
        std::thread::spawn(move || shim_call(&sock, json!({"op": "wait"})))
    };
    let started = shim.call(json!({"op": "start"}));
    let pid = started["pid"]
        .as_i64()
        .unwrap_or_else(|| panic!("{started}"));
    assert!(pid > 0, "{started}");
    let st = shim.call(json!({"op": "state"}));
    assert_eq!(
        (st["status"].as_str(), st["pid"].as_i64()),
        (Some("running"), Some(pid))
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = std::fs::read_to_string(&shim.log).unwrap_or_default();
        if log.contains("\"out\\n\"") && log.contains("\"err\\n\"") {
            break;
        }
        assert!(Instant::now() < deadline, "output not logged: {log}");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(shim.call(json!({"op": "kill", "signal": 9})), json!({}));
    assert_eq!(waiter.join().unwrap()["exit_code"], 137);
    assert_eq!(shim.exit(), Some(0));
    assert!(
        !fx.root.join(&fx.id).exists(),
        "the runtime's state is left"
    );
}

/// A failed create at start: the reply names the step, the runtime's own
/// error text (on the container's stderr) is not logged, and the shim
/// exits with nothing made.
#[test]
fn a_shim_reports_a_failed_create_at_start() {
    let fx = Fixture::new("shimfail", &["nosuchbin"]);
    let mut shim = ShimProc::spawn(&fx);
    let r = shim.call(json!({"op": "start"}));
    assert_eq!(r["failed_at"], "create", "{r}");
    assert!(
        r["error"]
            .as_str()
            .unwrap_or_default()
            .contains("executable file not found"),
        "{r}"
    );
    assert_eq!(shim.exit(), Some(1));
    let log = std::fs::read_to_string(&shim.log).unwrap_or_default();
    assert!(
        !log.contains("berth-runtime"),
        "the runtime's error was logged: {log}"
    );
    assert!(!fx.root.join(&fx.id).exists());
    assert!(cgroup_dirs(&fx.cgroup_rel()).is_empty());
}

/// A shim whose daemon went away between spawning it and the start (the
/// daemon sends `kill` when it finds it "created" at its restart) exits
/// without ever creating the container.
#[test]
fn a_shim_never_started_is_given_up_by_kill() {
    let fx = Fixture::new("shimgone", &["sleep", "1000"]);
    let mut shim = ShimProc::spawn(&fx);
    assert_eq!(shim.call(json!({"op": "kill", "signal": 9})), json!({}));
    assert_eq!(shim.exit(), Some(1));
    assert!(!shim.state_dir.join("shim.sock").exists());
    assert!(!fx.root.join(&fx.id).exists());
}
