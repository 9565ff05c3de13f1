//! `docker cp`: stat, read and write paths in a container's root filesystem.
//!
//! The work itself runs in `berth-shim archive-get|archive-put`, a process
//! chrooted into the rootfs (see `shim::archive`), so that no path, `..` or
//! symlink in the container can lead the daemon to the host's files. A
//! stopped container's rootfs is mounted for the copy and unmounted after,
//! with its volumes and binds in it as dockerd mounts them for a copy; the
//! container's op lock is held meanwhile, so it cannot start or go.
//! A running container's files are reached through `/proc/<pid>/root`, its
//! own view, so paths under its volumes, binds and tmpfs mounts are seen
//! (export uses the rootfs alone, leaving volumes out, as Docker does).

use super::{ContainerService, Handle};
use base::{Error, Result};
use shim::archive::{PathStat, INVALID, NOT_FOUND};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use store::snapshot;

/// What `PUT /containers/{id}/archive` asks for beyond the path.
#[derive(Debug, Clone, Copy, Default)]
pub struct PutOptions {
    pub no_overwrite_dir_non_dir: bool,
    pub copy_uid_gid: bool,
}

/// A container's root filesystem, mounted and held for one copy or export.
pub struct CopyLease {
    /// The container as the client named it (for Docker's messages).
    name: String,
    shim: PathBuf,
    rootfs: PathBuf,
    /// The root that docker cp works in: the container's own view while it
    /// runs (its mounts included), else the rootfs.
    view: PathBuf,
    mounted_here: bool,
    /// Volumes mounted for the copy (by the lease id), released at the end.
    volumes: Vec<String>,
    lease_id: String,
    volume_service: Arc<volume::VolumeService>,
    _op: tokio::sync::OwnedMutexGuard<()>,
}

impl Drop for CopyLease {
    fn drop(&mut self) {
        if self.mounted_here {
            // Detached with the binds of `copy_mounts` under it.
            let _ = snapshot::unmount(&self.rootfs);
        }
        for v in &self.volumes {
            if let Err(e) = self.volume_service.unmount(v, &self.lease_id) {
                tracing::warn!(volume = %v, error = %e, "releasing a volume after a copy");
            }
        }
    }
}

/// What a [`CopyLease`] shows of a stopped container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseView {
    /// The rootfs alone (export, builds).
    Rootfs,
    /// The rootfs with the container's volumes and binds (`docker cp`).
    WithMounts,
}

/// The shim's failure, as an API error: its exit code gives the kind, its
/// stderr the message (the shim's "... in container" gets the name).
fn shim_failure(code: Option<i32>, stderr: &str, name: &str) -> Error {
    let mut msg = stderr.trim().to_string();
    if msg.ends_with(" in container") {
        msg = format!("{msg} {name}");
    }
    match code {
        Some(NOT_FOUND) => Error::not_found(msg),
        Some(INVALID) => Error::invalid(msg),
        _ => Error::internal(if msg.is_empty() {
            "copy failed".to_string()
        } else {
            msg
        }),
    }
}

impl CopyLease {
    /// The mounted root filesystem.
    pub fn rootfs(&self) -> &std::path::Path {
        &self.rootfs
    }

    fn command(&self, verb: &str, path: &str) -> Command {
        let mut c = Command::new(&self.shim);
        c.arg(verb).arg(&self.view).arg(path);
        c
    }

    /// Starts `archive-get` and reads the stat line it prints first.
    fn start_get(
        &self,
        path: &str,
        stat_only: bool,
    ) -> Result<(PathStat, Child, BufReader<std::process::ChildStdout>)> {
        let mut cmd = self.command("archive-get", path);
        if stat_only {
            cmd.arg("--stat-only");
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::io("start berth-shim archive-get", e))?;
        let mut out = BufReader::with_capacity(256 * 1024, child.stdout.take().expect("piped"));
        let mut line = String::new();
        let _ = out.read_line(&mut line);
        match serde_json::from_str::<PathStat>(&line) {
            Ok(st) => Ok((st, child, out)),
            Err(_) => {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                let status = child
                    .wait()
                    .map_err(|e| Error::io("berth-shim archive-get", e))?;
                Err(shim_failure(status.code(), &err, &self.name))
            }
        }
    }

    /// `HEAD /containers/{id}/archive`. Blocking.
    pub fn stat(&self, path: &str) -> Result<PathStat> {
        let (st, mut child, _) = self.start_get(path, true)?;
        let _ = child.wait();
        Ok(st)
    }

    /// `GET /containers/{id}/archive`: the stat, then the tar written to
    /// `out` by [`TarStream::copy_to`]. Blocking.
    pub fn get(self, path: &str) -> Result<(PathStat, TarStream)> {
        let (st, child, out) = self.start_get(path, false)?;
        Ok((
            st,
            TarStream {
                child,
                out,
                lease: self,
            },
        ))
    }

    /// `PUT /containers/{id}/archive`: extracts the tar read from `body`
    /// into the directory `path`. Blocking.
    pub fn put(&self, path: &str, body: &mut impl Read, o: PutOptions) -> Result<()> {
        let mut cmd = self.command("archive-put", path);
        if o.no_overwrite_dir_non_dir {
            cmd.arg("--no-overwrite-dir-non-dir");
        }
        if o.copy_uid_gid {
            cmd.arg("--copy-uid-gid");
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::io("start berth-shim archive-put", e))?;
        let mut stdin = child.stdin.take().expect("piped");
        // A write error means the extractor stopped early; its status says why.
        let _ = std::io::copy(body, &mut stdin);
        drop(stdin);
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let status = child
            .wait()
            .map_err(|e| Error::io("berth-shim archive-put", e))?;
        if status.success() {
            Ok(())
        } else {
            Err(shim_failure(status.code(), &err, &self.name))
        }
    }
}

/// The tar of a `GET /containers/{id}/archive`, still being made.
pub struct TarStream {
    child: Child,
    out: BufReader<std::process::ChildStdout>,
    lease: CopyLease,
}

impl TarStream {
    /// Copies the rest of the tar to `w`, then reaps the helper. Blocking.
    pub fn copy_to(mut self, mut w: impl Write) -> Result<()> {
        let copied = std::io::copy(&mut self.out, &mut w);
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let status = self.child.wait();
        copied.map_err(|e| Error::io("streaming the archive", e))?;
        match status {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(shim_failure(s.code(), &err, &self.lease.name)),
            Err(e) => Err(Error::io("berth-shim archive-get", e)),
        }
    }
}

impl ContainerService {
    /// Holds the container for a copy or an export, mounting its rootfs if
    /// it is not running (unmounted when the lease is dropped). `write` refuses a read-only rootfs, as Docker does.
    pub async fn copy_lease(&self, name: &str, write: bool, what: LeaseView) -> Result<CopyLease> {
        let h: Arc<Handle> = self.find(name)?;
        let id = h.id();
        if write && h.rec.lock().unwrap().host_config.readonly_rootfs {
            return Err(Error::forbidden("container rootfs is marked read-only"));
        }
        let rootfs = self.rootfs(&id);
        let op = h.op.clone().lock_owned().await;
        let mounted_here = !h.running();
        if mounted_here {
            let _ = snapshot::unmount(&rootfs);
            self.snaps.mounts(&id)?.mount_at(&rootfs)?;
        }
        let pid = h.rec.lock().unwrap().state.pid;
        let view = if mounted_here || pid <= 0 {
            rootfs.clone()
        } else {
            PathBuf::from(format!("/proc/{pid}/root"))
        };
        let mut lease = CopyLease {
            name: name.trim_start_matches('/').to_string(),
            shim: self.cfg.shim.clone(),
            rootfs,
            view,
            mounted_here,
            volumes: Vec::new(),
            lease_id: format!("{id}/copy"),
            volume_service: self.volumes.clone(),
            _op: op,
        };
        if mounted_here && what == LeaseView::WithMounts {
            let rec = h.rec.lock().unwrap().clone();
            let (used, r) = self.copy_mounts(&rec, &lease.rootfs, &lease.lease_id);
            lease.volumes = used;
            // On an error the lease's drop undoes what was mounted.
            r?;
        }
        Ok(lease)
    }
}
