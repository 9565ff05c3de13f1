//! Snapshots: read-only image layers and writable container layers, shown
//! through overlayfs.
//!
//! A typical use, as the image and container services do it:
//! ```ignore
//! # use store::snapshot::{Overlay, Snapshotter};
//! # fn f(layer_tar: &[u8]) -> base::Result<()> {
//! let snaps = Overlay::open(std::path::Path::new("/var/lib/berth/snapshots"))?;
//! let chain = base::Digest::of(b"diff id of the layer");
//! // 1. import a layer: extract it into an empty directory, committed atomically
//! snaps.commit_layer(&chain, None, &mut |dir| Ok(archive::apply_layer(layer_tar, dir)?.size))?;
//! // 2. prepare a writable snapshot for a container on top of it
//! let mount = snaps.prepare("container-id", Some(&chain))?;
//! // 3. mount it where the runtime expects the rootfs
//! mount.mount_at(std::path::Path::new("/run/berth/containers/container-id/rootfs"))?;
//! # Ok(()) }
//! ```
//!
//! Layout under its root (version 1):
//! ```text
//! layers/<chain-id hex>/fs        committed layer contents (overlay whiteouts inside)
//! layers/<chain-id hex>/parent    chain id of the layer below, absent for a base layer
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
        .map_err(|e| Error::internal(format!("mount {} at {}: {e}", self.fstype, target.display())))
    }
}

/// Unmounts `target` if it is mounted (lazily, so a busy mount still goes).
pub fn unmount(target: &Path) -> Result<()> {
    match nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => Ok(()),
        Err(e) => Err(Error::internal(format!("unmount {}: {e}", target.display()))),
    }
}

/// Stores layers and writable snapshots; returns mounts that show them.
pub trait Snapshotter: Send + Sync {
    /// Whether the committed layer `chain` exists.
    fn exists(&self, chain: &Digest) -> bool;
    /// Creates layer `chain` on top of `parent` by running `fill` on an empty
    /// directory. Atomic: on error or crash nothing is left. Returns `fill`'s value.
    fn commit_layer(&self, chain: &Digest, parent: Option<&Digest>, fill: &mut dyn FnMut(&Path) -> Result<u64>) -> Result<u64>;
    /// Creates the writable snapshot `key` on top of layer `parent`.
    fn prepare(&self, key: &str, parent: Option<&Digest>) -> Result<Mount>;
    /// The mount of an existing writable snapshot.
    fn mounts(&self, key: &str) -> Result<Mount>;
    /// The directory holding the writable layer of `key`.
    fn upper_dir(&self, key: &str) -> PathBuf;
    /// Removes a writable snapshot; it must not be mounted.
    fn remove(&self, key: &str) -> Result<()>;
    /// Removes a committed layer.
    fn remove_layer(&self, chain: &Digest) -> Result<()>;
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
        let _ = std::fs::remove_dir_all(root.join("tmp"));
        std::fs::create_dir_all(root.join("tmp")).ctx("create snapshot store")?;
        Ok(Overlay { root: root.to_path_buf() })
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

    fn commit_layer(&self, chain: &Digest, parent: Option<&Digest>, fill: &mut dyn FnMut(&Path) -> Result<u64>) -> Result<u64> {
        let tmp = self.root.join("tmp").join(base::id::random_id());
        let result = (|| {
            std::fs::create_dir_all(tmp.join("fs")).ctx("create layer dir")?;
            if let Some(p) = parent {
                if !self.exists(p) {
                    return Err(Error::not_found(format!("parent layer {p} not found")));
                }
                std::fs::write(tmp.join("parent"), p.as_str()).ctx("write layer parent")?;
            }
            let v = fill(&tmp.join("fs"))?;
            if self.exists(chain) {
                return Ok(v);
            }
            std::fs::rename(&tmp, self.layer(chain)).ctx("commit layer")?;
            Ok(v)
        })();
        let _ = std::fs::remove_dir_all(&tmp);
        result
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

    fn upper_dir(&self, key: &str) -> PathBuf {
        self.active(key).join("upper")
    }

    fn remove(&self, key: &str) -> Result<()> {
        match std::fs::remove_dir_all(self.active(key)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(format!("remove snapshot {key}"), e)),
            _ => Ok(()),
        }
    }

    fn remove_layer(&self, chain: &Digest) -> Result<()> {
        match std::fs::remove_dir_all(self.layer(chain)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(format!("remove layer {chain}"), e)),
            _ => Ok(()),
        }
    }
}

/// The behaviour every snapshotter must show; each implementation's test calls it.
#[cfg(test)]
pub(crate) fn test_suite(s: &dyn Snapshotter) {
    let a = Digest::of(b"a");
    let b = Digest::of(b"b");
    s.commit_layer(&a, None, &mut |d| {
        std::fs::write(d.join("f"), "a").unwrap();
        Ok(1)
    })
    .unwrap();
    assert!(s.exists(&a));
    // A failing fill leaves nothing.
    assert!(s.commit_layer(&b, Some(&a), &mut |_| Err(Error::invalid("bad"))).is_err());
    assert!(!s.exists(&b));
    s.commit_layer(&b, Some(&a), &mut |_| Ok(0)).unwrap();
    let m = s.prepare("c1", Some(&b)).unwrap();
    assert_eq!(m.fstype, "overlay");
    assert!(m.options[0].starts_with("lowerdir=") && m.options[0].contains(':'), "{:?}", m.options);
    assert_eq!(s.prepare("c1", Some(&b)).unwrap_err().kind, base::ErrorKind::Conflict);
    assert!(s.prepare("c2", Some(&Digest::of(b"missing"))).is_err());
    s.remove("c1").unwrap();
    assert_eq!(s.mounts("c1").unwrap_err().kind, base::ErrorKind::NotFound);
    s.remove_layer(&b).unwrap();
    assert!(!s.exists(&b));
}

#[cfg(test)]
mod tests {
    #[test]
    fn overlay_passes_suite() {
        let d = tempfile::tempdir().unwrap();
        super::test_suite(&super::Overlay::open(d.path()).unwrap());
    }
}
