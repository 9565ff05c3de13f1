//! `docker top` and `docker diff`: a running container's processes, as the
//! host's `ps` shows them, and the changes in its writable layer.

use super::ContainerService;
use base::{Error, Result};
use serde::Serialize;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// `GET /containers/{id}/top`.
#[derive(Debug, Serialize, PartialEq)]
pub struct Top {
    #[serde(rename = "Titles")]
    pub titles: Vec<String>,
    #[serde(rename = "Processes")]
    pub processes: Vec<Vec<String>>,
}

/// One entry of `GET /containers/{id}/changes`: Kind 0 modified, 1 added,
/// 2 deleted.
#[derive(Debug, Serialize, PartialEq)]
pub struct Change {
    #[serde(rename = "Path")]
    pub path: String,
    #[serde(rename = "Kind")]
    pub kind: u8,
}

/// Keeps the rows of `ps` output whose PID is one of `pids`. The last
/// column (the command) may hold spaces; Docker joins the rest into it.
pub fn parse_ps(out: &str, pids: &[i32]) -> Result<Top> {
    let mut lines = out.lines();
    let titles: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let pid_col = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or_else(|| Error::internal("Couldn't find PID field in ps output"))?;
    let mut processes = Vec::new();
    for line in lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < titles.len() {
            continue;
        }
        let Ok(pid) = fields[pid_col].parse::<i32>() else {
            continue;
        };
        if !pids.contains(&pid) {
            continue;
        }
        let last = titles.len() - 1;
        let mut row: Vec<String> = fields[..last].iter().map(|s| s.to_string()).collect();
        row.push(fields[last..].join(" "));
        processes.push(row);
    }
    Ok(Top { titles, processes })
}

/// The pids in the cgroup at `cgroups_path`, from the first hierarchy that
/// has it (cgroup v1 controllers, then v2).
fn cgroup_pids(cgroups_path: &str) -> Vec<i32> {
    let rel = cgroups_path.trim_start_matches('/');
    let bases = [
        "/sys/fs/cgroup/pids",
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/cpu",
        "/sys/fs/cgroup/freezer",
        "/sys/fs/cgroup/unified",
        "/sys/fs/cgroup",
    ];
    for b in bases {
        if let Ok(s) = std::fs::read_to_string(Path::new(b).join(rel).join("cgroup.procs")) {
            let pids: Vec<i32> = s.lines().filter_map(|l| l.trim().parse().ok()).collect();
            if !pids.is_empty() {
                return pids;
            }
        }
    }
    Vec::new()
}

/// An overlay whiteout: a character device 0/0.
fn is_whiteout(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    m.file_type().is_char_device() && m.rdev() == 0
}

fn same_dir(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.len() == b.len()
        && a.mode() == b.mode()
        && a.mtime() == b.mtime()
        && a.mtime_nsec() == b.mtime_nsec()
}

/// Docker's changes between the lower layers and the writable `upper`
/// directory: walk order, a whiteout is a deletion, a path found in a lower
/// layer is a modification (a directory only if its size, mode or mtime
/// differ), anything else an addition; the parent of an addition or a
/// deletion is reported modified once.
///
/// `mountpoints` are files the runtime created empty in the writable layer
/// to bind-mount over (`/etc/hosts` and the like); Docker keeps those in an
/// init layer, so they are no change of the container's.
pub fn overlay_changes(
    upper: &Path,
    lowers: &[PathBuf],
    mountpoints: &[&str],
) -> std::io::Result<Vec<Change>> {
    let mut w = Walk {
        upper,
        lowers,
        mountpoints,
        out: Vec::new(),
        changed_dirs: Default::default(),
    };
    w.dir(Path::new(""))?;
    Ok(w.out)
}

struct Walk<'a> {
    upper: &'a Path,
    lowers: &'a [PathBuf],
    mountpoints: &'a [&'a str],
    out: Vec<Change>,
    changed_dirs: std::collections::HashSet<String>,
}

impl Walk<'_> {
    /// Visits `rel`'s entries in name order, each directory's contents right
    /// after its own entry (Go's `filepath.Walk` order).
    fn dir(&mut self, rel: &Path) -> std::io::Result<()> {
        for n in archive::sorted_names(&self.upper.join(rel))? {
            let r = rel.join(&n);
            let Ok(m) = std::fs::symlink_metadata(self.upper.join(&r)) else {
                continue;
            };
            self.entry(&r, &m);
            if m.is_dir() {
                self.dir(&r)?;
            }
        }
        Ok(())
    }

    /// Whether the upper directory `r` holds nothing but mountpoint files
    /// the runtime made (which Docker keeps in its init layer).
    fn only_mountpoints(&self, r: &Path) -> bool {
        let Ok(names) = archive::sorted_names(&self.upper.join(r)) else {
            return false;
        };
        !names.is_empty()
            && names.iter().all(|n| {
                let c = r.join(n);
                let path = format!("/{}", c.display());
                self.mountpoints.contains(&path.as_str())
                    && std::fs::symlink_metadata(self.upper.join(&c))
                        .is_ok_and(|m| m.is_file() && m.len() == 0)
                    && !self.lowers.iter().any(|l| l.join(&c).exists())
            })
    }

    fn entry(&mut self, r: &Path, m: &std::fs::Metadata) {
        let path = format!("/{}", r.display());
        if m.is_file()
            && m.len() == 0
            && self.mountpoints.contains(&path.as_str())
            && !self.lowers.iter().any(|l| l.join(r).exists())
        {
            return;
        }
        let kind = if is_whiteout(m) {
            2
        } else {
            let mut kind = 1;
            for l in self.lowers {
                if let Ok(lm) = std::fs::metadata(l.join(r)) {
                    if lm.is_dir() && m.is_dir() && same_dir(m, &lm) {
                        return; // only a parent of something changed
                    }
                    if lm.is_dir() && m.is_dir() && self.only_mountpoints(r) {
                        return; // changed only by the runtime's mountpoints
                    }
                    kind = 0;
                    break;
                }
            }
            kind
        };
        if m.is_dir() {
            self.changed_dirs.insert(path.clone());
        }
        if kind != 0 {
            let parent = rel_parent(&path);
            if parent != "/" && self.changed_dirs.insert(parent.clone()) {
                self.out.push(Change {
                    path: parent,
                    kind: 0,
                });
            }
        }
        self.out.push(Change { path, kind });
    }
}

fn rel_parent(path: &str) -> String {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/".into(),
        Some((p, _)) => p.to_string(),
    }
}

impl ContainerService {
    /// `GET /containers/{id}/top`: the host's `ps` (with `ps_args`, `-ef` by
    /// default), keeping the container's processes. Blocking.
    pub fn top(&self, name: &str, ps_args: &str) -> Result<Top> {
        let h = self.find(name)?;
        let id = h.id();
        if !h.running() {
            return Err(Error::conflict(format!("Container {id} is not running")));
        }
        let cgroups_path = self.cgroups_path_of(&h);
        let pids = cgroup_pids(&cgroups_path);
        let args: Vec<&str> = if ps_args.trim().is_empty() {
            vec!["-ef"]
        } else {
            ps_args.split_whitespace().collect()
        };
        let out = std::process::Command::new("ps")
            .args(&args)
            .output()
            .map_err(|e| Error::io("Error running ps", e))?;
        if !out.status.success() {
            return Err(Error::internal(format!(
                "Error running ps: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        parse_ps(&String::from_utf8_lossy(&out.stdout), &pids)
    }

    /// `GET /containers/{id}/changes`. Blocking.
    pub fn changes(&self, name: &str) -> Result<Vec<Change>> {
        let h = self.find(name)?;
        let id = h.id();
        let mount = self.snaps.mounts(&id)?;
        let lowers: Vec<PathBuf> = mount
            .options
            .iter()
            .find_map(|o| o.strip_prefix("lowerdir="))
            .map(|l| l.split(':').map(PathBuf::from).collect())
            .unwrap_or_default();
        overlay_changes(
            &self.snaps.upper_dir(&id),
            &lowers,
            &crate::spec::BIND_MOUNTPOINTS,
        )
        .map_err(|e| Error::io("reading container changes", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ps_rows_are_filtered_by_pid() {
        let out = "UID   PID  PPID  C STIME TTY  TIME     CMD\n\
                   root    1     0  0 10:00 ?    00:00:01 /sbin/init\n\
                   root  420     1  0 10:01 ?    00:00:00 sleep 300 now\n";
        let t = parse_ps(out, &[420]).unwrap();
        assert_eq!(t.titles.len(), 8);
        assert_eq!(
            t.processes,
            vec![vec![
                "root",
                "420",
                "1",
                "0",
                "10:01",
                "?",
                "00:00:00",
                "sleep 300 now"
            ]]
        );
        assert!(parse_ps("USER COMMAND\nroot x\n", &[1]).is_err());
    }

    #[test]
    fn changes_as_docker_reports_them() {
        let d = tempfile::tempdir().unwrap();
        let (lower, upper) = (d.path().join("lower"), d.path().join("upper"));
        std::fs::create_dir_all(lower.join("etc")).unwrap();
        std::fs::write(lower.join("etc/passwd"), "root").unwrap();
        std::fs::write(lower.join("gone"), "x").unwrap();
        std::fs::create_dir_all(upper.join("etc")).unwrap();
        std::fs::write(upper.join("etc/passwd"), "root2").unwrap();
        std::fs::write(upper.join("etc/new"), "n").unwrap();
        std::fs::create_dir_all(upper.join("tmp/deep")).unwrap();
        nix::sys::stat::mknod(
            &upper.join("gone"),
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::empty(),
            0,
        )
        .unwrap();
        std::fs::write(upper.join("etc/hosts"), "").unwrap();
        let got: Vec<(String, u8)> = overlay_changes(&upper, &[lower], &["/etc/hosts"])
            .unwrap()
            .into_iter()
            .map(|c| (c.path, c.kind))
            .collect();
        let want: Vec<(String, u8)> = [
            ("/etc", 0),
            ("/etc/new", 1),
            ("/etc/passwd", 0),
            ("/gone", 2),
            ("/tmp", 1),
            ("/tmp/deep", 1),
        ]
        .iter()
        .map(|(p, k)| (p.to_string(), *k))
        .collect();
        assert_eq!(got, want);
    }
}
