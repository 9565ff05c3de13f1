//! Layer tarballs: safe extraction into an overlay layer directory.
//!
//! Every entry is confined to the layer root: `..` components are refused,
//! absolute paths are made relative, no existing symlink is ever followed on
//! the way to an entry, and hard links must point inside the root. Docker's
//! whiteouts (`.wh.NAME`, `.wh..wh..opq`) become overlayfs whiteouts (a 0/0
//! character device, the `trusted.overlay.opaque` xattr).

use base::error::host_failure;
use base::{Digest, Error, Result};
use sha2::{Digest as _, Sha256};
use std::io::{BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};

const WHITEOUT: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// What applying a layer produced.
#[derive(Debug, Clone)]
pub struct Applied {
    /// sha256 of the uncompressed tar stream (the layer's diff id).
    pub diff_id: Digest,
    /// Bytes of regular file content written.
    pub size: u64,
}

/// Hashes everything read through it, and copies it to `tee` if set.
struct HashingReader<'t, R> {
    inner: R,
    hasher: Sha256,
    tee: Option<&'t mut dyn std::io::Write>,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        if let Some(t) = self.tee.as_mut() {
            t.write_all(&buf[..n])?;
        }
        Ok(n)
    }
}

/// Opens `r` as a plain, gzip- or zstd-compressed tar stream (by magic number).
pub fn decompress<'a>(r: impl Read + 'a) -> Result<Box<dyn Read + 'a>> {
    let mut br = BufReader::with_capacity(256 * 1024, r);
    let head = br.fill_buf().map_err(|e| Error::io("read layer", e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(br)))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let d = zstd::stream::read::Decoder::with_buffer(br)
            .map_err(|e| Error::invalid(format!("invalid zstd layer: {e}")))?;
        Ok(Box::new(d))
    } else {
        Ok(Box::new(br))
    }
}

/// A failure while reading a layer: the layer's fault, unless the host's
/// (a write behind the read, such as the tee into the content store, hit a
/// full disk).
fn layer_read_error(e: std::io::Error) -> Error {
    match host_failure(&e) {
        Some(why) => Error::internal(format!("writing layer: {why}")),
        None => Error::invalid(format!("invalid layer: {e}")),
    }
}

fn invalid(p: &Path, why: &str) -> Error {
    Error::invalid(format!(
        "invalid layer entry {:?}: {why}",
        p.display().to_string()
    ))
}

/// An archive entry's path as a relative path, or None if it has `..`
/// (or a prefix): the check every unpacker of untrusted tars makes.
pub fn relative_path(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Normalizes an entry path to a relative path with no `..`.
fn clean(p: &Path) -> Result<PathBuf> {
    relative_path(p).ok_or_else(|| invalid(p, "path escapes the layer root"))
}

/// Creates the parents of `rel` under `root`, refusing to pass through a symlink.
fn ensure_parents(root: &Path, rel: &Path) -> Result<()> {
    let mut cur = root.to_path_buf();
    let comps: Vec<_> = rel.components().collect();
    for c in comps.iter().take(comps.len().saturating_sub(1)) {
        cur.push(c);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(invalid(rel, "a parent directory is a symlink"))
            }
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(invalid(rel, "a parent is not a directory")),
            Err(_) => std::fs::create_dir(&cur)
                .map_err(|e| Error::io(format!("mkdir {}", cur.display()), e))?,
        }
    }
    Ok(())
}

/// Removes whatever is at `p` unless it is a directory and `keep_dir`.
fn clear(p: &Path, keep_dir: bool) -> Result<()> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() && keep_dir => Ok(()),
        Ok(m) if m.is_dir() => {
            std::fs::remove_dir_all(p).map_err(|e| Error::io(format!("remove {}", p.display()), e))
        }
        Ok(_) => {
            std::fs::remove_file(p).map_err(|e| Error::io(format!("remove {}", p.display()), e))
        }
        Err(_) => Ok(()),
    }
}

fn set_opaque(dir: &Path) -> Result<()> {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())
        .map_err(|_| invalid(dir, "nul in path"))?;
    // SAFETY: valid C strings and a value buffer of the given length.
    let r = unsafe {
        libc::lsetxattr(
            c.as_ptr(),
            c"trusted.overlay.opaque".as_ptr(),
            b"y".as_ptr().cast(),
            1,
            0,
        )
    };
    if r != 0 {
        return Err(Error::io(
            format!("set opaque on {}", dir.display()),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

fn whiteout(p: &Path) -> Result<()> {
    clear(p, false)?;
    nix::sys::stat::mknod(
        p,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::empty(),
        0,
    )
    .map_err(|e| Error::io(format!("whiteout {}", p.display()), e.into()))
}

/// The names in a directory, sorted (the order of Go's `filepath.Walk`).
pub fn sorted_names(dir: &Path) -> std::io::Result<Vec<std::ffi::OsString>> {
    let mut names: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    names.sort();
    Ok(names)
}

/// Appends what is below the directory `dir` to `b`, named `prefix/...`:
/// depth first, names sorted, symlinks kept as symlinks, sockets skipped
/// (a tar cannot hold them; Docker skips them too). Entries that vanish
/// while walking are skipped.
pub fn append_tree<W: std::io::Write>(
    b: &mut tar::Builder<W>,
    dir: &Path,
    prefix: &Path,
) -> std::io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    b.follow_symlinks(false);
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for n in sorted_names(&dir.join(&rel))? {
            let r = rel.join(&n);
            let full = dir.join(&r);
            let Ok(meta) = std::fs::symlink_metadata(&full) else {
                continue;
            };
            if meta.file_type().is_socket() {
                continue;
            }
            append_xattrs(b, &full)?;
            b.append_path_with_name(&full, prefix.join(&r))?;
            if meta.is_dir() {
                stack.push(r);
            }
        }
    }
    Ok(())
}

/// Makes the directory `path` (and its missing parents) inside the tree at
/// `root`, resolving every component inside it as the container will see
/// it: a symlink (absolute or through `..`) is followed within `root`, never
/// out of it, and a missing target is made there. For a container's missing
/// working directory, before the container runs (nothing else changes the
/// tree meanwhile).
pub fn mkdir_in_root(root: &Path, path: &str) -> std::io::Result<()> {
    use std::collections::VecDeque;
    use std::path::Component;
    let mut todo: VecDeque<PathBuf> = Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(PathBuf::from(n)),
            Component::ParentDir => Some(PathBuf::from("..")),
            _ => None,
        })
        .collect();
    let mut cur = PathBuf::new();
    let mut links = 0;
    while let Some(c) = todo.pop_front() {
        if c.as_os_str() == ".." {
            cur.pop();
            continue;
        }
        let next = cur.join(&c);
        match std::fs::symlink_metadata(root.join(&next)) {
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                if links > 40 {
                    return Err(std::io::Error::from_raw_os_error(libc::ELOOP));
                }
                let target = std::fs::read_link(root.join(&next))?;
                if target.is_absolute() {
                    cur = PathBuf::new();
                }
                for (k, t) in target
                    .components()
                    .filter_map(|c| match c {
                        Component::Normal(n) => Some(PathBuf::from(n)),
                        Component::ParentDir => Some(PathBuf::from("..")),
                        _ => None,
                    })
                    .enumerate()
                {
                    todo.insert(k, t);
                }
            }
            Ok(m) if m.is_dir() => cur = next,
            Ok(_) => return Err(std::io::Error::from_raw_os_error(libc::ENOTDIR)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(root.join(&next))?;
                cur = next;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The extended attributes of `path` (not following a symlink).
pub fn xattrs(path: &Path) -> Vec<(String, Vec<u8>)> {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return vec![];
    };
    // SAFETY: a valid C string and a null buffer ask for the list's size.
    let n = unsafe { libc::llistxattr(c.as_ptr(), std::ptr::null_mut(), 0) };
    if n <= 0 {
        return vec![];
    }
    let mut names = vec![0u8; n as usize];
    // SAFETY: the buffer holds n bytes.
    let n = unsafe { libc::llistxattr(c.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    if n <= 0 {
        return vec![];
    }
    let mut out = Vec::new();
    for name in names[..n as usize]
        .split(|b| *b == 0)
        .filter(|n| !n.is_empty())
    {
        let Ok(cn) = std::ffi::CString::new(name) else {
            continue;
        };
        // SAFETY: valid C strings; a null buffer asks for the value's size.
        let len = unsafe { libc::lgetxattr(c.as_ptr(), cn.as_ptr(), std::ptr::null_mut(), 0) };
        if len < 0 {
            continue;
        }
        let mut v = vec![0u8; len as usize];
        // SAFETY: the buffer holds len bytes.
        let got =
            unsafe { libc::lgetxattr(c.as_ptr(), cn.as_ptr(), v.as_mut_ptr().cast(), v.len()) };
        if got < 0 {
            continue;
        }
        v.truncate(got as usize);
        out.push((String::from_utf8_lossy(name).into_owned(), v));
    }
    out
}

/// Writes `path`'s extended attributes as a PAX header (`SCHILY.xattr.*`
/// records, as GNU tar and Docker write them) for the entry that follows.
fn append_xattrs<W: std::io::Write>(b: &mut tar::Builder<W>, path: &Path) -> std::io::Result<()> {
    let attrs = xattrs(path);
    if attrs.is_empty() {
        return Ok(());
    }
    let mut data = Vec::new();
    for (k, v) in attrs {
        let body_len = 1 + "SCHILY.xattr.".len() + k.len() + 1 + v.len() + 1;
        // The record's length counts its own digits.
        let mut len = body_len + 1;
        while len != body_len + len.to_string().len() {
            len = body_len + len.to_string().len();
        }
        data.extend_from_slice(format!("{len} SCHILY.xattr.{k}=").as_bytes());
        data.extend_from_slice(&v);
        data.push(b'\n');
    }
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::XHeader);
    h.set_path("././@PaxHeader")?;
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, data.as_slice())
}

/// Extracts a layer (tar, optionally gzip-compressed) into `root`, which
/// must exist. On error `root` may hold a partial layer: the caller removes it.
pub fn apply_layer(r: impl Read, root: &Path) -> Result<Applied> {
    apply_layer_tee(r, root, None)
}

/// Like [`apply_layer`], also copying the uncompressed tar stream to `tee`
/// (to keep the layer as a blob while extracting it in one pass).
pub fn apply_layer_tee(
    r: impl Read,
    root: &Path,
    tee: Option<&mut dyn std::io::Write>,
) -> Result<Applied> {
    let mut hr = HashingReader {
        inner: decompress(r)?,
        hasher: Sha256::new(),
        tee,
    };
    let mut size = 0u64;
    {
        let mut ar = tar::Archive::new(&mut hr);
        ar.set_preserve_permissions(true);
        ar.set_preserve_ownerships(true);
        ar.set_preserve_mtime(true);
        ar.set_unpack_xattrs(true);
        ar.set_overwrite(true);
        let entries = ar.entries().map_err(layer_read_error)?;
        for entry in entries {
            let mut entry = entry.map_err(layer_read_error)?;
            let raw = entry.path().map_err(layer_read_error)?.into_owned();
            let rel = clean(&raw)?;
            if rel.as_os_str().is_empty() {
                continue;
            }
            ensure_parents(root, &rel)?;
            let name = rel
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            let parent = root.join(rel.parent().unwrap_or(Path::new("")));
            if name == OPAQUE {
                set_opaque(&parent)?;
                continue;
            }
            if let Some(hidden) = name.strip_prefix(WHITEOUT) {
                if hidden.is_empty() || hidden == "." || hidden == ".." {
                    return Err(invalid(&rel, "bad whiteout"));
                }
                whiteout(&parent.join(hidden))?;
                continue;
            }
            let dst = root.join(&rel);
            let kind = entry.header().entry_type();
            clear(&dst, kind.is_dir())?;
            if kind.is_hard_link() {
                let link = entry
                    .link_name()
                    .map_err(layer_read_error)?
                    .ok_or_else(|| invalid(&rel, "hard link without target"))?;
                let target_rel = clean(&link)?;
                ensure_parents(root, &target_rel)?;
                let target = root.join(&target_rel);
                match std::fs::symlink_metadata(&target) {
                    Ok(m) if m.is_file() => {}
                    _ => {
                        return Err(invalid(
                            &rel,
                            "hard link target is not a regular file in the layer",
                        ))
                    }
                }
                std::fs::hard_link(&target, &dst)
                    .map_err(|e| Error::io(format!("link {}", dst.display()), e))?;
                continue;
            }
            if matches!(
                kind,
                tar::EntryType::Block | tar::EntryType::Char | tar::EntryType::Fifo
            ) {
                let mode = entry.header().mode().unwrap_or(0o644) & 0o7777;
                let (ft, dev) = match kind {
                    tar::EntryType::Block => (nix::sys::stat::SFlag::S_IFBLK, dev_of(&entry)),
                    tar::EntryType::Char => (nix::sys::stat::SFlag::S_IFCHR, dev_of(&entry)),
                    _ => (nix::sys::stat::SFlag::S_IFIFO, 0),
                };
                nix::sys::stat::mknod(
                    &dst,
                    ft,
                    nix::sys::stat::Mode::from_bits_truncate(mode),
                    dev,
                )
                .map_err(|e| Error::io(format!("mknod {}", dst.display()), e.into()))?;
                continue;
            }
            if kind.is_file() {
                size += entry.header().size().unwrap_or(0);
            }
            entry.unpack(&dst).map_err(|e| match host_failure(&e) {
                Some(why) => Error::internal(format!("write {}: {why}", dst.display())),
                None => invalid(&rel, &e.to_string()),
            })?;
        }
    }
    // The tar reader stops at the end-of-archive marker; hash the padding too.
    std::io::copy(&mut hr, &mut std::io::sink()).map_err(layer_read_error)?;
    Ok(Applied {
        diff_id: Digest::from_hasher(hr.hasher),
        size,
    })
}

fn dev_of<R: Read>(e: &tar::Entry<R>) -> u64 {
    let h = e.header();
    nix::sys::stat::makedev(
        h.device_major().ok().flatten().unwrap_or(0) as u64,
        h.device_minor().ok().flatten().unwrap_or(0) as u64,
    )
}

#[cfg(test)]
mod tests {

    #[test]
    fn directories_are_made_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("esc")).unwrap();
        std::os::unix::fs::symlink("../../..", root.path().join("up")).unwrap();
        mkdir_in_root(root.path(), "/a/b/c").unwrap();
        assert!(root.path().join("a/b/c").is_dir());
        // Through a symlink to a host path: made inside the root, not outside.
        mkdir_in_root(root.path(), "/esc/made").unwrap();
        mkdir_in_root(root.path(), "/up/made2").unwrap();
        assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
        let inside = root
            .path()
            .join(outside.path().strip_prefix("/").unwrap())
            .join("made");
        assert!(inside.is_dir(), "{}", inside.display());
        assert!(root.path().join("made2").is_dir());
    }

    #[test]
    fn trees_carry_xattrs() {
        use std::os::unix::ffi::OsStrExt;
        let src = tempfile::tempdir().unwrap();
        let f = src.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        let c = std::ffi::CString::new(f.as_os_str().as_bytes()).unwrap();
        let name = std::ffi::CString::new("user.berth").unwrap();
        // SAFETY: valid C strings and a 5-byte value.
        let r =
            unsafe { libc::lsetxattr(c.as_ptr(), name.as_ptr(), b"hello".as_ptr().cast(), 5, 0) };
        if r != 0 {
            return; // no user xattrs on this filesystem
        }
        let mut b = tar::Builder::new(Vec::new());
        append_tree(&mut b, src.path(), Path::new("")).unwrap();
        let bytes = b.into_inner().unwrap();
        let dst = tempfile::tempdir().unwrap();
        let mut ar = tar::Archive::new(bytes.as_slice());
        ar.set_unpack_xattrs(true);
        ar.unpack(dst.path()).unwrap();
        let got = xattrs(&dst.path().join("f"));
        assert_eq!(got, vec![("user.berth".to_string(), b"hello".to_vec())]);
    }

    use super::*;

    fn tar_of(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(0o755);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            match kind {
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    h.set_size(0);
                    h.set_link_name(data).unwrap();
                    // set_path refuses "..": write the name bytes directly.
                    let name = &mut h.as_old_mut().name;
                    name[..path.len()].copy_from_slice(path.as_bytes());
                    h.set_cksum();
                    b.append(&h, &[][..]).unwrap();
                }
                _ => {
                    h.set_size(data.len() as u64);
                    let name = &mut h.as_old_mut().name;
                    name[..path.len()].copy_from_slice(path.as_bytes());
                    h.set_cksum();
                    b.append(&h, data.as_bytes()).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn extracts_and_hashes() {
        let t = tar_of(&[
            ("bin/", tar::EntryType::Directory, ""),
            ("bin/x", tar::EntryType::Regular, "hi"),
        ]);
        let d = tempfile::tempdir().unwrap();
        let a = apply_layer(&t[..], d.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("bin/x")).unwrap(),
            "hi"
        );
        assert_eq!(a.diff_id, Digest::of(&t));
        assert_eq!(a.size, 2);
    }

    #[test]
    fn gzip_layers_hash_uncompressed() {
        let t = tar_of(&[("a", tar::EntryType::Regular, "1")]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &t).unwrap();
        let d = tempfile::tempdir().unwrap();
        assert_eq!(
            apply_layer(&gz.finish().unwrap()[..], d.path())
                .unwrap()
                .diff_id,
            Digest::of(&t)
        );
    }

    #[test]
    fn zstd_layers_hash_uncompressed() {
        let t = tar_of(&[("z", tar::EntryType::Regular, "zz")]);
        let z = zstd::encode_all(&t[..], 3).unwrap();
        let d = tempfile::tempdir().unwrap();
        assert_eq!(
            apply_layer(&z[..], d.path()).unwrap().diff_id,
            Digest::of(&t)
        );
        assert_eq!(std::fs::read_to_string(d.path().join("z")).unwrap(), "zz");
    }

    #[test]
    fn refuses_escapes() {
        let outside = tempfile::tempdir().unwrap();
        let cases: Vec<Vec<u8>> = vec![
            tar_of(&[("../evil", tar::EntryType::Regular, "x")]),
            tar_of(&[("a/../../evil", tar::EntryType::Regular, "x")]),
            tar_of(&[
                (
                    "link",
                    tar::EntryType::Symlink,
                    outside.path().to_str().unwrap(),
                ),
                ("link/evil", tar::EntryType::Regular, "x"),
            ]),
            tar_of(&[("h", tar::EntryType::Link, "../../etc/passwd")]),
        ];
        for (i, t) in cases.iter().enumerate() {
            let d = tempfile::tempdir().unwrap();
            let e = apply_layer(&t[..], d.path()).unwrap_err();
            assert_eq!(e.kind, base::ErrorKind::InvalidArgument, "case {i}: {e}");
            assert!(
                std::fs::read_dir(outside.path()).unwrap().next().is_none(),
                "case {i} wrote outside"
            );
        }
    }

    #[test]
    fn absolute_symlink_target_stays_a_link() {
        let t = tar_of(&[
            ("etc", tar::EntryType::Symlink, "/etc"),
            ("x", tar::EntryType::Regular, "1"),
        ]);
        let d = tempfile::tempdir().unwrap();
        apply_layer(&t[..], d.path()).unwrap();
        assert!(std::fs::symlink_metadata(d.path().join("etc"))
            .unwrap()
            .file_type()
            .is_symlink());
    }

    #[test]
    fn whiteouts_become_overlay_whiteouts() {
        let t = tar_of(&[
            ("d/", tar::EntryType::Directory, ""),
            ("d/.wh..wh..opq", tar::EntryType::Regular, ""),
            ("d/.wh.gone", tar::EntryType::Regular, ""),
        ]);
        let d = tempfile::tempdir().unwrap();
        if let Err(e) = apply_layer(&t[..], d.path()) {
            // Needs root for mknod and trusted xattrs; the integration suite runs as root.
            assert!(!nix::unistd::geteuid().is_root(), "{e}");
            return;
        }
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(d.path().join("d/gone"))
            .unwrap()
            .file_type()
            .is_char_device());
    }
}
