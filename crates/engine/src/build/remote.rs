//! Remote build contexts (`remote=` of `POST /build`, what docker-py and
//! compose send for a URL), as dockerd's classic builder takes them: a Git
//! repository, cloned with the host's `git` as dockerd does
//! (`URL#ref:subdir`), or the URL of a tarball or of a Dockerfile alone.
//! A context that cannot be fetched is a 500, as with dockerd.

use super::Context;
use base::{Error, Result};
use std::path::{Component, Path, PathBuf};
use std::process::Command;

/// What a `remote` names.
#[derive(Debug, PartialEq, Eq)]
pub enum Remote {
    Git {
        url: String,
        reference: String,
        subdir: String,
    },
    Url(String),
}

fn is_http(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// Classifies a `remote` as dockerd does: `git://`, `git@` and
/// `github.com/` are Git, and so is an http(s) URL whose path ends in
/// `.git` (before an optional `#fragment`); another http(s) URL is a
/// tarball or a Dockerfile.
pub fn classify(remote: &str) -> Result<Remote> {
    let (base, fragment) = remote.split_once('#').unwrap_or((remote, ""));
    let git = remote.starts_with("git://")
        || remote.starts_with("git@")
        || remote.starts_with("github.com/")
        || (is_http(remote) && base.ends_with(".git"));
    if git {
        let url = if base.starts_with("github.com/") {
            format!("https://{base}")
        } else {
            base.to_string()
        };
        let (reference, subdir) = fragment.split_once(':').unwrap_or((fragment, ""));
        return Ok(Remote::Git {
            url,
            reference: reference.to_string(),
            subdir: subdir.to_string(),
        });
    }
    if is_http(remote) {
        return Ok(Remote::Url(remote.to_string()));
    }
    Err(Error::invalid(format!(
        "unable to prepare context: remote {remote:?} is neither a Git repository nor an http(s) URL"
    )))
}

fn git(args: &[&str], dir: Option<&Path>) -> Result<()> {
    let mut c = Command::new("git");
    if let Some(d) = dir {
        c.current_dir(d);
    }
    let out = c
        .args(args)
        // Never wait for credentials on a terminal the daemon does not have.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| Error::internal(format!("unable to run git (is it installed?): {e}")))?;
    if !out.status.success() {
        return Err(Error::internal(format!(
            "error fetching: {}: {}",
            String::from_utf8_lossy(&out.stderr).trim(),
            out.status
        )));
    }
    Ok(())
}

/// Clones `url` at `reference` (a branch or tag shallowly; else, as a
/// commit, from a full clone) into `dir`, with its submodules.
fn clone(url: &str, reference: &str, dir: &Path) -> Result<()> {
    let d = dir.to_string_lossy();
    let shallow = ["clone", "--quiet", "--recurse-submodules", "--depth", "1"];
    if reference.is_empty() {
        return git(&[&shallow[..], &[url, &d]].concat(), None);
    }
    if git(
        &[&shallow[..], &["--branch", reference, url, &d]].concat(),
        None,
    )
    .is_ok()
    {
        return Ok(());
    }
    let _ = std::fs::remove_dir_all(dir);
    git(&["clone", "--quiet", "--recurse-submodules", url, &d], None)?;
    git(&["checkout", "--quiet", reference], Some(dir))?;
    git(
        &["submodule", "update", "--quiet", "--init", "--recursive"],
        Some(dir),
    )
}

/// `subdir` of the clone at `root`, which must stay inside it (no `..`, no
/// symlink out).
fn inside(root: &Path, subdir: &str) -> Result<PathBuf> {
    let rel = Path::new(subdir);
    if rel
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(Error::internal(format!(
            "unable to prepare context: the subdirectory {subdir:?} is outside the repository"
        )));
    }
    let root = root.canonicalize().map_err(|e| Error::io("the clone", e))?;
    let p = root.join(rel).canonicalize().map_err(|_| {
        Error::internal(format!(
            "unable to prepare context: path {subdir:?} not found in the repository"
        ))
    })?;
    if !p.starts_with(&root) || !p.is_dir() {
        return Err(Error::internal(format!(
            "unable to prepare context: the subdirectory {subdir:?} is outside the repository or not a directory"
        )));
    }
    Ok(p)
}

/// A Git context: cloned into a directory under `tmp` (removed after),
/// its `subdir` read as the context. Blocking.
pub fn git_context(url: &str, reference: &str, subdir: &str, tmp: &Path) -> Result<Context> {
    std::fs::create_dir_all(tmp)
        .map_err(|e| Error::io("create the build's temporary directory", e))?;
    let work = tempfile::Builder::new()
        .prefix("git-context")
        .tempdir_in(tmp)
        .map_err(|e| Error::io("create the clone's directory", e))?;
    let dir = work.path().join("repo");
    clone(url, reference, &dir)?;
    let root = inside(&dir, subdir)?;
    // The directory goes to the context as a tar, symlinks as links.
    let (rd, wr) = std::io::pipe().map_err(|e| Error::io("pipe", e))?;
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        let mut b = tar::Builder::new(wr);
        b.follow_symlinks(false);
        b.append_dir_all(".", &root)?;
        b.finish()
    });
    let ctx = Context::unpack(rd, tmp.to_path_buf());
    let written = writer
        .join()
        .map_err(|_| Error::internal("context writer panicked"))?;
    let ctx = ctx?;
    written.map_err(|e| Error::io("read the cloned repository", e))?;
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_as_dockerd() {
        let g = |url: &str, r: &str, s: &str| Remote::Git {
            url: url.into(),
            reference: r.into(),
            subdir: s.into(),
        };
        assert_eq!(
            classify("https://example.com/r.git#v1:sub/dir").unwrap(),
            g("https://example.com/r.git", "v1", "sub/dir")
        );
        assert_eq!(
            classify("github.com/o/r").unwrap(),
            g("https://github.com/o/r", "", "")
        );
        assert_eq!(
            classify("git://127.0.0.1:9/r#main").unwrap(),
            g("git://127.0.0.1:9/r", "main", "")
        );
        assert_eq!(
            classify("git@example.com:o/r.git").unwrap(),
            g("git@example.com:o/r.git", "", "")
        );
        assert_eq!(
            classify("http://127.0.0.1/ctx.tar.gz").unwrap(),
            Remote::Url("http://127.0.0.1/ctx.tar.gz".into())
        );
        assert!(classify("client-session").is_err());
    }

    #[test]
    fn the_subdirectory_stays_inside() {
        let t = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(t.path().join("repo/a")).unwrap();
        std::os::unix::fs::symlink("/etc", t.path().join("repo/out")).unwrap();
        let root = t.path().join("repo");
        assert!(inside(&root, "a").is_ok());
        assert!(inside(&root, "").is_ok());
        for bad in ["../", "/etc", "out", "missing"] {
            assert!(inside(&root, bad).is_err(), "{bad}");
        }
    }
}
