//! Snapshots: read-only image layers and writable container layers, shown
//! through overlayfs.
//!
//! A typical use, as the image and container services do it:
//! ```ignore
//! # use store::snapshot::{Overlay, Snapshotter};
//! # fn f(layer_tar: &[u8]) -> base::Result<()> {
//! let snaps = Overlay::open(std::path::Path::new("/var/lib/berth/snapshots"))?;
//! // 1. import a layer: extract it into an empty directory, committed atomically
//! let layer = snaps.commit_layer(None, &mut |dir| {
//!     let a = archive::apply_layer(layer_tar, dir)?;
//!     Ok((a.diff_id, a.size))
//! })?;
//! // 2. prepare a writable snapshot for a container on top of it
//! let mount = snaps.prepare("container-id", Some(&layer.chain_id))?;
//! // 3. mount it where the runtime expects the rootfs
//! mount.mount_at(std::path::Path::new("/run/berth/containers/container-id/rootfs"))?;
//! # Ok(()) }
//! ```
//!
//! Layout under its root (version 1):
//! ```text
//! layers/<chain-id hex>/fs        committed layer contents (overlay whiteouts inside)
//! layers/<chain-id hex>/parent    chain id of the layer below, absent for a base layer
//! layers/<chain-id hex>/size      bytes of file content in the layer
//! active/<key>/upper, work        a container's writable layer and overlay work dir
//! active/<key>/parent             chain id of the image's top layer
//! tmp/                            layers being extracted; cleared at start
//! empty/                          the lower dir of a snapshot without parent
//! ```

use base::error::IoContext;
use base::{Digest, Error, Result};
use std::path::{Path, PathBuf};

/// A mount to perform, in the shape of mount(2)'s arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub fstype: String,
    pub source: String,
    pub options: Vec<String>,
}

impl Mount {
    /// Mounts this at `target`, creating the directory.
    pub fn mount_at(&self, target: &Path) -> Result<()> {
        std::fs::create_dir_all(target).ctx(format!("create {}", target.display()))?;
        let data = self.options.join(",");
        nix::mount::mount(
            Some(self.source.as_str()),
            target,
            Some(self.fstype.as_str()),
            nix::mount::MsFlags::empty(),
            Some(data.as_str()),
        )
        .map_err(|e| {
            Error::internal(format!(
                "mount {} at {}: {e}",
                self.fstype,
                target.display()
            ))
        })
    }
}

/// Unmounts `target` if it is mounted (lazily, so a busy mount still goes).
pub fn unmount(target: &Path) -> Result<()> {
    match nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => Ok(()),
        Err(e) => Err(Error::internal(format!(
            "unmount {}: {e}",
            target.display()
        ))),
    }
}

/// A committed layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub chain_id: Digest,
    pub diff_id: Digest,
    pub size: u64,
}

/// A layer extracted but not yet committed.
#[derive(Debug)]
pub struct Staged {
    dir: PathBuf,
    pub diff_id: Digest,
    pub size: u64,
}

impl Drop for Staged {
    fn drop(&mut self) {
        // After a commit the directory was renamed away; otherwise clean up.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Stores layers and writable snapshots; returns mounts that show them.
pub trait Snapshotter: Send + Sync {
    /// Whether the committed layer `chain` exists.
    fn exists(&self, chain: &Digest) -> bool;
    /// Creates a layer on top of `parent` by running `fill` on an empty
    /// directory; `fill` returns the layer's diff id and size. Atomic: on error
    /// or crash nothing is left.
    fn commit_layer(
        &self,
        parent: Option<&Digest>,
        fill: &mut dyn FnMut(&Path) -> Result<(Digest, u64)>,
    ) -> Result<Layer> {
        let staged = self.stage_layer(fill)?;
        self.commit_staged(staged, parent)
    }
    /// Extracts a layer into a staging area, before its parent is known or
    /// committed (so the layers of an image can be unpacked in parallel).
    /// Dropping the result without committing removes it.
    fn stage_layer(&self, fill: &mut dyn FnMut(&Path) -> Result<(Digest, u64)>) -> Result<Staged>;
    /// Commits a staged layer on top of `parent`, which must exist.
    fn commit_staged(&self, staged: Staged, parent: Option<&Digest>) -> Result<Layer>;
    /// Creates the writable snapshot `key` on top of layer `parent`.
    fn prepare(&self, key: &str, parent: Option<&Digest>) -> Result<Mount>;
    /// The mount of an existing writable snapshot.
    fn mounts(&self, key: &str) -> Result<Mount>;
    /// The size recorded for a committed layer.
    fn layer_size(&self, chain: &Digest) -> u64;
    /// The directory holding the writable layer of `key`.
    fn upper_dir(&self, key: &str) -> PathBuf;
    /// The keys of all writable snapshots.
    fn keys(&self) -> Vec<String>;
    /// Removes a writable snapshot; it must not be mounted.
    fn remove(&self, key: &str) -> Result<()>;
    /// Removes a committed layer.
    fn remove_layer(&self, chain: &Digest) -> Result<()>;
    /// The committed layers that writable snapshots are built on (each
    /// snapshot's parent and the parent's ancestors): they must stay while
    /// those snapshots do, even when no image names them any more.
    fn held_layers(&self) -> std::collections::HashSet<Digest> {
        let mut out = std::collections::HashSet::new();
        for key in self.keys() {
            let mut cur = self.parent_of(&key);
            while let Some(c) = cur {
                if !out.insert(c.clone()) {
                    break;
                }
                cur = self.layer_parent(&c);
            }
        }
        out
    }
    /// The layer a writable snapshot is built on.
    fn parent_of(&self, key: &str) -> Option<Digest>;
    /// The parent of a committed layer.
    fn layer_parent(&self, chain: &Digest) -> Option<Digest>;
}

/// The overlayfs snapshotter.
pub struct Overlay {
    root: PathBuf,
}

impl Overlay {
    pub fn open(root: &Path) -> Result<Overlay> {
        for d in ["layers", "active", "empty"] {
            std::fs::create_dir_all(root.join(d)).ctx("create snapshot store")?;
        }
        // A snapshot per layer and per container, made and removed with them.
        for d in ["layers", "active"] {
            crate::dirs::spread(&root.join(d));
        }
        let _ = std::fs::remove_dir_all(root.join("tmp"));
        std::fs::create_dir_all(root.join("tmp")).ctx("create snapshot store")?;
        Ok(Overlay {
            root: root.to_path_buf(),
        })
    }

    fn layer(&self, chain: &Digest) -> PathBuf {
        self.root.join("layers").join(chain.hex())
    }

    fn active(&self, key: &str) -> PathBuf {
        self.root.join("active").join(key)
    }

    /// Lower dirs of `chain`, top first.
    fn lowers(&self, chain: &Digest) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut cur = Some(chain.clone());
        while let Some(c) = cur {
            let dir = self.layer(&c);
            if !dir.exists() {
                return Err(Error::not_found(format!("layer {c} not found")));
            }
            out.push(dir.join("fs").display().to_string());
            cur = read_parent(&dir)?;
            if out.len() > 500 {
                return Err(Error::invalid("layer chain too long"));
            }
        }
        Ok(out)
    }
}

fn read_parent(dir: &Path) -> Result<Option<Digest>> {
    match std::fs::read_to_string(dir.join("parent")) {
        Ok(s) => Ok(Some(Digest::parse(s.trim())?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read snapshot parent", e)),
    }
}

impl Snapshotter for Overlay {
    fn exists(&self, chain: &Digest) -> bool {
        self.layer(chain).exists()
    }

    fn stage_layer(&self, fill: &mut dyn FnMut(&Path) -> Result<(Digest, u64)>) -> Result<Staged> {
        let dir = self.root.join("tmp").join(base::id::random_id());
        let mut staged = Staged {
            dir,
            diff_id: Digest::of(b""),
            size: 0,
        };
        std::fs::create_dir_all(staged.dir.join("fs")).ctx("create layer dir")?;
        let (diff_id, size) = fill(&staged.dir.join("fs"))?;
        staged.diff_id = diff_id;
        staged.size = size;
        Ok(staged)
    }

    fn commit_staged(&self, staged: Staged, parent: Option<&Digest>) -> Result<Layer> {
        if let Some(p) = parent {
            if !self.exists(p) {
                return Err(Error::not_found(format!("parent layer {p} not found")));
            }
            std::fs::write(staged.dir.join("parent"), p.as_str()).ctx("write layer parent")?;
        }
        let chain_id = match parent {
            Some(p) => Digest::of(format!("{p} {}", staged.diff_id).as_bytes()),
            None => staged.diff_id.clone(),
        };
        let layer = Layer {
            chain_id,
            diff_id: staged.diff_id.clone(),
            size: staged.size,
        };
        if !self.exists(&layer.chain_id) {
            std::fs::write(staged.dir.join("size"), layer.size.to_string())
                .ctx("write layer size")?;
            std::fs::rename(&staged.dir, self.layer(&layer.chain_id)).ctx("commit layer")?;
        }
        Ok(layer)
    }

    fn prepare(&self, key: &str, parent: Option<&Digest>) -> Result<Mount> {
        let dir = self.active(key);
        if dir.exists() {
            return Err(Error::conflict(format!("snapshot {key} already exists")));
        }
        if let Some(p) = parent {
            self.lowers(p)?;
        }
        std::fs::create_dir_all(dir.join("upper")).ctx("create snapshot")?;
        std::fs::create_dir_all(dir.join("work")).ctx("create snapshot")?;
        if let Some(p) = parent {
            std::fs::write(dir.join("parent"), p.as_str()).ctx("write snapshot parent")?;
        }
        self.mounts(key)
    }

    fn mounts(&self, key: &str) -> Result<Mount> {
        let dir = self.active(key);
        if !dir.exists() {
            return Err(Error::not_found(format!("snapshot {key} not found")));
        }
        let lowers = match read_parent(&dir)? {
            Some(p) => self.lowers(&p)?,
            None => vec![self.root.join("empty").display().to_string()],
        };
        Ok(Mount {
            fstype: "overlay".into(),
            source: "overlay".into(),
            options: vec![
                format!("lowerdir={}", lowers.join(":")),
                format!("upperdir={}", dir.join("upper").display()),
                format!("workdir={}", dir.join("work").display()),
            ],
        })
    }

    fn layer_size(&self, chain: &Digest) -> u64 {
        std::fs::read_to_string(self.layer(chain).join("size"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    fn upper_dir(&self, key: &str) -> PathBuf {
        self.active(key).join("upper")
    }

    fn keys(&self) -> Vec<String> {
        std::fs::read_dir(self.root.join("active"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    fn remove(&self, key: &str) -> Result<()> {
        match std::fs::remove_dir_all(self.active(key)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io(format!("remove snapshot {key}"), e))
            }
            _ => Ok(()),
        }
    }

    fn remove_layer(&self, chain: &Digest) -> Result<()> {
        match std::fs::remove_dir_all(self.layer(chain)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io(format!("remove layer {chain}"), e))
            }
            _ => Ok(()),
        }
    }

    fn parent_of(&self, key: &str) -> Option<Digest> {
        read_parent(&self.active(key)).ok().flatten()
    }

    fn layer_parent(&self, chain: &Digest) -> Option<Digest> {
        read_parent(&self.layer(chain)).ok().flatten()
    }
}

/// The behaviour every snapshotter must show; each implementation's test calls it.
#[cfg(test)]
pub(crate) fn test_suite(s: &dyn Snapshotter) {
    let la = s
        .commit_layer(None, &mut |d| {
            std::fs::write(d.join("f"), "a").unwrap();
            Ok((Digest::of(b"a"), 1))
        })
        .unwrap();
    let a = la.chain_id.clone();
    assert_eq!(a, Digest::of(b"a"));
    assert!(s.exists(&a));
    // A failing fill leaves nothing.
    assert!(s
        .commit_layer(Some(&a), &mut |_| Err(Error::invalid("bad")))
        .is_err());
    let lb = s
        .commit_layer(Some(&a), &mut |_| Ok((Digest::of(b"b"), 0)))
        .unwrap();
    let b = lb.chain_id.clone();
    assert_eq!(
        Some(b.clone()),
        base::digest::chain_id(&[Digest::of(b"a"), Digest::of(b"b")])
    );
    let m = s.prepare("c1", Some(&b)).unwrap();
    assert_eq!(m.fstype, "overlay");
    assert!(
        m.options[0].starts_with("lowerdir=") && m.options[0].contains(':'),
        "{:?}",
        m.options
    );
    assert_eq!(
        s.prepare("c1", Some(&b)).unwrap_err().kind,
        base::ErrorKind::Conflict
    );
    assert!(s.prepare("c2", Some(&Digest::of(b"missing"))).is_err());
    assert_eq!(s.keys(), vec!["c1".to_string()]);
    // A snapshot holds its parent layer and the parent's ancestors.
    assert_eq!(
        s.held_layers(),
        [a.clone(), b.clone()].into_iter().collect()
    );
    s.remove("c1").unwrap();
    assert!(s.keys().is_empty());
    assert!(s.held_layers().is_empty());
    assert_eq!(s.mounts("c1").unwrap_err().kind, base::ErrorKind::NotFound);
    s.remove_layer(&b).unwrap();
    assert!(!s.exists(&b));
    // Staged layers commit in any order once their parent exists.
    let top = s.stage_layer(&mut |_| Ok((Digest::of(b"top"), 0))).unwrap();
    let mid = s.stage_layer(&mut |_| Ok((Digest::of(b"mid"), 0))).unwrap();
    let dropped = s
        .stage_layer(&mut |_| Ok((Digest::of(b"gone"), 0)))
        .unwrap();
    drop(dropped);
    let m = s.commit_staged(mid, Some(&a)).unwrap();
    let t = s.commit_staged(top, Some(&m.chain_id)).unwrap();
    assert!(s.exists(&t.chain_id));
    assert!(!s.exists(&Digest::of(b"gone")));
}

#[cfg(test)]
mod tests {
    #[test]
    fn overlay_passes_suite() {
        let d = tempfile::tempdir().unwrap();
        super::test_suite(&super::Overlay::open(d.path()).unwrap());
    }
}
