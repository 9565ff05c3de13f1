//! `docker commit`: a container's changes as a new layer on its image, with
//! its config (plus Dockerfile-style `changes`) as the new image's config.

use super::ContainerService;
use crate::containers::inspect_fs::{overlay_changes, Change};
use api_types::{ContainerConfig, ImageRunConfig};
use base::{Error, Result};
use std::path::{Path, PathBuf};

/// What `POST /commit` asks for.
#[derive(Debug, Default)]
pub struct CommitOptions {
    pub repo: String,
    pub tag: String,
    pub comment: String,
    pub author: String,
    pub pause: bool,
    /// Dockerfile instructions (`-c`).
    pub changes: Vec<String>,
    /// A config to merge over the container's (the request body).
    pub config: Option<ContainerConfig>,
    /// The new image's run config exactly (the builder's), instead of the
    /// container's.
    pub image_config: Option<ImageRunConfig>,
    /// The history entry's `created_by` (the builder's step).
    pub created_by: String,
    /// The image's `container_config` (the builder's step); the
    /// container's own config otherwise, as dockerd records it.
    pub container_config: Option<ImageRunConfig>,
}

/// The container's config as an image's run config.
fn run_config(c: &ContainerConfig) -> ImageRunConfig {
    ImageRunConfig {
        user: c.user.clone(),
        exposed_ports: c.exposed_ports.clone(),
        env: c.env.clone(),
        entrypoint: c.entrypoint.clone(),
        cmd: c.cmd.clone(),
        volumes: c.volumes.clone(),
        working_dir: c.working_dir.clone(),
        labels: c.labels.clone(),
        stop_signal: c.stop_signal.clone(),
        on_build: c.on_build.clone(),
        healthcheck: c
            .extra
            .get("Healthcheck")
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
        shell: c
            .extra
            .get("Shell")
            .and_then(|v| serde_json::from_value(v.clone()).ok()),
    }
}

/// Fields a request body sets win over the container's (as dockerd merges).
fn merge(base: &mut ImageRunConfig, over: &ContainerConfig) {
    let o = run_config(over);
    if !o.user.is_empty() {
        base.user = o.user;
    }
    if o.exposed_ports.is_some() {
        base.exposed_ports = o.exposed_ports;
    }
    if !o.env.is_empty() {
        base.env = o.env;
    }
    if o.entrypoint.is_some() {
        base.entrypoint = o.entrypoint;
    }
    if o.cmd.is_some() {
        base.cmd = o.cmd;
    }
    if o.volumes.is_some() {
        base.volumes = o.volumes;
    }
    if !o.working_dir.is_empty() {
        base.working_dir = o.working_dir;
    }
    base.labels.extend(o.labels);
    if o.stop_signal.is_some() {
        base.stop_signal = o.stop_signal;
    }
}

/// Writes the changes of an overlay upper directory as a layer tar: added
/// and modified entries as they are, deletions as `.wh.` whiteouts, opaque
/// directories with `.wh..wh..opq`.
fn layer_tar(upper: &Path, changes: &[Change], out: impl std::io::Write) -> std::io::Result<()> {
    let mut b = tar::Builder::new(std::io::BufWriter::with_capacity(256 * 1024, out));
    b.follow_symlinks(false);
    for c in changes {
        let rel = c.path.trim_start_matches('/');
        if c.kind == 2 {
            let p = Path::new(rel);
            let name = format!(
                ".wh.{}",
                p.file_name().unwrap_or_default().to_string_lossy()
            );
            let mut h = tar::Header::new_gnu();
            h.set_size(0);
            h.set_mode(0o644);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            b.append_data(&mut h, p.with_file_name(name), std::io::empty())?;
            continue;
        }
        let full = upper.join(rel);
        let meta = std::fs::symlink_metadata(&full)?;
        b.append_path_with_name(&full, rel)?;
        if meta.is_dir()
            && archive::xattrs(&full)
                .iter()
                .any(|(k, v)| k == "trusted.overlay.opaque" && v == b"y")
        {
            let mut h = tar::Header::new_gnu();
            h.set_size(0);
            h.set_mode(0o644);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            h.set_entry_type(tar::EntryType::Regular);
            h.set_cksum();
            b.append_data(
                &mut h,
                Path::new(rel).join(".wh..wh..opq"),
                std::io::empty(),
            )?;
        }
    }
    std::io::Write::flush(&mut b.into_inner()?)
}

impl ContainerService {
    /// `POST /commit`: returns the new image's id.
    pub async fn commit(&self, name: &str, o: CommitOptions) -> Result<String> {
        let h = self.find(name)?;
        let _op = h.op.lock().await;
        let rec = h.rec.lock().unwrap().clone();
        let reference = match o.repo.as_str() {
            "" => None,
            repo => {
                let r = if o.tag.is_empty() {
                    repo.to_string()
                } else {
                    format!("{repo}:{}", o.tag)
                };
                Some(base::Reference::parse_tagged(&r)?)
            }
        };
        let mut run = o
            .image_config
            .clone()
            .unwrap_or_else(|| run_config(&rec.config));
        for c in o.changes.iter().filter(|c| !c.trim().is_empty()) {
            crate::changes::apply(&mut run, c)?;
        }
        if let Some(c) = &o.config {
            merge(&mut run, c);
        }
        let parent = self.images.resolve(&rec.image_id).map_err(|e| {
            Error::internal(format!("the container's image is gone: {}", e.message))
        })?;
        // Paused (frozen) while its changes are read, as dockerd by default.
        let mut freeze = o.pause && h.running() && !h.life.borrow().paused;
        let cg = self.cgroups_path(&rec.id, &rec.host_config);
        if freeze {
            let cg = cg.clone();
            let frozen = tokio::task::spawn_blocking(move || super::freeze::set_frozen(&cg, true))
                .await
                .map_err(|e| Error::internal(e.to_string()))?;
            // A container that exited meanwhile (its cgroup gone) has
            // nothing to pause: dockerd goes on without, as here.
            if let Err(e) = frozen {
                if h.running() {
                    return Err(e);
                }
                freeze = false;
            }
        }
        let upper = self.snaps.upper_dir(&rec.id);
        let mount = self.snaps.mounts(&rec.id)?;
        let lowers: Vec<PathBuf> = mount
            .options
            .iter()
            .find_map(|o| o.strip_prefix("lowerdir="))
            .map(|l| l.split(':').map(PathBuf::from).collect())
            .unwrap_or_default();
        let images = self.images.clone();
        let meta = crate::images::CommitMeta {
            author: o.author.clone(),
            comment: o.comment.clone(),
            created_by: o.created_by.clone(),
            container: rec.id.clone(),
            container_config: o
                .container_config
                .clone()
                .unwrap_or_else(|| run_config(&rec.config)),
        };
        let r = tokio::task::spawn_blocking(move || -> Result<String> {
            let changes = overlay_changes(&upper, &lowers, &crate::spec::BIND_MOUNTPOINTS)
                .map_err(|e| Error::io("reading container changes", e))?;
            // The layer is written to a pipe and applied as it streams.
            let (rd, wr) = std::io::pipe().map_err(|e| Error::io("pipe", e))?;
            let writer = std::thread::spawn(move || layer_tar(&upper, &changes, wr));
            let id = images.commit(&parent, rd, run, &meta, reference.as_ref());
            let written = writer
                .join()
                .map_err(|_| Error::internal("layer writer panicked"))?;
            written.map_err(|e| Error::io("writing the layer", e))?;
            id
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
        if freeze {
            let _ =
                tokio::task::spawn_blocking(move || super::freeze::set_frozen(&cg, false)).await;
        }
        let id = r?;
        self.images.events().publish(
            "image",
            "commit",
            &id,
            serde_json::Map::from_iter([(
                "comment".to_string(),
                serde_json::Value::String(o.comment.clone()),
            )]),
        );
        Ok(id)
    }
}
