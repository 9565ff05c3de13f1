//! `docker cp`'s two halves, which berthd runs as `berth-shim archive-get`
//! and `berth-shim archive-put` in a process of their own that chroots into
//! the container's root filesystem first. Every path, symlink and `..` in a
//! request then resolves inside the container, by the kernel, with no race
//! against processes in the container swapping a directory for a symlink.
//!
//! - `archive-get ROOT PATH [--stat-only] [--contents]`: writes one line of
//!   JSON (the path's stat, as the Engine API's `X-Docker-Container-Path-Stat`),
//!   then a tar of PATH whose top entry is named after PATH's last element
//!   (with `--contents`, of a directory's entries, named relative to it,
//!   after a `./` entry for the directory itself).
//! - `archive-put ROOT DIR [--no-overwrite-dir-non-dir] [--copy-uid-gid] [--root-meta]`:
//!   extracts the tar on stdin into the directory DIR.
//!
//! Exit status: 0 done, 2 the path does not exist, 3 the request or the
//! archive is invalid, 1 anything else; the reason is on stderr.

use serde::Serialize;
use std::io::{BufWriter, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

/// Exit codes, read by berthd.
pub const NOT_FOUND: i32 = 2;
pub const INVALID: i32 = 3;

/// The Engine API's `ContainerPathStat`.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct PathStat {
    pub name: String,
    pub size: i64,
    /// Go's `os.FileMode` bits, which is what the docker CLI decodes.
    pub mode: u32,
    pub mtime: String,
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

struct Fail(i32, String);

/// Entry point for `berth-shim archive-get|archive-put ...`.
pub fn main(args: &[String]) -> i32 {
    let r = match args.first().map(String::as_str) {
        Some("archive-get") => get(&args[1..]),
        Some("archive-put") => put(&args[1..]),
        _ => Err(Fail(INVALID, "unknown archive command".into())),
    };
    match r {
        Ok(()) => 0,
        Err(Fail(code, msg)) => {
            eprintln!("{msg}");
            code
        }
    }
}

fn enter_root(root: &str) -> Result<(), Fail> {
    nix::unistd::chroot(root).map_err(|e| Fail(1, format!("chroot {root}: {e}")))?;
    nix::unistd::chdir("/").map_err(|e| Fail(1, format!("chdir /: {e}")))
}

/// Go's `filepath.Base`: the last element, trailing slashes removed.
fn go_base(path: &str) -> String {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// Docker follows a symlink in the last element only when the path ends
/// with `/` or `/.`.
fn follows_last(path: &str) -> bool {
    path.ends_with('/') || path.ends_with("/.")
}

/// Go's `os.FileMode` for a file's metadata.
pub fn go_mode(m: &std::fs::Metadata) -> u32 {
    let ft = m.file_type();
    let unix = m.mode();
    let mut mode = unix & 0o777;
    if ft.is_dir() {
        mode |= 1 << 31;
    } else if ft.is_symlink() {
        mode |= 1 << 27;
    } else if ft.is_block_device() {
        mode |= 1 << 26;
    } else if ft.is_char_device() {
        mode |= (1 << 26) | (1 << 21);
    } else if ft.is_fifo() {
        mode |= 1 << 25;
    } else if ft.is_socket() {
        mode |= 1 << 24;
    }
    if unix & 0o4000 != 0 {
        mode |= 1 << 23;
    }
    if unix & 0o2000 != 0 {
        mode |= 1 << 22;
    }
    if unix & 0o1000 != 0 {
        mode |= 1 << 20;
    }
    mode
}

fn stat(path: &str) -> Result<(std::fs::Metadata, PathStat), Fail> {
    let not_found = |_| {
        Fail(
            NOT_FOUND,
            format!("Could not find the file {path} in container"),
        )
    };
    let m = if follows_last(path) {
        std::fs::metadata(path).map_err(not_found)?
    } else {
        std::fs::symlink_metadata(path).map_err(not_found)?
    };
    let link_target = if m.file_type().is_symlink() {
        // Where it leads, inside the container (we are chrooted).
        std::fs::canonicalize(path)
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    } else {
        String::new()
    };
    let mtime =
        chrono::DateTime::<chrono::Utc>::from(m.modified().unwrap_or(std::time::UNIX_EPOCH))
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let st = PathStat {
        name: go_base(path),
        size: m.len() as i64,
        mode: go_mode(&m),
        mtime,
        link_target,
    };
    Ok((m, st))
}

fn get(args: &[String]) -> Result<(), Fail> {
    let (root, path) = match args {
        [root, path, ..] => (root, path),
        _ => return Err(Fail(INVALID, "usage: archive-get ROOT PATH".into())),
    };
    let stat_only = args.iter().any(|a| a == "--stat-only");
    // The directory's contents, named relative to it (a volume's copy-up).
    let contents = args.iter().any(|a| a == "--contents");
    enter_root(root)?;
    let (m, st) = stat(path)?;
    let mut out = BufWriter::with_capacity(256 * 1024, std::io::stdout().lock());
    let line = serde_json::to_string(&st).map_err(|e| Fail(1, e.to_string()))?;
    writeln!(out, "{line}").map_err(|e| Fail(1, e.to_string()))?;
    if stat_only {
        return out.flush().map_err(|e| Fail(1, e.to_string()));
    }
    let mut b = tar::Builder::new(out);
    b.follow_symlinks(false);
    let base = PathBuf::from(&st.name);
    let top = PathBuf::from(path);
    let io = |e: std::io::Error| Fail(1, format!("archiving {path}: {e}"));
    if m.is_dir() && contents {
        // The directory itself as `./` first: its mode and owner, which a
        // volume's root takes (`archive-put --root-meta`).
        b.append_dir(".", &top).map_err(io)?;
        archive::append_tree(&mut b, &top, Path::new("")).map_err(io)?;
    } else if m.is_dir() {
        b.append_dir(&base, &top).map_err(io)?;
        archive::append_tree(&mut b, &top, &base).map_err(io)?;
    } else {
        b.append_path_with_name(&top, &base).map_err(io)?;
    }
    let mut out = b.into_inner().map_err(io)?;
    out.flush().map_err(io)
}

/// A relative entry path with no `..`, or None.
fn clean_entry(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

fn put(args: &[String]) -> Result<(), Fail> {
    let (root, dir) = match args {
        [root, dir, ..] => (root, dir),
        _ => return Err(Fail(INVALID, "usage: archive-put ROOT DIR".into())),
    };
    let no_overwrite = args.iter().any(|a| a == "--no-overwrite-dir-non-dir");
    let copy_ids = args.iter().any(|a| a == "--copy-uid-gid");
    // A `./` directory entry sets the destination's own mode and owner.
    let root_meta = args.iter().any(|a| a == "--root-meta");
    enter_root(root)?;
    let m = std::fs::metadata(dir).map_err(|_| {
        Fail(
            NOT_FOUND,
            format!("Could not find the file {dir} in container"),
        )
    })?;
    if !m.is_dir() {
        return Err(Fail(INVALID, "extraction point is not a directory".into()));
    }
    let dest = std::fs::canonicalize(dir).map_err(|e| Fail(1, format!("{dir}: {e}")))?;
    let mut ar = tar::Archive::new(std::io::stdin().lock());
    ar.set_overwrite(true);
    ar.set_preserve_permissions(true);
    ar.set_preserve_mtime(true);
    ar.set_preserve_ownerships(copy_ids);
    ar.set_unpack_xattrs(true);
    let entries = ar
        .entries()
        .map_err(|e| Fail(INVALID, format!("invalid archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| Fail(INVALID, format!("invalid archive: {e}")))?;
        let raw = entry
            .path()
            .map_err(|e| Fail(INVALID, format!("invalid archive: {e}")))?
            .into_owned();
        let Some(rel) = clean_entry(&raw) else {
            return Err(Fail(
                INVALID,
                format!(
                    "invalid archive: entry {:?} leaves the destination",
                    raw.display().to_string()
                ),
            ));
        };
        if rel.as_os_str().is_empty() {
            let h = entry.header();
            if root_meta && h.entry_type().is_dir() {
                use std::os::unix::fs::PermissionsExt;
                let mode = h.mode().unwrap_or(0o755) & 0o7777;
                std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| Fail(1, format!("chmod {}: {e}", dest.display())))?;
                if copy_ids {
                    let (u, g) = (h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32);
                    std::os::unix::fs::chown(&dest, Some(u), Some(g))
                        .map_err(|e| Fail(1, format!("chown {}: {e}", dest.display())))?;
                }
            }
            continue;
        }
        let target = dest.join(&rel);
        if no_overwrite {
            if let Ok(existing) = std::fs::symlink_metadata(&target) {
                let incoming_dir = entry.header().entry_type().is_dir();
                if existing.is_dir() && !incoming_dir {
                    return Err(Fail(
                        INVALID,
                        format!(
                            "cannot overwrite directory {:?} with non-directory",
                            target.display().to_string()
                        ),
                    ));
                }
                if !existing.is_dir() && incoming_dir {
                    return Err(Fail(
                        INVALID,
                        format!(
                            "cannot overwrite non-directory {:?} with directory",
                            target.display().to_string()
                        ),
                    ));
                }
            }
        }
        // unpack_in refuses paths outside `dest`; in the chroot a symlink
        // in the way can only lead elsewhere inside the container.
        let ok = entry
            .unpack_in(&dest)
            .map_err(|e| Fail(1, format!("extracting {}: {e}", rel.display())))?;
        if !ok {
            return Err(Fail(
                INVALID,
                format!(
                    "invalid archive: entry {:?} leaves the destination",
                    raw.display().to_string()
                ),
            ));
        }
    }
    // Whatever follows the end-of-archive marker is read and ignored.
    let _ = std::io::copy(&mut ar.into_inner(), &mut std::io::sink());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_modes_as_go_has_them() {
        assert_eq!(go_base("/etc/hostname"), "hostname");
        assert_eq!(go_base("/etc/"), "etc");
        assert_eq!(go_base("/etc/."), ".");
        assert_eq!(go_base("/"), "/");
        assert!(follows_last("/link/"));
        assert!(follows_last("/link/."));
        assert!(!follows_last("/link"));
        let d = tempfile::tempdir().unwrap();
        let m = std::fs::metadata(d.path()).unwrap();
        assert_eq!(go_mode(&m) >> 31, 1, "ModeDir");
        std::os::unix::fs::symlink("x", d.path().join("l")).unwrap();
        let m = std::fs::symlink_metadata(d.path().join("l")).unwrap();
        assert_ne!(go_mode(&m) & (1 << 27), 0, "ModeSymlink");
        assert_eq!(clean_entry(Path::new("./a/b")), Some(PathBuf::from("a/b")));
        assert_eq!(clean_entry(Path::new("a/../../b")), None);
        assert_eq!(clean_entry(Path::new("/abs")), None);
    }
}
