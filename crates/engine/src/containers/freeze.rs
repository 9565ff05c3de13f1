//! `docker pause` and `docker unpause`: the container's cgroup freezer,
//! v1 (`freezer.state`) or v2 (`cgroup.freeze`), whichever holds it.

use super::{ContainerService, Handle};
use base::{Error, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

enum Freezer {
    V1(PathBuf),
    V2(PathBuf),
}

fn locate(cgroups_path: &str) -> Option<Freezer> {
    let rel = cgroups_path.trim_start_matches('/');
    let v1 = Path::new("/sys/fs/cgroup/freezer").join(rel);
    if v1.join("freezer.state").exists() {
        return Some(Freezer::V1(v1));
    }
    for base in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
        let p = Path::new(base).join(rel);
        if p.join("cgroup.freeze").exists() {
            return Some(Freezer::V2(p));
        }
    }
    None
}

/// Whether the cgroup is frozen now.
pub(super) fn is_frozen(cgroups_path: &str) -> bool {
    match locate(cgroups_path) {
        Some(Freezer::V1(p)) => {
            std::fs::read_to_string(p.join("freezer.state")).is_ok_and(|s| s.trim() == "FROZEN")
        }
        Some(Freezer::V2(p)) => std::fs::read_to_string(p.join("cgroup.events"))
            .is_ok_and(|s| s.lines().any(|l| l.trim() == "frozen 1")),
        None => false,
    }
}

/// Freezes or thaws the cgroup and waits (up to 10 s) until the kernel
/// says it is done. Blocking.
pub(super) fn set_frozen(cgroups_path: &str, frozen: bool) -> Result<()> {
    let f = locate(cgroups_path)
        .ok_or_else(|| Error::internal(format!("no freezer cgroup for {cgroups_path}")))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let write = match &f {
            Freezer::V1(p) => std::fs::write(
                p.join("freezer.state"),
                if frozen { "FROZEN" } else { "THAWED" },
            ),
            Freezer::V2(p) => {
                std::fs::write(p.join("cgroup.freeze"), if frozen { "1" } else { "0" })
            }
        };
        write.map_err(|e| Error::io("writing the freezer state", e))?;
        if is_frozen(cgroups_path) == frozen {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::internal(format!(
                "cgroup {cgroups_path} did not {} in time",
                if frozen { "freeze" } else { "thaw" }
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

impl ContainerService {
    /// `POST /containers/{id}/pause`.
    pub async fn pause(&self, name: &str) -> Result<()> {
        let h = self.find(name)?;
        let _op = h.op.lock().await;
        let id = h.id();
        if !h.running() {
            return Err(Error::conflict(format!("Container {id} is not running")));
        }
        if h.life.borrow().paused {
            return Err(Error::conflict(format!("Container {id} is already paused")));
        }
        let path = self.cgroups_path_of(&h);
        tokio::task::spawn_blocking(move || set_frozen(&path, true))
            .await
            .map_err(|e| Error::internal(e.to_string()))??;
        self.mark_paused(&h, true);
        Ok(())
    }

    /// `POST /containers/{id}/unpause`.
    pub async fn unpause(&self, name: &str) -> Result<()> {
        let h = self.find(name)?;
        let _op = h.op.lock().await;
        let id = h.id();
        if !h.life.borrow().paused {
            return Err(Error::conflict(format!("Container {id} is not paused")));
        }
        self.thaw(&h).await
    }

    /// Thaws a paused container (before it must handle a signal). The op
    /// lock is held by the caller.
    pub(super) async fn thaw(&self, h: &Handle) -> Result<()> {
        if !h.life.borrow().paused {
            return Ok(());
        }
        let path = self.cgroups_path_of(h);
        tokio::task::spawn_blocking(move || set_frozen(&path, false))
            .await
            .map_err(|e| Error::internal(e.to_string()))??;
        self.mark_paused(h, false);
        Ok(())
    }

    fn mark_paused(&self, h: &Handle, paused: bool) {
        let rec = {
            let mut r = h.rec.lock().unwrap();
            r.state.status = if paused { "paused" } else { "running" }.into();
            r.clone()
        };
        let _ = self.save_state(&rec);
        self.event(&rec, if paused { "pause" } else { "unpause" }, &[]);
        h.life.send_modify(|l| l.paused = paused);
    }
}
