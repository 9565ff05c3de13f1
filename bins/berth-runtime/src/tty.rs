//! Terminal handling for the attached modes (`run` and `exec` without
//! `--detach`) when the process wants a terminal and the caller gave no
//! console socket: we listen on a socket of our own, receive the pty master
//! that the container process sends (SCM_RIGHTS, as with runc), and copy
//! between it and our stdio until the process exits.

use std::fs::File;
use std::io::{IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
use nix::sys::termios::{self, SetArg, Termios};
use nix::unistd::Pid;

use crate::common;

/// A console socket we listen on ourselves.
pub struct ConsoleListener {
    listener: UnixListener,
    path: PathBuf,
}

impl ConsoleListener {
    /// Listens on a fresh socket in `dir`.
    pub fn bind(dir: &Path) -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = dir.join(format!(".console-{}-{nanos:x}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let listener =
            UnixListener::bind(&path).with_context(|| format!("listen on {}", path.display()))?;
        Ok(Self { listener, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Receives the pty master. The container process has already sent it
    /// by the time libcontainer returns, so this does not block for long.
    pub fn receive_master(&self) -> Result<OwnedFd> {
        let (conn, _) = self.listener.accept().context("accept on console socket")?;
        let mut buf = [0u8; 4096];
        let mut iov = [IoSliceMut::new(&mut buf)];
        let mut space = nix::cmsg_space!([RawFd; 1]);
        let msg = recvmsg::<()>(
            conn.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .context("receive pty master")?;
        for cmsg in msg.cmsgs().context("read control message")? {
            if let ControlMessageOwned::ScmRights(fds) = cmsg {
                if let Some(&fd) = fds.first() {
                    // SAFETY: the fd was just received and nothing else owns it.
                    return Ok(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
        }
        bail!("console socket: no file descriptor received")
    }
}

impl Drop for ConsoleListener {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Puts our stdin in raw mode while alive, if it is a terminal.
struct RawMode {
    saved: Option<Termios>,
}

impl RawMode {
    fn enter() -> Self {
        let stdin = std::io::stdin();
        let Ok(saved) = termios::tcgetattr(stdin.as_fd()) else {
            return Self { saved: None };
        };
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        let _ = termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw);
        Self { saved: Some(saved) }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, saved);
        }
    }
}

/// Copies the window size of our stdin's terminal (if any) to the pty.
fn copy_winsize(master: RawFd) {
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ/TIOCSWINSZ read or write one winsize struct.
    unsafe {
        if libc::ioctl(0, libc::TIOCGWINSZ, &mut ws) == 0 {
            libc::ioctl(master, libc::TIOCSWINSZ, &ws);
        }
    }
}

/// Proxies between our stdio and the pty master until `pid` (our child)
/// exits; returns its exit code.
pub fn proxy_and_wait(master: OwnedFd, pid: Pid) -> Result<i32> {
    // Before spawning the copy threads, so that they don't take the signals
    // meant for the container process.
    common::block_forwarded_signals()?;
    copy_winsize(master.as_raw_fd());
    let _raw = RawMode::enter();

    let master = File::from(master);
    let mut input = master.try_clone().context("dup pty master")?;
    let winch = master.try_clone().context("dup pty master")?;
    let mut output = master;

    // stdin -> pty. This thread may stay blocked in read; the process exits
    // without waiting for it.
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 8192];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if input.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            }
        }
    });

    // pty -> stdout, until EIO (every slave closed) or EOF.
    let (done_tx, done_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut stdout = std::io::stdout();
        let mut buf = [0u8; 8192];
        loop {
            match output.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if stdout.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    let _ = stdout.flush();
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        let _ = done_tx.send(());
    });

    let code =
        common::wait_forwarding(pid, Some(Box::new(move || copy_winsize(winch.as_raw_fd()))))?;
    // Let the output drain; background processes may keep the pty open, so
    // don't wait for EOF indefinitely.
    let _ = done_rx.recv_timeout(Duration::from_millis(500));
    Ok(code)
}
