//! A container's mounts: `-v`/`Binds`, `--mount`, `--tmpfs`, the image's
//! and the config's `Volumes` (anonymous volumes) and `--volumes-from`,
//! resolved at create into mount points kept with the container; at start
//! their volumes are mounted (and a new volume gets a copy of the image's
//! content at its destination), and they become OCI spec mounts. Mount
//! destinations are resolved inside the rootfs by the runtime (libcontainer
//! opens them through `pathrs`, under the root), never on the host.

use super::{ContainerRecord, ContainerService};
use api_types::volume::{Mount, MountPoint};
use base::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::Path;

/// One mount of a container, as kept in its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSpec {
    /// `bind`, `volume` or `tmpfs`.
    pub typ: String,
    /// The host path of a bind, the name of a volume; empty for tmpfs.
    pub source: String,
    pub destination: String,
    pub rw: bool,
    /// The mode as given (`ro`, `z`, ...), shown by inspect.
    pub mode: String,
    /// Bind propagation (`rprivate` unless asked).
    pub propagation: String,
    /// Volumes: no copy of the image's content.
    pub no_copy: bool,
    /// Binds: recursive (`rbind`) unless `bind-nonrecursive`.
    pub recursive: bool,
    /// tmpfs mount options (`size=...`, `mode=...`).
    pub tmpfs: Vec<String>,
    /// An anonymous volume made for this container (removed with `rm -v`).
    pub anonymous: bool,
    /// Volumes: mount this path inside the volume (`volume-subpath`).
    #[serde(default)]
    pub subpath: String,
}

const PROPAGATIONS: [&str; 6] = [
    "shared", "rshared", "slave", "rslave", "private", "rprivate",
];

fn absolute(dst: &str, spec: &str, typ: &str) -> Result<()> {
    if !dst.starts_with('/') {
        return Err(Error::invalid(format!(
            "invalid volume specification: '{spec}': invalid mount config for type \"{typ}\": invalid mount path: '{dst}' mount path must be absolute"
        )));
    }
    Ok(())
}

fn clean(dst: &str) -> String {
    let c = Path::new(dst)
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect::<std::path::PathBuf>();
    let s = c.display().to_string();
    if s.is_empty() {
        "/".into()
    } else {
        s
    }
}

/// Parses one `Binds` entry (`-v`): `/ctr`, `name:/ctr[:mode]` or
/// `/host:/ctr[:mode]`, with Docker's rules and messages.
pub fn parse_bind(spec: &str) -> Result<MountSpec> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, dst, mode) = match parts.as_slice() {
        [dst] => ("", *dst, ""),
        [src, dst] => (*src, *dst, ""),
        [src, dst, mode] => (*src, *dst, *mode),
        _ => {
            return Err(Error::invalid(format!(
                "invalid volume specification: '{spec}'"
            )))
        }
    };
    if dst.is_empty() {
        return Err(Error::invalid(format!(
            "invalid volume specification: '{spec}'"
        )));
    }
    let typ = if src.starts_with('/') {
        "bind"
    } else {
        "volume"
    };
    absolute(dst, spec, typ)?;
    if !src.is_empty() && typ == "volume" {
        volume::check_name(src).map_err(|e| {
            Error::invalid(format!(
                "invalid volume specification: '{spec}': {}",
                e.message
            ))
        })?;
    }
    let mut m = MountSpec {
        typ: typ.into(),
        source: src.into(),
        destination: clean(dst),
        rw: true,
        mode: mode.into(),
        propagation: if typ == "bind" {
            "rprivate".into()
        } else {
            String::new()
        },
        no_copy: false,
        recursive: true,
        tmpfs: vec![],
        anonymous: src.is_empty(),
        subpath: String::new(),
    };
    for o in mode.split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => m.rw = false,
            "rw" => m.rw = true,
            // SELinux relabelling; no SELinux here, as on most hosts.
            "z" | "Z" => {}
            // macOS-only consistency hints; no-ops on Linux, as in Docker.
            "consistent" | "cached" | "delegated" => {}
            "nocopy" if typ == "volume" => m.no_copy = true,
            p if PROPAGATIONS.contains(&p) && typ == "bind" => m.propagation = p.into(),
            _ => return Err(Error::invalid(format!("invalid mode: {o}"))),
        }
    }
    // dockerd shows "z" for a named volume given without a mode.
    if typ == "volume" && mode.is_empty() && !src.is_empty() {
        m.mode = "z".into();
    }
    Ok(m)
}

/// Parses one `Mounts` entry (`--mount`).
pub fn parse_mount(m: &Mount) -> Result<MountSpec> {
    let bad = |why: &str| {
        Error::invalid(format!(
            "invalid mount config for type \"{}\": {why}",
            m.typ
        ))
    };
    if m.target.is_empty() {
        return Err(bad("field Target must not be empty"));
    }
    if !m.target.starts_with('/') {
        return Err(bad(&format!(
            "invalid mount path: '{}' mount path must be absolute",
            m.target
        )));
    }
    let mut s = MountSpec {
        typ: m.typ.clone(),
        source: m.source.clone(),
        destination: clean(&m.target),
        rw: !m.read_only,
        mode: String::new(),
        propagation: String::new(),
        no_copy: false,
        recursive: true,
        tmpfs: vec![],
        anonymous: false,
        subpath: String::new(),
    };
    match m.typ.as_str() {
        "bind" => {
            if m.volume_options.is_some() {
                return Err(bad("VolumeOptions must not be specified"));
            }
            if m.tmpfs_options.is_some() {
                return Err(bad("TmpfsOptions must not be specified"));
            }
            if m.source.is_empty() {
                return Err(bad("field Source must not be empty"));
            }
            if !m.source.starts_with('/') {
                return Err(bad(&format!(
                    "invalid mount path: '{}' mount path must be absolute",
                    m.source
                )));
            }
            let o = m.bind_options.clone().unwrap_or_default();
            if o.read_only_non_recursive || o.read_only_force_recursive {
                return Err(bad(
                    "read-only recursion options are not supported by berth yet",
                ));
            }
            if !Path::new(&m.source).exists() {
                if o.create_mountpoint {
                    std::fs::create_dir_all(&m.source)
                        .map_err(|e| Error::io(format!("create {}", m.source), e))?;
                } else {
                    return Err(bad(&format!(
                        "bind source path does not exist: {}",
                        m.source
                    )));
                }
            }
            s.propagation = if o.propagation.is_empty() {
                "rprivate".into()
            } else {
                o.propagation.clone()
            };
            if !PROPAGATIONS.contains(&s.propagation.as_str()) {
                return Err(bad(&format!("invalid propagation mode: {}", s.propagation)));
            }
            s.recursive = !o.non_recursive;
        }
        "volume" => {
            if m.bind_options.is_some() {
                return Err(bad("BindOptions must not be specified"));
            }
            if m.tmpfs_options.is_some() {
                return Err(bad("TmpfsOptions must not be specified"));
            }
            let o = m.volume_options.clone().unwrap_or_default();
            let sub = Path::new(&o.subpath);
            if sub.is_absolute()
                || sub
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(bad(&format!(
                    "subpath must be a relative path within the volume: {}",
                    o.subpath
                )));
            }
            s.subpath = o.subpath.clone();
            if o.driver_config
                .as_ref()
                .is_some_and(|d| !d.name.is_empty() && d.name != "local")
            {
                let n = &o.driver_config.as_ref().unwrap().name;
                return Err(Error::not_found(format!(
                    "error looking up volume plugin {n}: plugin \"{n}\" not found"
                )));
            }
            if !m.source.is_empty() {
                volume::check_name(&m.source)?;
            }
            s.no_copy = o.no_copy;
            s.anonymous = m.source.is_empty();
        }
        "tmpfs" => {
            if !m.source.is_empty() {
                return Err(bad("field Source must not be specified"));
            }
            if m.bind_options.is_some() || m.volume_options.is_some() {
                return Err(bad("BindOptions and VolumeOptions must not be specified"));
            }
            let o = m.tmpfs_options.clone().unwrap_or_default();
            if let Some(size) = o.size_bytes.filter(|s| *s > 0) {
                s.tmpfs.push(format!("size={size}"));
            }
            if let Some(mode) = o.mode.filter(|m| *m > 0) {
                s.tmpfs.push(format!("mode={mode:o}"));
            }
            if o.options.is_some_and(|o| !o.is_empty()) {
                return Err(bad(
                    "tmpfs options other than size and mode are not supported by berth yet",
                ));
            }
        }
        other => {
            return Err(Error::invalid(format!(
                "mount type \"{other}\" is not supported by berth"
            )))
        }
    }
    Ok(s)
}

/// Parses `--tmpfs /path[:opts]` (HostConfig.Tmpfs).
pub fn parse_tmpfs(dst: &str, opts: &str) -> Result<MountSpec> {
    absolute(dst, dst, "tmpfs")?;
    let mut s = MountSpec {
        typ: "tmpfs".into(),
        source: String::new(),
        destination: clean(dst),
        rw: true,
        mode: String::new(),
        propagation: String::new(),
        no_copy: false,
        recursive: true,
        tmpfs: vec![],
        anonymous: false,
        subpath: String::new(),
    };
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => s.rw = false,
            "rw" => s.rw = true,
            o if o.starts_with("size=") && !is_size(&o[5..]) => {
                return Err(Error::invalid(format!(
                    "invalid tmpfs option {o:?}: size is not a size"
                )))
            }
            o if o.starts_with("mode=") && u32::from_str_radix(&o[5..], 8).is_err() => {
                return Err(Error::invalid(format!(
                    "invalid tmpfs option {o:?}: mode is not octal"
                )))
            }
            o if o.starts_with("size=")
                || o.starts_with("mode=")
                || o.starts_with("uid=")
                || o.starts_with("gid=")
                || o.starts_with("nr_inodes=") =>
            {
                s.tmpfs.push(o.to_string())
            }
            "exec" | "noexec" | "suid" | "nosuid" | "dev" | "nodev" | "atime" | "noatime"
            | "relatime" | "strictatime" => s.tmpfs.push(o.to_string()),
            _ => return Err(Error::invalid(format!("invalid tmpfs option {o:?}"))),
        }
    }
    Ok(s)
}

impl ContainerService {
    /// Resolves a create request's mounts (named volumes made when missing,
    /// anonymous ones made here); on error the volumes made here go again.
    pub(super) fn prepare_mounts(
        &self,
        id: &str,
        config: &api_types::ContainerConfig,
        host: &api_types::HostConfig,
        image_volumes: Option<&serde_json::Map<String, Value>>,
    ) -> Result<Vec<MountSpec>> {
        let mut out: Vec<MountSpec> = Vec::new();
        let add = |m: MountSpec, out: &mut Vec<MountSpec>| -> Result<()> {
            if out.iter().any(|o| o.destination == m.destination) {
                return Err(Error::invalid(format!(
                    "Duplicate mount point: {}",
                    m.destination
                )));
            }
            out.push(m);
            Ok(())
        };
        for b in host.binds.iter().flatten() {
            add(parse_bind(b)?, &mut out)?;
        }
        for m in host.mounts.iter().flatten() {
            add(parse_mount(m)?, &mut out)?;
        }
        for (dst, opts) in host.tmpfs.iter().flatten() {
            add(parse_tmpfs(dst, opts)?, &mut out)?;
        }
        for from in host.volumes_from.iter().flatten() {
            let (name, mode) = match from.rsplit_once(':') {
                Some((n, m @ ("ro" | "rw"))) => (n, Some(m)),
                _ => (from.as_str(), None),
            };
            let other = self.find(name).map_err(|e| Error::invalid(e.message))?;
            let theirs = other.rec.lock().unwrap().mounts.clone();
            for mut m in theirs.into_iter().filter(|m| m.typ != "tmpfs") {
                if let Some(mode) = mode {
                    m.rw = mode == "rw";
                    m.mode = mode.into();
                }
                m.anonymous = false;
                if !out.iter().any(|o| o.destination == m.destination) {
                    out.push(m);
                }
            }
        }
        // Anonymous volumes for the config's and the image's VOLUMEs not
        // covered already.
        let anon_dsts: Vec<String> = config
            .volumes
            .iter()
            .flat_map(|v| v.keys())
            .chain(image_volumes.into_iter().flat_map(|v| v.keys()))
            .cloned()
            .collect();
        for dst in anon_dsts {
            let c = clean(&dst);
            if !out.iter().any(|o| o.destination == c) {
                absolute(&dst, &dst, "volume")?;
                out.push(parse_bind(&c)?);
            }
        }
        // `--volume-driver` names the driver of the volumes made or used
        // here; dockerd looks it up only when there is one.
        if !host.volume_driver.is_empty()
            && host.volume_driver != "local"
            && out.iter().any(|m| m.typ == "volume")
        {
            let n = &host.volume_driver;
            return Err(Error::not_found(format!(
                "error looking up volume plugin {n}: plugin \"{n}\" not found"
            )));
        }
        // Make the volumes; undo what was made here if one fails.
        let mut made: Vec<String> = Vec::new();
        let r = (|| -> Result<()> {
            for m in out.iter_mut().filter(|m| m.typ == "volume") {
                if m.source.is_empty() {
                    let v = self.volumes.anonymous()?;
                    m.source = v.name.clone();
                    made.push(v.name);
                } else if self.volumes.get(&m.source).is_none() {
                    // `--mount` may carry the new volume's labels and options.
                    let asked = host
                        .mounts
                        .iter()
                        .flatten()
                        .find(|x| x.typ == "volume" && clean(&x.target) == m.destination)
                        .and_then(|x| x.volume_options.clone())
                        .unwrap_or_default();
                    self.volumes.ensure(
                        &m.source,
                        "local",
                        asked.labels.unwrap_or_default(),
                        asked.driver_config.map(|d| d.options).unwrap_or_default(),
                    )?;
                    made.push(m.source.clone());
                }
            }
            for m in &out {
                if m.typ == "bind" && !Path::new(&m.source).exists() {
                    // `-v /host:/ctr` makes a missing host directory, as dockerd.
                    std::fs::create_dir_all(&m.source)
                        .map_err(|e| Error::io(format!("create {}", m.source), e))?;
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            for v in made {
                let _ = self.volumes.remove(&v, true);
            }
            return Err(e);
        }
        for m in out.iter().filter(|m| m.typ == "volume") {
            self.volumes.reference(&m.source, id);
        }
        // Parents before children.
        out.sort_by_key(|m| Path::new(&m.destination).components().count());
        Ok(out)
    }

    /// The OCI mounts of a starting container: volumes mounted (a new,
    /// empty volume first gets the image's content at its destination).
    pub(super) fn start_mounts(&self, rec: &ContainerRecord, rootfs: &Path) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        for (i, m) in rec.mounts.iter().enumerate() {
            let mut opts: Vec<String> = Vec::new();
            let (typ, source) = match m.typ.as_str() {
                "tmpfs" => {
                    opts.extend(["nosuid", "nodev", "noexec"].map(String::from));
                    opts.extend(m.tmpfs.iter().cloned());
                    ("tmpfs", "tmpfs".to_string())
                }
                "volume" => {
                    let dir = self.volumes.mount(&m.source, &rec.id)?;
                    if !m.no_copy && is_empty_dir(&dir) {
                        self.copy_up(rootfs, &m.destination, &dir)?;
                    }
                    self.volume_event("mount", rec, m);
                    opts.push("rbind".into());
                    let source = if m.subpath.is_empty() {
                        dir
                    } else {
                        self.stage_subpath(&rec.id, i, &dir, &m.subpath)?
                    };
                    ("bind", source.display().to_string())
                }
                _ => {
                    opts.push(if m.recursive { "rbind" } else { "bind" }.into());
                    opts.push(m.propagation.clone());
                    ("bind", m.source.clone())
                }
            };
            if !m.rw {
                opts.push("ro".into());
            }
            out.push(json!({"destination": m.destination, "type": typ, "source": source, "options": opts}));
        }
        Ok(out)
    }

    /// Copies the image's content at `dst` into a new volume's directory:
    /// `berth-shim archive-get` chrooted into the rootfs piped into
    /// `archive-put` chrooted into the volume, so no symlink in the image or
    /// the volume reaches outside either; owners and modes are kept.
    fn copy_up(&self, rootfs: &Path, dst: &str, dir: &Path) -> Result<()> {
        use std::process::{Command, Stdio};
        let mut get = Command::new(&self.cfg.shim)
            .arg("archive-get")
            .arg(rootfs)
            .arg(dst)
            .arg("--contents")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::io("start berth-shim archive-get", e))?;
        let mut out = get.stdout.take().expect("piped");
        // The stat line first; nothing to copy when the path is missing.
        let mut line = Vec::new();
        let mut b = [0u8; 1];
        while std::io::Read::read(&mut out, &mut b).map_err(|e| Error::io("copy-up", e))? == 1 {
            if b[0] == b'\n' {
                break;
            }
            line.push(b[0]);
        }
        if line.is_empty() {
            let _ = get.wait();
            return Ok(());
        }
        let stat: Value = serde_json::from_slice(&line).unwrap_or_default();
        // Go's ModeDir bit: only a directory's content is copied up.
        if stat["mode"].as_u64().unwrap_or(0) & (1 << 31) == 0 {
            let _ = get.kill();
            let _ = get.wait();
            return Ok(());
        }
        let put = Command::new(&self.cfg.shim)
            .arg("archive-put")
            .arg(dir)
            .arg("/")
            .arg("--copy-uid-gid")
            .arg("--root-meta")
            .stdin(Stdio::from(out))
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| Error::io("berth-shim archive-put", e))?;
        let got = get
            .wait_with_output()
            .map_err(|e| Error::io("berth-shim archive-get", e))?;
        if !put.status.success() || !got.status.success() {
            return Err(Error::internal(format!(
                "copying the image's {dst} into its volume: {}{}",
                String::from_utf8_lossy(&got.stderr).trim(),
                String::from_utf8_lossy(&put.stderr).trim()
            )));
        }
        Ok(())
    }

    /// Where a container's volume subpaths are staged.
    fn staging(&self, id: &str) -> std::path::PathBuf {
        self.cfg.exec_root.join("subpaths").join(id)
    }

    /// Makes `subpath` of a volume available at a staging path for the
    /// runtime to bind: the path is opened inside the volume with
    /// `RESOLVE_IN_ROOT` (a symlink or `..` in the volume resolves inside
    /// it), and the staging mount is made from that open file, so nothing
    /// swapped in after the check can redirect it.
    fn stage_subpath(
        &self,
        id: &str,
        index: usize,
        dir: &Path,
        subpath: &str,
    ) -> Result<std::path::PathBuf> {
        let root = std::fs::File::open(dir)
            .map_err(|e| Error::io(format!("open {}", dir.display()), e))?;
        let fd = open_in_root(&root, subpath).map_err(|e| {
            Error::invalid(format!(
                "error while mounting volume '{}': cannot access path {subpath}: {e}",
                dir.display()
            ))
        })?;
        let is_dir = nix::sys::stat::fstat(&fd)
            .map(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
            .unwrap_or(false);
        let stage = self.staging(id).join(index.to_string());
        std::fs::create_dir_all(self.staging(id)).map_err(|e| Error::io("create staging", e))?;
        let made = if is_dir {
            std::fs::create_dir_all(&stage)
        } else {
            std::fs::File::create(&stage).map(|_| ())
        };
        made.map_err(|e| Error::io(format!("create {}", stage.display()), e))?;
        let src = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fd));
        nix::mount::mount(
            Some(src.as_str()),
            &stage,
            None::<&str>,
            nix::mount::MsFlags::MS_BIND | nix::mount::MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| Error::internal(format!("bind {subpath} of the volume: {e}")))?;
        Ok(stage)
    }

    /// For `docker cp` on a stopped container whose rootfs is mounted at
    /// `rootfs`: binds its volumes and bind mounts into it, as dockerd
    /// mounts them for a copy (not its tmpfs mounts: dockerd does not
    /// either), parents first, read-only where the mount is. Each
    /// destination is opened inside the rootfs, so no symlink of the image
    /// leads a mount onto the host; a directory missing from the rootfs (a
    /// container never started) is made there, a missing file left out
    /// (the runtime makes both at start). Returns the volumes mounted
    /// for `lease`, to be released with [`volume::VolumeService::unmount`];
    /// the binds go when the rootfs is unmounted (detached with it).
    pub(super) fn copy_mounts(
        &self,
        rec: &ContainerRecord,
        rootfs: &Path,
        lease: &str,
    ) -> (Vec<String>, Result<()>) {
        let mut used = Vec::new();
        let mut list: Vec<&MountSpec> = rec.mounts.iter().filter(|m| m.typ != "tmpfs").collect();
        list.sort_by_key(|m| Path::new(&m.destination).components().count());
        let r = (|| {
            let root = std::fs::File::open(rootfs)
                .map_err(|e| Error::io(format!("open {}", rootfs.display()), e))?;
            for m in list {
                let src = if m.typ == "volume" {
                    let dir = self.volumes.mount(&m.source, lease)?;
                    used.push(m.source.clone());
                    let vol = std::fs::File::open(&dir)
                        .map_err(|e| Error::io(format!("open {}", dir.display()), e))?;
                    open_in_root(
                        &vol,
                        if m.subpath.is_empty() {
                            "."
                        } else {
                            &m.subpath
                        },
                    )
                } else {
                    nix::fcntl::open(
                        m.source.as_str(),
                        nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
                        nix::sys::stat::Mode::empty(),
                    )
                }
                .map_err(|e| Error::internal(format!("open {}: {e}", m.source)))?;
                let is_dir = nix::sys::stat::fstat(&src)
                    .map(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
                    .unwrap_or(false);
                let target = match open_in_root(&root, &m.destination) {
                    Ok(fd) => fd,
                    // A container never started: its directory mount points
                    // are made, in the rootfs, as the runtime would.
                    Err(nix::errno::Errno::ENOENT) if is_dir => {
                        archive::mkdir_in_root(rootfs, &m.destination)
                            .map_err(|e| Error::io(format!("create {}", m.destination), e))?;
                        open_in_root(&root, &m.destination)
                            .map_err(|e| Error::internal(format!("open {}: {e}", m.destination)))?
                    }
                    Err(nix::errno::Errno::ENOENT) => continue,
                    Err(e) => return Err(Error::internal(format!("open {}: {e}", m.destination))),
                };
                let fd_path = |fd: &std::os::fd::OwnedFd| {
                    format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(fd))
                };
                nix::mount::mount(
                    Some(fd_path(&src).as_str()),
                    fd_path(&target).as_str(),
                    None::<&str>,
                    nix::mount::MsFlags::MS_BIND | nix::mount::MsFlags::MS_REC,
                    None::<&str>,
                )
                .map_err(|e| {
                    Error::internal(format!("mount {} for the copy: {e}", m.destination))
                })?;
                if !m.rw {
                    // Opened again, the destination is the new mount's root.
                    let top = open_in_root(&root, &m.destination)
                        .map_err(|e| Error::internal(format!("open {}: {e}", m.destination)))?;
                    nix::mount::mount(
                        None::<&str>,
                        fd_path(&top).as_str(),
                        None::<&str>,
                        nix::mount::MsFlags::MS_REMOUNT
                            | nix::mount::MsFlags::MS_BIND
                            | nix::mount::MsFlags::MS_RDONLY,
                        None::<&str>,
                    )
                    .map_err(|e| {
                        Error::internal(format!("mount {} read-only: {e}", m.destination))
                    })?;
                }
            }
            Ok(())
        })();
        (used, r)
    }

    /// The container stopped: its volumes are released.
    pub(super) fn stop_mounts(&self, id: &str, mounts: &[MountSpec]) {
        let staging = self.staging(id);
        if staging.exists() {
            for e in std::fs::read_dir(&staging).into_iter().flatten().flatten() {
                let _ = nix::mount::umount2(&e.path(), nix::mount::MntFlags::MNT_DETACH);
            }
            let _ = std::fs::remove_dir_all(&staging);
        }
        for m in mounts.iter().filter(|m| m.typ == "volume") {
            match self.volumes.unmount(&m.source, id) {
                Ok(true) => {
                    let attrs = serde_json::Map::from_iter([
                        ("container".to_string(), Value::String(id.to_string())),
                        ("driver".to_string(), Value::String("local".into())),
                    ]);
                    self.images
                        .events()
                        .publish("volume", "unmount", &m.source, attrs);
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(container = %id, volume = %m.source, error = %e, "unmount volume")
                }
            }
        }
    }

    /// The container is gone (or its create failed): it no longer uses its
    /// volumes, and with `remove_volumes` its anonymous ones go now (named
    /// ones stay, as dockerd).
    pub(super) fn remove_mounts(&self, id: &str, mounts: &[MountSpec], remove_volumes: bool) {
        for m in mounts.iter().filter(|m| m.typ == "volume") {
            self.volumes.unreference(&m.source, id);
            if remove_volumes && m.anonymous {
                if let Err(e) = self.volumes.remove(&m.source, false) {
                    tracing::debug!(volume = %m.source, error = %e, "anonymous volume kept");
                }
            }
        }
    }

    /// dockerd's volume `mount` event.
    fn volume_event(&self, action: &str, rec: &ContainerRecord, m: &MountSpec) {
        let attrs = serde_json::Map::from_iter(
            [
                ("container", rec.id.clone()),
                ("destination", m.destination.clone()),
                ("driver", "local".to_string()),
                ("propagation", m.propagation.clone()),
                ("read/write", m.rw.to_string()),
            ]
            .map(|(k, v)| (k.to_string(), Value::String(v))),
        );
        self.images
            .events()
            .publish("volume", action, &m.source, attrs);
    }

    /// Inspect's `Mounts`.
    pub(super) fn mount_points(&self, rec: &ContainerRecord) -> Vec<MountPoint> {
        // `--tmpfs` (HostConfig.Tmpfs) is not a mount point for dockerd:
        // inspect's Mounts lists `--mount type=tmpfs` only.
        let flag_tmpfs = |m: &&MountSpec| {
            m.typ == "tmpfs"
                && rec
                    .host_config
                    .tmpfs
                    .as_ref()
                    .is_some_and(|t| t.contains_key(&m.destination))
        };
        rec.mounts
            .iter()
            .filter(|m| !flag_tmpfs(m))
            .map(|m| MountPoint {
                typ: m.typ.clone(),
                name: if m.typ == "volume" {
                    m.source.clone()
                } else {
                    String::new()
                },
                source: match m.typ.as_str() {
                    "volume" => self.volumes.path(&m.source).display().to_string(),
                    "tmpfs" => String::new(),
                    _ => m.source.clone(),
                },
                destination: m.destination.clone(),
                driver: if m.typ == "volume" {
                    "local".into()
                } else {
                    String::new()
                },
                mode: m.mode.clone(),
                rw: m.rw,
                propagation: m.propagation.clone(),
            })
            .collect()
    }
}

/// A tmpfs size: bytes, with a k/m/g unit, or a percentage of memory.
fn is_size(s: &str) -> bool {
    let digits = s.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G', '%']);
    !digits.is_empty() && s.len() - digits.len() <= 1 && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Opens `path` under the directory `root` (`O_PATH`), resolved as if
/// `root` were `/`: no symlink or `..` leads out of it.
fn open_in_root(root: &std::fs::File, path: &str) -> nix::Result<std::os::fd::OwnedFd> {
    use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    openat2(root, path, how)
}

fn is_empty_dir(p: &Path) -> bool {
    std::fs::read_dir(p).is_ok_and(|mut d| d.next().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_like_docker() {
        let m = parse_bind("/host:/ctr:ro").unwrap();
        assert_eq!(
            (m.typ.as_str(), m.rw, m.propagation.as_str()),
            ("bind", false, "rprivate")
        );
        let m = parse_bind("data:/d").unwrap();
        assert_eq!(
            (m.typ.as_str(), m.source.as_str(), m.mode.as_str()),
            ("volume", "data", "z")
        );
        let m = parse_bind("/anon").unwrap();
        assert!(m.anonymous && m.source.is_empty());
        let m = parse_bind("data:/d:nocopy").unwrap();
        assert!(m.no_copy);
        let m = parse_bind("/h:/c:rshared").unwrap();
        assert_eq!(m.propagation, "rshared");
        assert!(parse_bind("data:rel")
            .unwrap_err()
            .message
            .contains("must be absolute"));
        assert!(parse_bind("/h:/c:bogus")
            .unwrap_err()
            .message
            .contains("invalid mode"));
        assert!(parse_bind("/h:/c:nocopy").is_err());
        assert!(parse_bind("a:/c")
            .unwrap_err()
            .message
            .contains("too short"));
        assert!(parse_bind("a:b:c:d").is_err());
    }

    #[test]
    fn mounts_and_tmpfs_like_docker() {
        let t = parse_tmpfs("/run", "size=1m,mode=1777").unwrap();
        assert_eq!(t.tmpfs, vec!["size=1m", "mode=1777"]);
        assert!(parse_tmpfs("/run", "bogus").is_err());
        assert!(parse_tmpfs("/run", "size=abc")
            .unwrap_err()
            .message
            .contains("not a size"));
        assert!(parse_tmpfs("/run", "size=64m,mode=755").is_ok());
        assert!(parse_tmpfs("/run", "size=50%").is_ok());
        assert!(parse_tmpfs("/run", "mode=999").is_err());
        assert!(parse_tmpfs("run", "").is_err());
        let missing = Mount {
            typ: "bind".into(),
            source: "/nonexistent-berth-path".into(),
            target: "/x".into(),
            ..Default::default()
        };
        assert_eq!(
            parse_mount(&missing).unwrap_err().message,
            "invalid mount config for type \"bind\": bind source path does not exist: /nonexistent-berth-path"
        );
        let tm = Mount {
            typ: "tmpfs".into(),
            target: "/t".into(),
            tmpfs_options: Some(api_types::volume::TmpfsOptions {
                size_bytes: Some(1 << 20),
                mode: Some(0o700),
                options: None,
            }),
            ..Default::default()
        };
        assert_eq!(
            parse_mount(&tm).unwrap().tmpfs,
            vec!["size=1048576", "mode=700"]
        );
        let v = Mount {
            typ: "volume".into(),
            target: "/v".into(),
            read_only: true,
            ..Default::default()
        };
        let v = parse_mount(&v).unwrap();
        assert!(v.anonymous && !v.rw);
    }
}
