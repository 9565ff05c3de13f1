//! Volume drivers: where a volume's data lives and how it is made
//! available. A driver only moves bytes and mounts; names, records,
//! reference counts and Docker's rules live in the service above it.

use base::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A volume driver. One real use, as the container service makes it:
///
/// ```text
/// driver.create("db", &opts)?;               // at `volume create` or `-v db:/data`
/// let dir = driver.mount("db", &opts)?;       // at the first start that uses it
/// // bind-mount `dir` into the container...
/// driver.unmount("db", &opts)?;               // when the last user stops
/// driver.remove("db")?;                        // at `volume rm`
/// ```
pub trait VolumeDriver: Send + Sync {
    /// The driver's name (`local`).
    fn name(&self) -> &str;
    /// Checks driver options (`-o`) before anything is made.
    fn validate(&self, opts: &BTreeMap<String, String>) -> Result<()>;
    /// Makes the volume's storage.
    fn create(&self, name: &str, opts: &BTreeMap<String, String>) -> Result<()>;
    /// Where the volume's data is (its `Mountpoint`).
    fn path(&self, name: &str) -> PathBuf;
    /// Makes the data available at [`VolumeDriver::path`] (for volumes
    /// backed by a mount) and returns it. Called once per first user.
    fn mount(&self, name: &str, opts: &BTreeMap<String, String>) -> Result<PathBuf>;
    /// Undoes [`VolumeDriver::mount`] once the last user is gone.
    fn unmount(&self, name: &str, opts: &BTreeMap<String, String>) -> Result<()>;
    /// Deletes the volume's storage and data.
    fn remove(&self, name: &str) -> Result<()>;
}

/// The `local` driver: a directory `<root>/<name>/_data`, or with `type`,
/// `o` and `device` options a filesystem mounted there at first use
/// (`type=tmpfs`, `type=none,o=bind,device=/path`, or any type the kernel
/// mounts from `device` with options `o`), as dockerd's local driver.
pub struct Local {
    root: PathBuf,
}

impl Local {
    pub fn new(root: &Path) -> Result<Local> {
        std::fs::create_dir_all(root)
            .map_err(|e| Error::io(format!("create {}", root.display()), e))?;
        Ok(Local {
            root: root.to_path_buf(),
        })
    }
}

fn mounted_type(opts: &BTreeMap<String, String>) -> Option<&str> {
    opts.get("type")
        .map(String::as_str)
        .filter(|t| !t.is_empty())
}

impl VolumeDriver for Local {
    fn name(&self) -> &str {
        "local"
    }

    fn validate(&self, opts: &BTreeMap<String, String>) -> Result<()> {
        for k in opts.keys() {
            if !matches!(k.as_str(), "type" | "o" | "device") {
                return Err(Error::invalid(format!("invalid option key: {k:?}")));
            }
        }
        match mounted_type(opts) {
            None if opts.contains_key("device") || opts.contains_key("o") => {
                Err(Error::invalid("missing required option: \"type\""))
            }
            Some(t) if t != "tmpfs" && !opts.contains_key("device") => {
                Err(Error::invalid("missing required option: \"device\""))
            }
            _ => Ok(()),
        }
    }

    fn create(&self, name: &str, opts: &BTreeMap<String, String>) -> Result<()> {
        self.validate(opts)?;
        let data = self.path(name);
        std::fs::create_dir_all(&data)
            .map_err(|e| Error::io(format!("create {}", data.display()), e))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name).join("_data")
    }

    fn mount(&self, name: &str, opts: &BTreeMap<String, String>) -> Result<PathBuf> {
        let data = self.path(name);
        let Some(typ) = mounted_type(opts) else {
            return Ok(data);
        };
        let o = opts.get("o").cloned().unwrap_or_default();
        let mut flags = nix::mount::MsFlags::empty();
        let mut data_opts = Vec::new();
        for part in o.split(',').filter(|p| !p.is_empty()) {
            match part {
                "bind" => flags |= nix::mount::MsFlags::MS_BIND,
                "rbind" => flags |= nix::mount::MsFlags::MS_BIND | nix::mount::MsFlags::MS_REC,
                "ro" => flags |= nix::mount::MsFlags::MS_RDONLY,
                other => data_opts.push(other),
            }
        }
        let device = opts.get("device").map(String::as_str).unwrap_or(typ);
        let fstype = (typ != "none").then_some(typ);
        let joined = data_opts.join(",");
        nix::mount::mount(
            Some(device),
            &data,
            fstype,
            flags,
            (!joined.is_empty()).then_some(joined.as_str()),
        )
        .map_err(|e| {
            Error::internal(format!(
                "error while mounting volume '{}': failed to mount local volume: mount {device}:{} (type {typ}, options {o}): {e}",
                data.display(),
                data.display()
            ))
        })?;
        Ok(data)
    }

    fn unmount(&self, name: &str, opts: &BTreeMap<String, String>) -> Result<()> {
        if mounted_type(opts).is_none() {
            return Ok(());
        }
        let data = self.path(name);
        match nix::mount::umount2(&data, nix::mount::MntFlags::MNT_DETACH) {
            Ok(()) | Err(nix::Error::EINVAL) | Err(nix::Error::ENOENT) => Ok(()),
            Err(e) => Err(Error::internal(format!("unmount {}: {e}", data.display()))),
        }
    }

    fn remove(&self, name: &str) -> Result<()> {
        let dir = self.root.join(name);
        let _ = nix::mount::umount2(&self.path(name), nix::mount::MntFlags::MNT_DETACH);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("remove {}", dir.display()), e)),
        }
    }
}

/// The shared test suite every driver passes (one call per driver).
pub fn suite(d: &dyn VolumeDriver) {
    let none = BTreeMap::new();
    d.create("v1", &none).unwrap();
    let dir = d.mount("v1", &none).unwrap();
    assert_eq!(dir, d.path("v1"));
    std::fs::write(dir.join("f"), b"data").unwrap();
    d.unmount("v1", &none).unwrap();
    // Data outlives the mount.
    let again = d.mount("v1", &none).unwrap();
    assert_eq!(std::fs::read(again.join("f")).unwrap(), b"data");
    d.unmount("v1", &none).unwrap();
    d.remove("v1").unwrap();
    assert!(!d.path("v1").exists());
    // Removing twice is no error; bad options are refused before anything exists.
    d.remove("v1").unwrap();
    let bad: BTreeMap<String, String> = [("nosuch".to_string(), "1".to_string())].into();
    assert!(d.validate(&bad).is_err());
    assert!(d.create("v2", &bad).is_err());
    assert!(!d.path("v2").exists());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_passes_the_suite() {
        let t = tempfile::tempdir().unwrap();
        suite(&Local::new(t.path()).unwrap());
    }

    #[test]
    fn local_options_as_dockerd() {
        let t = tempfile::tempdir().unwrap();
        let d = Local::new(t.path()).unwrap();
        let o = |kv: &[(&str, &str)]| -> BTreeMap<String, String> {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(d
            .validate(&o(&[("type", "tmpfs"), ("o", "size=1m")]))
            .is_ok());
        assert!(d
            .validate(&o(&[("type", "none"), ("o", "bind"), ("device", "/x")]))
            .is_ok());
        assert!(d.validate(&o(&[("o", "bind")])).is_err());
        assert!(d.validate(&o(&[("type", "ext4")])).is_err());
    }

    #[test]
    fn tmpfs_volumes_mount_at_first_use() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let t = tempfile::tempdir().unwrap();
        let d = Local::new(t.path()).unwrap();
        let opts: BTreeMap<String, String> = [
            ("type".into(), "tmpfs".into()),
            ("o".into(), "size=1m".into()),
        ]
        .into();
        d.create("t", &opts).unwrap();
        let dir = d.mount("t", &opts).unwrap();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(mounts.contains(dir.to_str().unwrap()));
        d.unmount("t", &opts).unwrap();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(!mounts.contains(dir.to_str().unwrap()));
        d.remove("t").unwrap();
    }
}
