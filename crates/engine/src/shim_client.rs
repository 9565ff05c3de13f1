//! Starting shims and talking to them (async side of the `shim` protocol).

use base::{Error, Result};
use shim::proto::{Reply, Request, SOCKET};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::UnixStream;

/// How to start one container's shim.
pub struct ShimStart<'a> {
    pub shim: &'a Path,
    pub id: &'a str,
    pub bundle: &'a Path,
    pub state_dir: &'a Path,
    pub runtime: &'a Path,
    pub runtime_root: &'a Path,
    pub log_path: &'a Path,
    pub log: crate::logs::LogSettings,
    pub tty: bool,
    pub stdin: bool,
}

impl ShimStart<'_> {
    /// Whether the shim creates the container only at `Start`, in one
    /// runtime process with the start: always without a terminal (a tty's
    /// pty comes from the runtime's create, before attaches connect).
    pub fn create_at_start(&self) -> bool {
        !self.tty
    }
}

/// Starts a shim in its own process group and waits until it is ready:
/// it has created the container (and returns the init's pid, or the
/// runtime's error) or, when it creates at start, holds the container's
/// stdio and serves its socket (no pid yet).
pub async fn spawn(s: ShimStart<'_>) -> Result<Option<i32>> {
    std::fs::create_dir_all(s.state_dir).map_err(|e| Error::io("create shim state dir", e))?;
    let stderr = std::fs::File::create(s.state_dir.join("shim.log"))
        .map_err(|e| Error::io("shim log", e))?;
    let mut cmd = tokio::process::Command::new(s.shim);
    cmd.arg("--id")
        .arg(s.id)
        .arg("--bundle")
        .arg(s.bundle)
        .arg("--state-dir")
        .arg(s.state_dir);
    cmd.arg("--runtime")
        .arg(s.runtime)
        .arg("--runtime-root")
        .arg(s.runtime_root)
        .arg("--log-path")
        .arg(s.log_path);
    if s.log.no_log {
        cmd.arg("--no-log");
    }
    if s.log.max_size > 0 {
        cmd.arg("--log-max-size")
            .arg(s.log.max_size.to_string())
            .arg("--log-max-file")
            .arg(s.log.max_file.to_string());
        if s.log.compress {
            cmd.arg("--log-compress");
        }
    }
    if s.tty {
        cmd.arg("--tty");
    }
    if s.stdin {
        cmd.arg("--stdin");
    }
    if s.create_at_start() {
        cmd.arg("--create-at-start");
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(stderr);
    // A process group of its own: the shim must not die with the daemon's
    // (a terminal's ^C, a `kill -- -PGID`). Set by posix_spawn, so the
    // daemon is not forked (a fork copies its page tables: ~3% of the
    // berth side of a container start).
    cmd.process_group(0);
    cmd.kill_on_drop(false);
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::internal(format!("start shim {}: {e}", s.shim.display())))?;
    let mut out = child.stdout.take().expect("piped");
    let line = read_line(&mut out)
        .await
        .map_err(|e| Error::io("read shim", e))?
        .unwrap_or_default();
    // Tokio reaps the child in the background once the handle is dropped.
    drop(child);
    let ready: Reply = serde_json::from_slice(&line).map_err(|_| {
        let log = std::fs::read_to_string(s.state_dir.join("shim.log")).unwrap_or_default();
        Error::internal(format!("shim failed to start: {}", log.trim()))
    })?;
    match (ready.error, ready.pid) {
        (Some(e), _) => Err(Error::internal(e)),
        (None, Some(pid)) => Ok(Some(pid)),
        (None, None) if s.create_at_start() => Ok(None),
        _ => Err(Error::internal("shim sent no pid")),
    }
}

/// A connection to a shim's control socket.
pub struct ShimConn {
    pub stream: UnixStream,
}

pub fn socket_path(state_dir: &Path) -> PathBuf {
    state_dir.join(SOCKET)
}

impl ShimConn {
    pub async fn connect(state_dir: &Path) -> Result<ShimConn> {
        let stream = UnixStream::connect(socket_path(state_dir))
            .await
            .map_err(|e| Error::unavailable(format!("connect to shim: {e}")))?;
        Ok(ShimConn { stream })
    }

    /// Sends one request line.
    pub async fn send(&mut self, req: &Request) -> Result<()> {
        let mut msg = serde_json::to_vec(req).map_err(|e| Error::internal(e.to_string()))?;
        msg.push(b'\n');
        self.stream
            .write_all(&msg)
            .await
            .map_err(|e| Error::io("write to shim", e))
    }

    /// Reads one reply line as it is (its `error` field unchecked).
    pub async fn recv(&mut self) -> Result<Reply> {
        let line = read_line(&mut self.stream)
            .await
            .map_err(|e| Error::io("read from shim", e))?
            .ok_or_else(|| Error::unavailable("shim closed the connection"))?;
        serde_json::from_slice(&line).map_err(|e| Error::internal(format!("bad shim reply: {e}")))
    }

    /// Sends a request and reads its one-line reply, leaving any frames that
    /// follow unread; a reply carrying an error becomes that error.
    pub async fn call(&mut self, req: &Request) -> Result<Reply> {
        self.send(req).await?;
        let reply = self.recv().await?;
        match reply.error {
            Some(e) => Err(Error::internal(e)),
            None => Ok(reply),
        }
    }

    /// One request on a fresh connection.
    pub async fn once(state_dir: &Path, req: &Request) -> Result<Reply> {
        ShimConn::connect(state_dir).await?.call(req).await
    }
}

/// Reads one `\n`-terminated line byte by byte, so that whatever follows
/// it (frames) stays unread; `None` when the stream ends first.
async fn read_line(r: &mut (impl AsyncRead + Unpin)) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    loop {
        if r.read(&mut b).await? == 0 {
            return Ok(None);
        }
        if b[0] == b'\n' {
            return Ok(Some(line));
        }
        line.push(b[0]);
    }
}

/// Reads one frame; `None` at end of stream.
pub async fn read_frame(
    r: &mut (impl AsyncRead + Unpin),
) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let mut h = [0u8; 8];
    match r.read_exact(&mut h).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
    let mut p = vec![0u8; len];
    r.read_exact(&mut p).await?;
    Ok(Some((h[0], p)))
}

pub async fn write_frame(
    w: &mut (impl AsyncWrite + Unpin),
    kind: u8,
    payload: &[u8],
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(8 + payload.len());
    buf.extend_from_slice(&shim::frame::header(kind, payload.len()));
    buf.extend_from_slice(payload);
    w.write_all(&buf).await?;
    w.flush().await
}
