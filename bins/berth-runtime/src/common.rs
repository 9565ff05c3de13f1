//! Helpers shared by the verbs: state paths, loading containers, pid files,
//! berth's own per-container metadata, and waiting for a process.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use libcontainer::container::Container;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::GlobalOpts;

/// File in the container's state directory holding what libcontainer does
/// not record: the bundle as the caller gave it and the absolute rootfs.
const META_FILE: &str = "berth.json";

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Meta {
    /// The bundle directory the caller passed to `create`.
    pub bundle: PathBuf,
    /// Absolute path of the container's root filesystem.
    pub rootfs: PathBuf,
    /// `ociVersion` of the bundle's config.json.
    pub oci_version: String,
}

/// Makes a path absolute against the current directory, without resolving
/// symlinks (the file need not exist).
pub fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        Ok(path.to_path_buf())
    } else {
        Ok(std::env::current_dir()
            .context("get current directory")?
            .join(path))
    }
}

/// The state root, made absolute (libcontainer changes the working directory).
pub fn root_dir(global: &GlobalOpts) -> Result<PathBuf> {
    absolute(&global.root)
}

/// Creates the state root (mode 0700) if it does not exist yet.
pub fn ensure_root(root: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)
        .with_context(|| format!("create state directory {}", root.display()))
}

/// Rejects ids that can't name a state directory, before any path is built
/// from them (same rule as libcontainer and runc).
pub fn validate_id(id: &str) -> Result<()> {
    if id.is_empty() || id == "." || id == ".." {
        bail!("invalid container id {id:?}");
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-' | '.')))
    {
        bail!("invalid container id {id:?}: invalid character {c:?}");
    }
    Ok(())
}

pub fn container_dir(root: &Path, id: &str) -> Result<PathBuf> {
    validate_id(id)?;
    Ok(root.join(id))
}

/// Loads a container's state and refreshes its status from its process.
pub fn load_container(root: &Path, id: &str) -> Result<Container> {
    let dir = container_dir(root, id)?;
    if !dir.join("state.json").exists() {
        bail!("container {id:?} does not exist");
    }
    Container::load(dir).with_context(|| format!("load state of container {id:?}"))
}

pub fn write_meta(container_root: &Path, meta: &Meta) -> Result<()> {
    let data = serde_json::to_vec(meta)?;
    atomic_write(&container_root.join(META_FILE), &data)
}

pub fn read_meta(container_root: &Path) -> Option<Meta> {
    let data = fs::read(container_root.join(META_FILE)).ok()?;
    serde_json::from_slice(&data).ok()
}

/// Writes a file through a temporary file and a rename, so a reader never
/// sees it half written.
pub fn atomic_write(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)?;
        f.write_all(data)?;
        fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        anyhow::Error::new(e).context(format!("write {}", path.display()))
    })
}

pub fn write_pid_file(path: &Path, pid: Pid) -> Result<()> {
    atomic_write(path, pid.as_raw().to_string().as_bytes())
}

/// Renders an error chain on one line, dropping links that only repeat the
/// text of the link before them (libcontainer's errors often wrap that way).
pub fn error_message(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string().replace('\n', " ");
        if text.is_empty() {
            continue;
        }
        if let Some(last) = parts.last() {
            if last.contains(&text) {
                continue;
            }
        }
        parts.push(text);
    }
    let mut msg = parts.join(": ");
    // libcontainer words a failure of the container's process as
    // "exec process failed with error error in executing process : <why>";
    // keep just <why>, as runc does.
    // "failed to unix syscall" and "failed syscall" are wrappers that say
    // nothing of their own: the step and errno follow them.
    for noise in [
        "exec process failed with error ",
        "error in executing process : ",
        "failed to unix syscall: ",
        "failed syscall: ",
    ] {
        msg = msg.replace(noise, "");
    }
    msg
}

/// Translates a wait status into a shell-style exit code.
pub fn exit_code(status: WaitStatus) -> Option<i32> {
    match status {
        WaitStatus::Exited(_, code) => Some(code),
        WaitStatus::Signaled(_, sig, _) => Some(128 + sig as i32),
        _ => None,
    }
}

/// Reaps the children we still have, waiting up to `timeout` for them.
///
/// After a failed create or exec, libcontainer leaves its helper processes
/// (the intermediate and the container process that reported the error)
/// unreaped. If we exited, they would become zombies of the caller, and a
/// zombie that sits in the container's pid namespace keeps the container's
/// init from finishing its exit until someone reaps it.
pub fn reap_children(timeout: std::time::Duration) {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match waitpid(
            Pid::from_raw(-1),
            Some(nix::sys::wait::WaitPidFlag::WNOHANG),
        ) {
            Ok(WaitStatus::StillAlive) => {
                if std::time::Instant::now() >= deadline {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}

/// Signals that `run` and non-detached `exec` pass on to the container process.
pub const FORWARDED_SIGNALS: &[Signal] = &[
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

/// Blocks the forwarded signals in the calling thread (and so in threads it
/// spawns afterwards), so that they can be taken with sigwait instead of
/// killing us. Call it only after the container's processes were forked:
/// they would inherit the mask.
pub fn block_forwarded_signals() -> Result<SigSet> {
    let mut set = SigSet::empty();
    for s in FORWARDED_SIGNALS {
        set.add(*s);
    }
    set.thread_block().context("block signals")?;
    Ok(set)
}

/// Waits for our child `pid`, passing on the signals we receive to it. With
/// `on_winch`, SIGWINCH calls it instead of being passed on (a terminal proxy
/// resizes the pty then).
pub fn wait_forwarding(pid: Pid, on_winch: Option<Box<dyn Fn() + Send>>) -> Result<i32> {
    let set = block_forwarded_signals()?;
    std::thread::spawn(move || loop {
        match set.wait() {
            Ok(Signal::SIGWINCH) if on_winch.is_some() => {
                if let Some(f) = &on_winch {
                    f();
                }
            }
            Ok(sig) => {
                let _ = nix::sys::signal::kill(pid, sig);
            }
            Err(_) => return,
        }
    });
    loop {
        match waitpid(pid, None) {
            Ok(status) => {
                if let Some(code) = exit_code(status) {
                    return Ok(code);
                }
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e).with_context(|| format!("wait for process {pid}")),
        }
    }
}
