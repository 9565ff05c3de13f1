//! Resolving `--user` against the image's /etc/passwd and /etc/group,
//! reading them without following symlinks out of the rootfs.

use base::{Error, Result};
use std::path::{Component, Path, PathBuf};

/// The uid, gid and supplementary groups a process runs as, and its home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecUser {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub home: String,
}

/// Resolves `path` inside `root`, following symlinks as if `root` were `/`.
pub fn resolve_in_root(root: &Path, path: &Path) -> PathBuf {
    let mut parts: Vec<std::ffi::OsString> = Vec::new();
    let mut todo: Vec<std::ffi::OsString> = path
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut hops = 0;
    while let Some(c) = todo.pop() {
        if c == ".." {
            parts.pop();
            continue;
        }
        let mut cur = root.to_path_buf();
        cur.extend(&parts);
        cur.push(&c);
        match std::fs::read_link(&cur) {
            Ok(target) if hops < 40 => {
                hops += 1;
                if target.is_absolute() {
                    parts.clear();
                }
                for t in target.components().rev() {
                    match t {
                        Component::Normal(s) => todo.push(s.to_os_string()),
                        Component::ParentDir => todo.push("..".into()),
                        _ => {}
                    }
                }
            }
            _ => parts.push(c),
        }
    }
    let mut out = root.to_path_buf();
    out.extend(parts);
    out
}

fn read_db(root: &Path, file: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(resolve_in_root(root, Path::new(file)))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| l.split(':').map(str::to_string).collect())
        .collect()
}

/// Resolves `user` (`""`, `name`, `uid`, `name:group`, `uid:gid`) in `root`.
pub fn resolve(root: &Path, user: &str) -> Result<ExecUser> {
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let passwd = read_db(root, "/etc/passwd");
    let group = read_db(root, "/etc/group");
    let u = if u.is_empty() { "0" } else { u };
    let entry = passwd
        .iter()
        .find(|p| p.len() >= 6 && (p[0] == u || p[2] == u));
    let (uid, mut gid, home, name) = match (entry, u.parse::<u32>()) {
        (Some(p), _) => (
            p[2].parse()
                .map_err(|_| Error::invalid(format!("bad uid in /etc/passwd for {u}")))?,
            p[3].parse().unwrap_or(0),
            p[5].clone(),
            p[0].clone(),
        ),
        (None, Ok(n)) => (n, 0, "/".to_string(), String::new()),
        (None, Err(_)) => {
            return Err(Error::invalid(format!(
                "unable to find user {u}: no matching entries in passwd file"
            )));
        }
    };
    if uid == 0 && entry.is_none() {
        return Ok(ExecUser {
            uid,
            gid: g.and_then(|g| g.parse().ok()).unwrap_or(0),
            additional_gids: vec![],
            home: "/root".into(),
        });
    }
    if let Some(g) = g {
        gid = match (
            group
                .iter()
                .find(|e| e.len() >= 3 && (e[0] == g || e[2] == g)),
            g.parse::<u32>(),
        ) {
            (Some(e), _) => e[2].parse().unwrap_or(0),
            (None, Ok(n)) => n,
            (None, Err(_)) => {
                return Err(Error::invalid(format!(
                    "unable to find group {g}: no matching entries in group file"
                )));
            }
        };
    }
    // As dockerd: the primary group is always a supplementary group too
    // (so `id` shows `groups=<gid>`), then the user's memberships.
    let mut additional_gids = vec![gid];
    if !name.is_empty() {
        additional_gids.extend(
            group
                .iter()
                .filter(|e| e.len() >= 4 && e[3].split(',').any(|m| m == name))
                .filter_map(|e| e[2].parse::<u32>().ok())
                .filter(|x| *x != gid),
        );
    }
    Ok(ExecUser {
        uid,
        gid,
        additional_gids,
        home,
    })
}

/// `--group-add` entries (names or ids) as gids, names looked up in the
/// rootfs's `/etc/group`.
pub fn group_ids(root: &Path, groups: &[String]) -> Result<Vec<u32>> {
    let db = read_db(root, "/etc/group");
    groups
        .iter()
        .map(|g| {
            if let Ok(n) = g.parse::<u32>() {
                return Ok(n);
            }
            db.iter()
                .find(|e| e.len() >= 3 && e[0] == *g)
                .and_then(|e| e[2].parse().ok())
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "Unable to find group {g}: no matching entries in group file"
                    ))
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("etc")).unwrap();
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:n:/nonexistent:/bin/false\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("etc/group"),
            "root:x:0:\nnogroup:x:65534:\nwheel:x:10:nobody\n",
        )
        .unwrap();
        let r = |u| resolve(d.path(), u);
        assert_eq!(r("").unwrap().home, "/root");
        assert_eq!(
            r("nobody").unwrap(),
            ExecUser {
                uid: 65534,
                gid: 65534,
                additional_gids: vec![65534, 10],
                home: "/nonexistent".into()
            }
        );
        assert_eq!(r("1000:1000").unwrap().gid, 1000);
        assert_eq!(r("nobody:wheel").unwrap().gid, 10);
        assert!(r("ghost").is_err());
        assert!(r("nobody:ghosts").is_err());
    }

    #[test]
    fn symlinks_stay_inside() {
        let d = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/etc", d.path().join("etc")).unwrap();
        assert_eq!(
            resolve_in_root(d.path(), Path::new("/etc/passwd")),
            d.path().join("etc/passwd")
        );
        std::os::unix::fs::symlink("../../..", d.path().join("up")).unwrap();
        assert_eq!(
            resolve_in_root(d.path(), Path::new("/up/x")),
            d.path().join("x")
        );
    }
}
