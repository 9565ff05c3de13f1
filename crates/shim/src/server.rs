//! The shim process itself (synchronous: threads and blocking I/O).

use crate::frame;
use crate::proto::{ExitRecord, Reply, Request, EXIT_FILE, PID_FILE, SOCKET};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How the daemon configured this shim (its command line).
#[derive(Debug, Clone)]
pub struct Options {
    pub id: String,
    pub bundle: PathBuf,
    pub state_dir: PathBuf,
    pub runtime: PathBuf,
    pub runtime_root: Option<PathBuf>,
    pub log_path: PathBuf,
    /// Rotate the log at this size (0: never), keeping `log_max_file`
    /// files (`<log>`, `<log>.1`, ...), as dockerd's json-file driver.
    pub log_max_size: u64,
    pub log_max_file: u32,
    /// gzip the rotated files (`<log>.1.gz`, ...), as `--log-opt compress`.
    pub log_compress: bool,
    /// `--log-driver none`: nothing is kept.
    pub no_log: bool,
    pub tty: bool,
    pub stdin: bool,
    /// Create the container only when the daemon asks for the start, in
    /// one `runtime run --detach` (one runtime process instead of two).
    /// Ignored with `tty`: the pty comes from the runtime at create.
    pub create_at_start: bool,
}

/// Reaps every child (we are a subreaper) and reports exits to watchers.
///
/// A watcher is registered *before* the process it cares about is started
/// and sees only exits reaped after that, so a reused pid (pid_max can be
/// small) is never confused with an earlier process of the same number.
#[derive(Default)]
struct Reaper {
    state: Mutex<ReaperState>,
    cv: Condvar,
}

#[derive(Default)]
struct ReaperState {
    /// Bumped on every spawn, so the reaping loop never sleeps past a new child.
    spawns: u64,
    next: u64,
    /// Watcher id → exits (pid, code) reaped since it was registered.
    watches: HashMap<u64, Vec<(i32, i32)>>,
}

/// A registered interest in exits; unregistered on drop.
struct Watch<'a> {
    reaper: &'a Reaper,
    id: u64,
}

impl Watch<'_> {
    /// Waits for `pid` (started after this watch was made) to exit.
    fn wait(&self, pid: i32) -> i32 {
        let mut s = self.reaper.state.lock().unwrap();
        loop {
            if let Some(&(_, code)) = s
                .watches
                .get(&self.id)
                .and_then(|v| v.iter().find(|(p, _)| *p == pid))
            {
                return code;
            }
            s = self.reaper.cv.wait(s).unwrap();
        }
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        self.reaper.state.lock().unwrap().watches.remove(&self.id);
    }
}

impl Reaper {
    fn run(&self) {
        use nix::sys::wait::{waitpid, WaitStatus};
        loop {
            let gen = self.state.lock().unwrap().spawns;
            match waitpid(None, None) {
                Ok(WaitStatus::Exited(pid, code)) => self.reaped(pid.as_raw(), code),
                Ok(WaitStatus::Signaled(pid, sig, _)) => {
                    self.reaped(pid.as_raw(), 128 + sig as i32)
                }
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                // No children right now: sleep until `spawned` says there is one.
                Err(_) => {
                    let s = self.state.lock().unwrap();
                    if s.spawns == gen {
                        let _ = self.cv.wait_timeout(s, Duration::from_millis(100));
                    }
                }
            }
        }
    }

    fn reaped(&self, pid: i32, code: i32) {
        let mut s = self.state.lock().unwrap();
        for v in s.watches.values_mut() {
            v.push((pid, code));
        }
        self.cv.notify_all();
    }

    /// Starts watching exits; call before starting the process to wait for.
    fn watch(&self) -> Watch<'_> {
        let mut s = self.state.lock().unwrap();
        s.next += 1;
        let id = s.next;
        s.watches.insert(id, Vec::new());
        Watch { reaper: self, id }
    }

    /// Wakes the reaping loop after a child was started.
    fn spawned(&self) {
        self.state.lock().unwrap().spawns += 1;
        self.cv.notify_all();
    }
}

/// The stdio of one process as the shim holds it.
struct Io {
    /// Write end of the process's stdin (or the pty master), closed on request.
    stdin: Mutex<Option<File>>,
    /// The pty master, for resizes.
    master: Option<File>,
    /// Readers to pump: (frame kind, reader).
    outputs: Vec<(u8, File)>,
}

/// The child's side of its stdio, handed to the runtime.
struct ChildIo {
    stdin: Stdio,
    stdout: Stdio,
    stderr: Stdio,
    console_socket: Option<(PathBuf, UnixListener)>,
}

fn pipe() -> std::io::Result<(File, File)> {
    let (r, w) = nix::unistd::pipe()?;
    Ok((File::from(r), File::from(w)))
}

fn setup_io(tty: bool, stdin: bool, console_path: &Path) -> std::io::Result<(ChildIo, Option<Io>)> {
    if tty {
        let _ = std::fs::remove_file(console_path);
        let l = UnixListener::bind(console_path)?;
        let child = ChildIo {
            stdin: Stdio::null(),
            stdout: Stdio::null(),
            stderr: Stdio::null(),
            console_socket: Some((console_path.to_path_buf(), l)),
        };
        return Ok((child, None));
    }
    let (in_r, in_w) = if stdin {
        pipe().map(|(r, w)| (Stdio::from(r), Some(w)))?
    } else {
        (Stdio::null(), None)
    };
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let child = ChildIo {
        stdin: in_r,
        stdout: Stdio::from(out_w),
        stderr: Stdio::from(err_w),
        console_socket: None,
    };
    let io = Io {
        stdin: Mutex::new(in_w),
        master: None,
        outputs: vec![(frame::STDOUT, out_r), (frame::STDERR, err_r)],
    };
    Ok((child, Some(io)))
}

/// Receives the pty master that the runtime sends over the console socket.
fn recv_master(listener: &UnixListener) -> std::io::Result<File> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::io::IoSliceMut;
    let (conn, _) = listener.accept()?;
    let mut buf = [0u8; 4096];
    let mut iov = [IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        conn.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    for c in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(fd) = fds.first() {
                // SAFETY: the fd was just received and is owned by nobody else.
                return Ok(unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(*fd) });
            }
        }
    }
    Err(std::io::Error::other(
        "console socket: no file descriptor received",
    ))
}

fn master_io(master: File, stdin: bool) -> std::io::Result<Io> {
    let reader = master.try_clone()?;
    let writer = if stdin {
        Some(master.try_clone()?)
    } else {
        None
    };
    Ok(Io {
        stdin: Mutex::new(writer),
        master: Some(master),
        outputs: vec![(frame::STDOUT, reader)],
    })
}

fn resize(master: &File, height: u16, width: u16) {
    let ws = libc::winsize {
        ws_row: height,
        ws_col: width,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize struct from a valid pointer.
    unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
}

/// Appends Docker json-file log lines, rotating as dockerd's json-file
/// driver does: past `max_size` the file becomes `<log>.1` (older ones move
/// up, the oldest beyond `max_file` goes) and a new one starts; with
/// `compress`, the rotated files are gzipped (`<log>.1.gz`, ...).
struct JsonLog {
    file: Option<File>,
    partial: [Vec<u8>; 3],
    path: PathBuf,
    size: u64,
    max_size: u64,
    max_file: u32,
    compress: bool,
}

impl JsonLog {
    fn write(&mut self, kind: u8, data: &[u8]) {
        let buf = &mut self.partial[kind as usize % 3];
        buf.extend_from_slice(data);
        // Lines are written in batches, but a file is rotated at the line
        // that would take it past max-size, as dockerd's json-file does.
        let mut out = Vec::new();
        let mut lines = Vec::new();
        while let Some(i) = buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = buf.drain(..=i).collect();
            for piece in line.chunks(16 * 1024) {
                lines.push(log_line(kind, piece));
            }
        }
        // A line without its end yet is kept in 16 KiB pieces, as
        // dockerd's json-file splits long lines.
        while buf.len() >= 16 * 1024 {
            let piece: Vec<u8> = buf.drain(..16 * 1024).collect();
            lines.push(log_line(kind, &piece));
        }
        for l in lines {
            if self.max_size > 0
                && self.size + (out.len() + l.len()) as u64 > self.max_size
                && self.size + out.len() as u64 > 0
            {
                self.append(&out);
                out.clear();
                self.rotate();
            }
            out.extend(l);
        }
        self.append(&out);
    }

    fn append(&mut self, out: &[u8]) {
        if out.is_empty() {
            return;
        }
        let Some(f) = self.file.as_mut() else { return };
        let _ = f.write_all(out);
        self.size += out.len() as u64;
    }

    fn rotate(&mut self) {
        let gz = if self.compress { ".gz" } else { "" };
        let name = |i: u32, ext: &str| {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{i}{ext}"));
            PathBuf::from(p)
        };
        if self.max_file > 1 {
            let _ = std::fs::remove_file(name(self.max_file - 1, gz));
            for i in (1..self.max_file - 1).rev() {
                let _ = std::fs::rename(name(i, gz), name(i + 1, gz));
            }
            let _ = std::fs::rename(&self.path, name(1, ""));
            if self.compress {
                // Written aside and renamed: a reader sees `.1` or `.1.gz`
                // whole, never a part of the gzip file.
                if gzip_file(&name(1, ""), &name(1, ".gz.tmp")).is_ok()
                    && std::fs::rename(name(1, ".gz.tmp"), name(1, ".gz")).is_ok()
                {
                    let _ = std::fs::remove_file(name(1, ""));
                }
            }
        }
        if let Ok(f) = File::options()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&self.path)
        {
            self.file = Some(f);
            self.size = 0;
        }
    }

    /// What the log holds (rotated files first, gunzipped), as frames.
    fn replay(&self) -> Vec<(u8, Vec<u8>)> {
        let mut files = Vec::new();
        for i in (1..self.max_file.max(1)).rev() {
            let mut p = self.path.clone().into_os_string();
            p.push(format!(".{i}"));
            let plain = PathBuf::from(&p);
            p.push(".gz");
            files.push((PathBuf::from(p), true));
            files.push((plain, false));
        }
        files.push((self.path.clone(), false));
        let mut out = Vec::new();
        for (path, gz) in files {
            let Ok(f) = File::open(&path) else { continue };
            let mut text = Vec::new();
            let read = if gz {
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(f), &mut text)
            } else {
                std::io::Read::read_to_end(&mut &f, &mut text)
            };
            if read.is_err() {
                continue;
            }
            for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
                    continue;
                };
                let kind = if v["stream"] == "stderr" {
                    frame::STDERR
                } else {
                    frame::STDOUT
                };
                out.push((
                    kind,
                    v["log"].as_str().unwrap_or_default().as_bytes().to_vec(),
                ));
            }
        }
        // A line not ended yet was sent to the attachers but is not in the
        // file.
        for kind in [frame::STDOUT, frame::STDERR] {
            let p = &self.partial[kind as usize % 3];
            if !p.is_empty() {
                out.push((kind, p.clone()));
            }
        }
        out
    }

    fn flush_partial(&mut self) {
        for kind in [frame::STDOUT, frame::STDERR] {
            let line = std::mem::take(&mut self.partial[kind as usize]);
            if !line.is_empty() {
                self.append(&log_line(kind, &line));
            }
        }
    }
}

/// gzips `from` into `to` (fast: it runs on the log's write path).
fn gzip_file(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    let mut src = File::open(from)?;
    let mut enc = flate2::write::GzEncoder::new(File::create(to)?, flate2::Compression::fast());
    std::io::copy(&mut src, &mut enc)?;
    enc.finish()?.sync_all()
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

fn log_line(kind: u8, line: &[u8]) -> Vec<u8> {
    let stream = if kind == frame::STDERR {
        "stderr"
    } else {
        "stdout"
    };
    let v = serde_json::json!({"log": String::from_utf8_lossy(line), "stream": stream, "time": now_rfc3339()});
    let mut s = serde_json::to_vec(&v).unwrap_or_default();
    s.push(b'\n');
    s
}

struct Attacher {
    sock: UnixStream,
    stdout: bool,
    stderr: bool,
}

#[derive(Default)]
struct InitState {
    exit: Option<i32>,
    /// With `create_at_start`: whether the runtime's `run` made the init
    /// (`Some(true)`) or failed (`Some(false)`); `None` until then.
    launched: Option<bool>,
}

struct Shim {
    opts: Options,
    reaper: Reaper,
    pid: Mutex<i32>,
    io: Mutex<Option<Arc<Io>>>,
    attachers: Mutex<Vec<Attacher>>,
    log: Mutex<JsonLog>,
    started: Mutex<bool>,
    /// With `create_at_start`: the init's side of its stdio until `Start`.
    child_io: Mutex<Option<ChildIo>>,
    init: Mutex<InitState>,
    init_cv: Condvar,
    active: Mutex<usize>,
}

impl Shim {
    /// Whether the container is created at `Start` (see [`Options::create_at_start`]).
    fn deferred(&self) -> bool {
        self.opts.create_at_start && !self.opts.tty
    }

    /// A runtime command that logs errors where `run_runtime` reads them.
    fn runtime(&self) -> Command {
        let mut c = self.runtime_unlogged();
        c.arg("--log")
            .arg(self.opts.state_dir.join("runtime.log"))
            .arg("--log-format")
            .arg("json");
        c
    }

    /// A runtime command without a log file, for work after the exit was
    /// reported: the daemon may remove the state directory meanwhile.
    fn runtime_unlogged(&self) -> Command {
        let mut c = Command::new(&self.opts.runtime);
        if let Some(root) = &self.opts.runtime_root {
            c.arg("--root").arg(root);
        }
        c
    }

    /// Runs a runtime command to completion through the reaper.
    fn run_runtime(&self, mut cmd: Command) -> Result<(), String> {
        let log = self.opts.state_dir.join("runtime.log");
        let before = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        let watch = self.reaper.watch();
        let child = cmd
            .spawn()
            .map_err(|e| format!("{}: {e}", self.opts.runtime.display()))?;
        let pid = child.id() as i32;
        drop(cmd);
        self.reaper.spawned();
        let code = watch.wait(pid);
        if code == 0 {
            return Ok(());
        }
        Err(runtime_error(&log, before)
            .unwrap_or_else(|| format!("runtime exited with status {code}")))
    }

    fn publish(&self, kind: u8, data: &[u8]) {
        // The log's lock is held until the attachers have the data too: an
        // attach with logs replays under it (see Request::Attach).
        let mut log = self.log.lock().unwrap();
        log.write(kind, data);
        let mut list = self.attachers.lock().unwrap();
        list.retain_mut(|a| {
            let wanted = if kind == frame::STDERR {
                a.stderr
            } else {
                a.stdout
            };
            !wanted || frame::write(&mut a.sock, kind, data).is_ok()
        });
    }
}

/// The last error message the runtime logged after `offset`.
fn runtime_error(log: &Path, offset: u64) -> Option<String> {
    let mut f = File::open(log).ok()?;
    let mut s = String::new();
    std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(offset)).ok()?;
    f.read_to_string(&mut s).ok()?;
    s.lines().rev().find_map(|l| {
        let v: serde_json::Value = serde_json::from_str(l).ok()?;
        (v["level"] == "error" || v["level"] == "fatal")
            .then(|| v["msg"].as_str().unwrap_or_default().to_string())
    })
}

/// The output pumps of one process.
struct Pumps {
    /// One message per pump at EOF.
    done: std::sync::mpsc::Receiver<()>,
    n: usize,
    /// Pumps between a read and the end of its `sink` call.
    busy: Arc<std::sync::atomic::AtomicUsize>,
    /// The read ends, to see whether output is still waiting in them.
    readers: Vec<File>,
}

/// Copies one output of a process to `sink` until EOF, then signals `done`.
fn pump(
    kind: u8,
    mut r: File,
    sink: impl Fn(u8, &[u8]) + Send + 'static,
    busy: Arc<std::sync::atomic::AtomicUsize>,
    done: std::sync::mpsc::Sender<()>,
) {
    use std::sync::atomic::Ordering;
    thread::spawn(move || {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    busy.fetch_add(1, Ordering::SeqCst);
                    sink(kind, &buf[..n]);
                    busy.fetch_sub(1, Ordering::SeqCst);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // EIO on a pty master once the slave side is gone.
                Err(_) => break,
            }
        }
        let _ = done.send(());
    });
}

fn start_pumps(
    io: &Io,
    sink: impl Fn(u8, &[u8]) + Send + Clone + 'static,
) -> std::io::Result<Pumps> {
    let (tx, rx) = std::sync::mpsc::channel();
    let busy = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut readers = Vec::new();
    for (kind, r) in &io.outputs {
        pump(
            *kind,
            r.try_clone()?,
            sink.clone(),
            busy.clone(),
            tx.clone(),
        );
        readers.push(r.try_clone()?);
    }
    Ok(Pumps {
        done: rx,
        n: io.outputs.len(),
        busy,
        readers,
    })
}

impl Pumps {
    /// Waits for the pumps to reach EOF once the process has exited. A
    /// daemonized grandchild may hold a pipe open for ever, so after 2 s
    /// the wait ends, but only once nothing is left to copy: no bytes
    /// waiting in a pipe and no pump in the middle of a copy (a pump held
    /// back on a busy machine loses nothing). A grandchild that never stops
    /// writing is given up on after 30 s.
    fn drain(&self) {
        use std::sync::atomic::Ordering;
        let grace = Instant::now() + Duration::from_secs(2);
        let limit = Instant::now() + Duration::from_secs(30);
        let mut left = self.n;
        while left > 0 {
            match self.done.recv_timeout(Duration::from_millis(50)) {
                Ok(()) => left -= 1,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    let now = Instant::now();
                    if now >= limit {
                        return;
                    }
                    if now >= grace
                        && self.busy.load(Ordering::SeqCst) == 0
                        && self.readers.iter().all(|r| pending(r) == 0)
                    {
                        return;
                    }
                }
            }
        }
    }
}

/// Bytes waiting to be read in a pipe or pty master.
fn pending(f: &File) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through a valid pointer.
    let rc = unsafe { libc::ioctl(f.as_raw_fd(), libc::FIONREAD, &mut n) };
    if rc == 0 {
        n.max(0) as usize
    } else {
        0
    }
}

/// Handles stdin/close/resize frames from a client for one process.
fn feed_stdin(mut conn: UnixStream, io: Arc<Io>) {
    thread::spawn(move || {
        while let Ok(Some((kind, payload))) = frame::read(&mut conn) {
            match kind {
                frame::STDIN => {
                    if let Some(w) = io.stdin.lock().unwrap().as_mut() {
                        let _ = w.write_all(&payload);
                    }
                }
                frame::CLOSE_STDIN => {
                    // A terminal has no half-close: send EOF (^D) instead.
                    let mut g = io.stdin.lock().unwrap();
                    if io.master.is_some() {
                        if let Some(w) = g.as_mut() {
                            let _ = w.write_all(&[4]);
                        }
                    }
                    *g = None;
                }
                frame::RESIZE if payload.len() >= 4 => {
                    if let Some(m) = &io.master {
                        resize(
                            m,
                            u16::from_be_bytes([payload[0], payload[1]]),
                            u16::from_be_bytes([payload[2], payload[3]]),
                        );
                    }
                }
                _ => {}
            }
        }
    });
}

fn reply(conn: &mut UnixStream, r: &Reply) {
    let mut s = serde_json::to_vec(r).unwrap_or_default();
    s.push(b'\n');
    let _ = conn.write_all(&s);
}

/// Counts a request in flight; the shim does not exit while one is
/// (a `start` reply must not be lost when the process exits at once).
struct InFlight<'a>(&'a Shim);

impl<'a> InFlight<'a> {
    fn new(shim: &'a Shim) -> InFlight<'a> {
        *shim.active.lock().unwrap() += 1;
        InFlight(shim)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        *self.0.active.lock().unwrap() -= 1;
        self.0.init_cv.notify_all();
    }
}

fn handle(shim: Arc<Shim>, conn: UnixStream) {
    let _in_flight = InFlight::new(&shim);
    handle_request(&shim, conn);
}

fn handle_request(shim: &Arc<Shim>, mut conn: UnixStream) {
    let mut line = String::new();
    {
        let mut r = BufReader::new(&conn);
        if r.read_line(&mut line).is_err() {
            return;
        }
    }
    let req: Request = match serde_json::from_str(&line) {
        Ok(r) => r,
        Err(e) => return reply(&mut conn, &Reply::err(format!("bad request: {e}"))),
    };
    match req {
        Request::Start => {
            let mut started = shim.started.lock().unwrap();
            if *started {
                return reply(&mut conn, &Reply::default());
            }
            if shim.deferred() {
                return create_and_start(shim, &mut conn, &mut started);
            }
            let mut cmd = shim.runtime();
            cmd.arg("start")
                .arg(&shim.opts.id)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            match shim.run_runtime(cmd) {
                Ok(()) => {
                    *started = true;
                    reply(
                        &mut conn,
                        &Reply {
                            pid: Some(*shim.pid.lock().unwrap()),
                            ..Default::default()
                        },
                    )
                }
                Err(e) => reply(&mut conn, &Reply::err(e)),
            }
        }
        Request::State => {
            let exit = shim.init.lock().unwrap().exit;
            let status = match (exit, *shim.started.lock().unwrap()) {
                (Some(_), _) => "stopped",
                (None, true) => "running",
                (None, false) => "created",
            };
            reply(
                &mut conn,
                &Reply {
                    pid: Some(*shim.pid.lock().unwrap()),
                    exit_code: exit,
                    status: Some(status.into()),
                    ..Default::default()
                },
            )
        }
        Request::Wait => {
            let code = {
                let mut s = shim.init.lock().unwrap();
                while s.exit.is_none() {
                    s = shim.init_cv.wait(s).unwrap();
                }
                s.exit
            };
            reply(
                &mut conn,
                &Reply {
                    exit_code: code,
                    ..Default::default()
                },
            );
        }
        Request::Kill { signal } => {
            let pid = *shim.pid.lock().unwrap();
            if pid <= 0 {
                // Not created yet (or its `run` failed): nothing to signal,
                // and kill(0) would reach our own process group. A shim
                // that creates at start and was never started (its daemon
                // went away before the start) is given up: it exits.
                // Replied first: the shim exits once it gives up.
                reply(&mut conn, &Reply::default());
                if shim.deferred() {
                    if let Ok(started) = shim.started.try_lock() {
                        if !*started {
                            shim.child_io.lock().unwrap().take();
                            shim.init.lock().unwrap().launched.get_or_insert(false);
                            shim.init_cv.notify_all();
                        }
                    }
                }
                return;
            }
            let r = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::try_from(signal).ok(),
            );
            match r {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => reply(&mut conn, &Reply::default()),
                Err(e) => reply(&mut conn, &Reply::err(format!("kill {pid}: {e}"))),
            }
        }
        Request::Resize { height, width } => {
            if let Some(m) = shim
                .io
                .lock()
                .unwrap()
                .as_ref()
                .and_then(|io| io.master.as_ref())
            {
                resize(m, height, width);
            }
            reply(&mut conn, &Reply::default())
        }
        Request::Attach {
            stdin,
            stdout,
            stderr,
            logs,
        } => {
            if shim.init.lock().unwrap().exit.is_some() {
                return reply(&mut conn, &Reply::err("container is not running"));
            }
            reply(&mut conn, &Reply::default());
            if stdin {
                if let (Ok(c), Some(io)) = (conn.try_clone(), shim.io.lock().unwrap().clone()) {
                    feed_stdin(c, io);
                }
            }
            // Output is logged, then sent to the attachers, under the log's
            // lock: holding it, the replay is everything so far and the
            // attacher gets everything after.
            let log = shim.log.lock().unwrap();
            if logs {
                for (kind, data) in log.replay() {
                    let wanted = if kind == frame::STDERR {
                        stderr
                    } else {
                        stdout
                    };
                    if wanted && frame::write(&mut conn, kind, &data).is_err() {
                        return;
                    }
                }
            }
            shim.attachers.lock().unwrap().push(Attacher {
                sock: conn,
                stdout,
                stderr,
            });
            drop(log);
        }
        Request::Exec {
            exec_id,
            process,
            tty,
            stdin,
        } => exec(shim, conn, &exec_id, process, tty, stdin),
    }
}

/// `Start` of a shim that creates at start: `runtime run --detach` with
/// the stdio made at spawn. A failure says whether the create or the start
/// failed (the pid file is written once the create is done).
fn create_and_start(shim: &Arc<Shim>, conn: &mut UnixStream, started: &mut bool) {
    let Some(child) = shim.child_io.lock().unwrap().take() else {
        return reply(conn, &Reply::err("the container's create failed already"));
    };
    let opts = &shim.opts;
    let pidfile = opts.state_dir.join(PID_FILE);
    let mut cmd = shim.runtime();
    cmd.arg("run")
        .arg("--detach")
        .arg("--bundle")
        .arg(&opts.bundle)
        .arg("--pid-file")
        .arg(&pidfile)
        .arg(&opts.id)
        .stdin(child.stdin)
        .stdout(child.stdout)
        .stderr(child.stderr);
    let result = shim.run_runtime(cmd).and_then(|()| read_pid(&pidfile));
    let launched = result.is_ok();
    let r = match result {
        Ok(pid) => {
            *shim.pid.lock().unwrap() = pid;
            *started = true;
            Reply {
                pid: Some(pid),
                ..Default::default()
            }
        }
        Err(e) => Reply {
            failed_at: Some(if pidfile.exists() { "start" } else { "create" }.into()),
            ..Reply::err(e)
        },
    };
    // Replied first: after a failure the shim exits once told.
    reply(conn, &r);
    shim.init.lock().unwrap().launched = Some(launched);
    shim.init_cv.notify_all();
}

fn read_pid(pidfile: &Path) -> Result<i32, String> {
    std::fs::read_to_string(pidfile)
        .map_err(|e| format!("pid file: {e}"))?
        .trim()
        .parse()
        .map_err(|_| "bad pid file".to_string())
}

fn exec(
    shim: &Shim,
    mut conn: UnixStream,
    exec_id: &str,
    process: serde_json::Value,
    tty: bool,
    stdin: bool,
) {
    let dir = &shim.opts.state_dir;
    // Before the runtime starts the process, so its exit cannot be missed.
    let watch = shim.reaper.watch();
    let spec = dir.join(format!("exec-{exec_id}.json"));
    let pidfile = dir.join(format!("exec-{exec_id}.pid"));
    let result = (|| -> Result<(i32, Io), String> {
        std::fs::write(&spec, serde_json::to_vec(&process).unwrap_or_default())
            .map_err(|e| e.to_string())?;
        let (child, io) = setup_io(
            tty,
            stdin,
            &dir.join(format!("exec-{}.sock", &exec_id[..12.min(exec_id.len())])),
        )
        .map_err(|e| format!("exec stdio: {e}"))?;
        let mut cmd = shim.runtime();
        cmd.arg("exec")
            .arg("--detach")
            .arg("--process")
            .arg(&spec)
            .arg("--pid-file")
            .arg(&pidfile);
        if let Some((p, _)) = &child.console_socket {
            cmd.arg("--console-socket").arg(p);
        }
        cmd.arg(&shim.opts.id)
            .stdin(child.stdin)
            .stdout(child.stdout)
            .stderr(child.stderr);
        let console = child.console_socket;
        let master = console.as_ref().map(|(_, l)| {
            let l = l.try_clone().expect("dup listener");
            thread::spawn(move || recv_master(&l))
        });
        shim.run_runtime(cmd)?;
        let io = match (master, io) {
            (Some(h), _) => master_io(
                h.join()
                    .map_err(|_| "console thread")?
                    .map_err(|e| e.to_string())?,
                stdin,
            )
            .map_err(|e| e.to_string())?,
            (None, Some(io)) => io,
            (None, None) => return Err("no stdio".into()),
        };
        if let Some((p, _)) = &console {
            let _ = std::fs::remove_file(p);
        }
        let pid = std::fs::read_to_string(&pidfile)
            .map_err(|e| e.to_string())?
            .trim()
            .parse()
            .map_err(|_| "bad pid file")?;
        Ok((pid, io))
    })();
    let _ = std::fs::remove_file(&spec);
    let _ = std::fs::remove_file(&pidfile);
    let (pid, io) = match result {
        Ok(v) => v,
        Err(e) => return reply(&mut conn, &Reply::err(e)),
    };
    reply(
        &mut conn,
        &Reply {
            pid: Some(pid),
            ..Default::default()
        },
    );
    let io = Arc::new(io);
    if let Ok(c) = conn.try_clone() {
        feed_stdin(c, io.clone());
    }
    let out = Arc::new(Mutex::new(conn.try_clone().expect("dup socket")));
    let sink = {
        let out = out.clone();
        move |kind: u8, data: &[u8]| {
            let _ = frame::write(&mut *out.lock().unwrap(), kind, data);
        }
    };
    let pumps = match start_pumps(&io, sink) {
        Ok(v) => v,
        Err(_) => return,
    };
    let code = watch.wait(pid);
    pumps.drain();
    let _ = frame::write(&mut *out.lock().unwrap(), frame::EXIT, &code.to_be_bytes());
    let _ = conn.shutdown(std::net::Shutdown::Both);
}

/// Runs the shim; returns the process exit code. Prints one [`crate::proto::Ready`]
/// line on stdout once the container is created (or failed to be).
pub fn run(opts: Options) -> i32 {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes an integer argument.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let ready = |r: &Reply| {
        let mut out = std::io::stdout();
        let _ =
            out.write_all(format!("{}\n", serde_json::to_string(r).unwrap_or_default()).as_bytes());
        let _ = out.flush();
        // Nobody reads stdout after this; point it at /dev/null.
        if let Ok(null) = File::options().write(true).open("/dev/null") {
            let _ = nix::unistd::dup2_stdout(&null);
        }
    };
    if let Err(e) = std::fs::create_dir_all(&opts.state_dir) {
        ready(&Reply::err(format!("state dir: {e}")));
        return 1;
    }
    let log = match File::options()
        .create(true)
        .append(true)
        .open(&opts.log_path)
    {
        Ok(f) if opts.no_log => {
            drop(f);
            None
        }
        Ok(f) => Some(f),
        Err(e) => {
            ready(&Reply::err(format!(
                "log file {}: {e}",
                opts.log_path.display()
            )));
            return 1;
        }
    };
    let shim = Arc::new(Shim {
        opts: opts.clone(),
        reaper: Reaper::default(),
        pid: Mutex::new(0),
        io: Mutex::new(None),
        attachers: Mutex::new(Vec::new()),
        log: Mutex::new(JsonLog {
            size: log
                .as_ref()
                .and_then(|f| f.metadata().ok())
                .map(|m| m.len())
                .unwrap_or(0),
            file: log,
            partial: Default::default(),
            path: opts.log_path.clone(),
            max_size: opts.log_max_size,
            max_file: opts.log_max_file,
            compress: opts.log_compress,
        }),
        started: Mutex::new(false),
        child_io: Mutex::new(None),
        init: Mutex::new(InitState::default()),
        init_cv: Condvar::new(),
        active: Mutex::new(0),
    });
    {
        let s = shim.clone();
        thread::spawn(move || s.reaper.run());
    }
    // Watch exits from before `create`, so the init's exit is never missed.
    let init_watch = shim.reaper.watch();
    let created = (|| -> Result<(i32, Io), String> {
        let (child, io) = setup_io(opts.tty, opts.stdin, &opts.state_dir.join("console.sock"))
            .map_err(|e| format!("stdio: {e}"))?;
        if shim.deferred() {
            *shim.child_io.lock().unwrap() = Some(child);
            return Ok((0, io.ok_or("no stdio")?));
        }
        let pidfile = opts.state_dir.join(PID_FILE);
        let mut cmd = shim.runtime();
        cmd.arg("create")
            .arg("--bundle")
            .arg(&opts.bundle)
            .arg("--pid-file")
            .arg(&pidfile);
        if let Some((p, _)) = &child.console_socket {
            cmd.arg("--console-socket").arg(p);
        }
        cmd.arg(&opts.id)
            .stdin(child.stdin)
            .stdout(child.stdout)
            .stderr(child.stderr);
        let console = child.console_socket;
        let master = console.as_ref().map(|(_, l)| {
            let l = l.try_clone().expect("dup listener");
            thread::spawn(move || recv_master(&l))
        });
        shim.run_runtime(cmd)?;
        let io = match (master, io) {
            (Some(h), _) => master_io(
                h.join()
                    .map_err(|_| "console thread")?
                    .map_err(|e| format!("console: {e}"))?,
                opts.stdin,
            )
            .map_err(|e| e.to_string())?,
            (None, Some(io)) => io,
            (None, None) => return Err("no stdio".into()),
        };
        if let Some((p, _)) = &console {
            let _ = std::fs::remove_file(p);
        }
        Ok((read_pid(&pidfile)?, io))
    })();
    let (pid, io) = match created {
        Ok(v) => v,
        Err(e) => {
            ready(&Reply::err(e));
            return 1;
        }
    };
    *shim.pid.lock().unwrap() = pid;
    let io = Arc::new(io);
    *shim.io.lock().unwrap() = Some(io.clone());
    let sock = opts.state_dir.join(SOCKET);
    let _ = std::fs::remove_file(&sock);
    let listener = match UnixListener::bind(&sock) {
        Ok(l) => l,
        Err(e) => {
            ready(&Reply::err(format!("bind {}: {e}", sock.display())));
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            return 1;
        }
    };
    {
        let s = shim.clone();
        thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s.clone();
                thread::spawn(move || handle(s, conn));
            }
        });
    }
    let sink = {
        let s = shim.clone();
        move |kind: u8, data: &[u8]| s.publish(kind, data)
    };
    // Output is copied once the container is created, as containerd's shim
    // does: what a failed create wrote (the runtime's own error on the
    // container's stderr) goes nowhere, neither to the log nor to attachers.
    let pumps = if shim.deferred() {
        None
    } else {
        match start_pumps(&io, sink.clone()) {
            Ok(v) => Some(v),
            Err(e) => {
                ready(&Reply::err(format!("stdio: {e}")));
                return 1;
            }
        }
    };
    ready(&Reply {
        pid: (pid > 0).then_some(pid),
        ..Default::default()
    });
    let (pid, pumps) = if shim.deferred() {
        let launched = {
            let mut s = shim.init.lock().unwrap();
            while s.launched.is_none() {
                s = shim.init_cv.wait(s).unwrap();
            }
            s.launched == Some(true)
        };
        if !launched {
            // The runtime's `run` removed what it made; nothing ran.
            let _ = std::fs::remove_file(&sock);
            return 1;
        }
        let pid = *shim.pid.lock().unwrap();
        let pumps = start_pumps(&io, sink).inspect_err(|e| {
            // Nothing can carry its output: the container is stopped.
            eprintln!("berth-shim: stdio: {e}");
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        });
        (pid, pumps.ok())
    } else {
        (pid, pumps)
    };

    let code = init_watch.wait(pid);
    if let Some(p) = &pumps {
        p.drain();
    }
    shim.log.lock().unwrap().flush_partial();
    let record = ExitRecord {
        exit_code: code,
        finished_at: now_rfc3339(),
        // Read before the runtime's delete removes the cgroup.
        oom_killed: oom_killed(&opts.bundle),
    };
    let tmp = opts.state_dir.join(format!("{EXIT_FILE}.tmp"));
    if std::fs::write(&tmp, serde_json::to_vec(&record).unwrap_or_default()).is_ok() {
        let _ = std::fs::rename(&tmp, opts.state_dir.join(EXIT_FILE));
    }
    for mut a in std::mem::take(&mut *shim.attachers.lock().unwrap()) {
        let _ = frame::write(&mut a.sock, frame::EXIT, &code.to_be_bytes());
        let _ = a.sock.shutdown(std::net::Shutdown::Both);
    }
    shim.init.lock().unwrap().exit = Some(code);
    shim.init_cv.notify_all();
    // Let requests in flight (a `start` whose process exited at once,
    // blocked `wait`s) reply before the runtime's cleanup.
    let deadline = Instant::now() + Duration::from_secs(5);
    {
        let mut active = shim.active.lock().unwrap();
        while *active > 0 && Instant::now() < deadline {
            active = shim
                .init_cv
                .wait_timeout(active, Duration::from_millis(50))
                .unwrap()
                .0;
        }
    }
    // The process is gone; the runtime's cleanup (cgroups, state) need not
    // hold up the waiters, so it runs after they were told. Retried: a cgroup
    // can stay busy for a moment while the kernel reaps the last tasks.
    for attempt in 0..5 {
        let mut cmd = shim.runtime_unlogged();
        cmd.arg("delete")
            .arg("--force")
            .arg(&opts.id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match shim.run_runtime(cmd) {
            Ok(()) => break,
            Err(e) => {
                eprintln!("berth-shim: runtime delete (attempt {}): {e}", attempt + 1);
                thread::sleep(Duration::from_millis(50 << attempt));
            }
        }
    }
    let _ = std::fs::remove_file(&sock);
    0
}

/// Whether the memory cgroup of the bundle's container killed a process for
/// lack of memory: the `oom_kill` counter of cgroup v1's
/// `memory.oom_control` or v2's `memory.events`.
fn oom_killed(bundle: &std::path::Path) -> bool {
    let Some(path) = std::fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["linux"]["cgroupsPath"].as_str().map(String::from))
    else {
        return false;
    };
    let rel = path.trim_start_matches('/');
    let counter = |file: std::path::PathBuf| -> Option<u64> {
        std::fs::read_to_string(file).ok()?.lines().find_map(|l| {
            l.strip_prefix("oom_kill ")
                .and_then(|n| n.trim().parse().ok())
        })
    };
    [
        std::path::Path::new("/sys/fs/cgroup/memory")
            .join(rel)
            .join("memory.oom_control"),
        std::path::Path::new("/sys/fs/cgroup/unified")
            .join(rel)
            .join("memory.events"),
        std::path::Path::new("/sys/fs/cgroup")
            .join(rel)
            .join("memory.events"),
    ]
    .into_iter()
    .filter_map(counter)
    .any(|n| n > 0)
}
