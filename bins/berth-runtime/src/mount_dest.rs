//! Mount destinations that lead through a dangling symlink in the image.
//!
//! runc resolves a mount's destination inside the rootfs, following the
//! image's symlinks as if the rootfs were `/` (`..` stops at the root), and
//! creates what is missing where the symlinks lead: an image whose `/data`
//! is a link to `/nonexistent` gets its volume at `/nonexistent`. libcontainer
//! refuses such a destination instead (its in-root `mkdir_all` does not
//! follow a dangling link). [`dangling_target`] finds these destinations so
//! that the adjusted spec can name the place they lead to, which
//! libcontainer then creates and mounts on, as runc would.
//!
//! Every lookup is an `openat2` with `RESOLVE_IN_ROOT` on the rootfs, so no
//! link, however it is written, leads out of it.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};
use nix::errno::Errno;
use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

/// Links followed before giving up, as the kernel's own limit for a lookup.
const MAX_LINKS: usize = 40;

/// The rootfs, opened for [`dangling_target`].
pub fn open_root(rootfs: &Path) -> Result<OwnedFd> {
    nix::fcntl::open(
        rootfs,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| format!("open rootfs {}", rootfs.display()))
}

/// Where `dest` leads inside the rootfs `root` when the way there follows a symlink
/// and ends at something missing; `None` when no symlink is on the way, the
/// place exists, or the links loop (libcontainer then reports the
/// destination as it is).
pub fn dangling_target(root: &OwnedFd, dest: &str) -> Result<Option<String>> {
    // Most destinations exist (through their links or not): one lookup.
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    if nix::fcntl::openat2(root.as_fd(), dest, how).is_ok() {
        return Ok(None);
    }
    let mut todo: VecDeque<OsString> = parts(Path::new(dest));
    let mut at = PathBuf::from("/");
    let mut links = 0;
    let mut missing = false;
    while let Some(part) = todo.pop_front() {
        if part == ".." {
            at.pop();
            continue;
        }
        let next = at.join(&part);
        if missing {
            at = next;
            continue;
        }
        match lookup(root, &next)? {
            Entry::Missing => {
                missing = true;
                at = next;
            }
            Entry::Other => at = next,
            Entry::Link(target) => {
                links += 1;
                if links > MAX_LINKS {
                    return Ok(None);
                }
                if target.is_absolute() {
                    at = PathBuf::from("/");
                }
                for p in parts(&target).into_iter().rev() {
                    todo.push_front(p);
                }
            }
        }
    }
    Ok((links > 0 && missing).then(|| at.to_string_lossy().into_owned()))
}

/// The normal and `..` components of a path (`.` and the root dropped).
fn parts(p: &Path) -> VecDeque<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

enum Entry {
    Missing,
    Link(PathBuf),
    Other,
}

/// What `path` (in-root, its parents free of symlinks) is, without
/// following a final symlink.
fn lookup(root: &OwnedFd, path: &Path) -> Result<Entry> {
    let how = OpenHow::new()
        .flags(OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let fd = match nix::fcntl::openat2(root.as_fd(), path, how) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(Entry::Missing),
        // A file on the way (ENOTDIR) or anything else: libcontainer's
        // own resolution reports it.
        Err(_) => return Ok(Entry::Other),
    };
    // readlinkat(2) with an empty path reads the link an O_PATH fd is on,
    // and fails with ENOENT (or EINVAL) for anything that is not a link.
    match nix::fcntl::readlinkat(fd.as_fd(), "") {
        Ok(target) => Ok(Entry::Link(PathBuf::from(target))),
        Err(_) => Ok(Entry::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn root() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("etc")).unwrap();
        std::fs::write(d.path().join("etc/file"), "x").unwrap();
        d
    }

    #[test]
    fn dangling_links_lead_to_their_target_inside_the_root() {
        let d = root();
        let r = d.path();
        symlink("/nonexistent", r.join("data")).unwrap();
        symlink("../../missing/dir", r.join("rel")).unwrap();
        symlink("/etc/nofile", r.join("f")).unwrap();
        symlink("data", r.join("chain")).unwrap();
        symlink("/etc", r.join("etclink")).unwrap();
        let root = open_root(r).unwrap();
        let t = |p: &str| dangling_target(&root, p).unwrap();
        assert_eq!(t("/data").as_deref(), Some("/nonexistent"));
        assert_eq!(t("/data/sub").as_deref(), Some("/nonexistent/sub"));
        assert_eq!(t("/rel").as_deref(), Some("/missing/dir"));
        assert_eq!(t("/f").as_deref(), Some("/etc/nofile"));
        assert_eq!(t("/chain").as_deref(), Some("/nonexistent"));
        assert_eq!(t("/etclink/new").as_deref(), Some("/etc/new"));
    }

    #[test]
    fn plain_and_resolvable_destinations_are_left_alone() {
        let d = root();
        let r = d.path();
        symlink("/etc", r.join("etclink")).unwrap();
        let root = open_root(r).unwrap();
        for p in [
            "/etc",
            "/etc/file",
            "/new/dir",
            "/etclink",
            "/etclink/file",
            "/",
        ] {
            assert_eq!(dangling_target(&root, p).unwrap(), None, "{p}");
        }
    }

    #[test]
    fn links_never_lead_out_of_the_root() {
        let d = root();
        let r = d.path();
        // Absolute and `..`-laden links resolve against the rootfs.
        let host = tempfile::tempdir().unwrap();
        let abs = host.path().join("gone");
        symlink(&abs, r.join("abs")).unwrap();
        symlink("../../../../../../../../tmp/nowhere", r.join("up")).unwrap();
        let root = open_root(r).unwrap();
        assert_eq!(
            dangling_target(&root, "/abs").unwrap().as_deref(),
            Some(abs.to_str().unwrap())
        );
        assert_eq!(
            dangling_target(&root, "/up").unwrap().as_deref(),
            Some("/tmp/nowhere")
        );
        assert!(!abs.exists());
    }

    #[test]
    fn looping_links_are_left_to_libcontainer() {
        let d = root();
        let r = d.path();
        symlink("/b", r.join("a")).unwrap();
        symlink("/a", r.join("b")).unwrap();
        let root = open_root(r).unwrap();
        assert_eq!(dangling_target(&root, "/a/x").unwrap(), None);
    }
}
