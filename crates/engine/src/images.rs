//! The image service: import, list, inspect, tag and remove images.

use api_types::{ImageConfigBlob, ImageRunConfig, ImageSummary, RootFs};
use base::{Digest, Error, Reference, Result};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::sync::Arc;
use store::content::ContentStore;
use store::metadata::{Metadata, Table};
use store::snapshot::Snapshotter;

/// What the database keeps per image; the config itself is a content blob.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageRecord {
    /// `sha256:<hex>` of the config blob.
    pub id: String,
    pub created: String,
    pub size: i64,
    /// Chain id of the top layer, if any.
    pub top_layer: Option<String>,
    #[serde(default)]
    pub repo_digests: Vec<String>,
    /// The stored blob of each layer, in `rootfs.diff_ids` order.
    #[serde(default)]
    pub layers: Vec<LayerBlob>,
    /// Digest of the image manifest this image was pulled with (its bytes
    /// are in the content store), pushed again unchanged.
    #[serde(default)]
    pub manifest: Option<String>,
    /// The image this one was made from by a build step or a commit
    /// (dockerd's `Parent`): intermediate images hide behind their children
    /// in `docker images` and go with them on `rmi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// Where a layer's bytes are kept in the content store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerBlob {
    pub digest: String,
    pub media_type: String,
    pub size: i64,
}

pub const MEDIA_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const MEDIA_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// A resolved image: its record and parsed config.
#[derive(Debug, Clone)]
pub struct Image {
    pub record: ImageRecord,
    pub config: ImageConfigBlob,
}

/// The history words of a committed layer.
#[derive(Debug, Default, Clone)]
pub struct CommitMeta {
    pub author: String,
    pub comment: String,
    /// The step that made it (`/bin/sh -c ...` in a build).
    pub created_by: String,
    /// The container committed, and its config (for a build step: the
    /// step's command), kept in the image config as dockerd keeps them.
    pub container: String,
    pub container_config: ImageRunConfig,
}

/// One line of `DELETE /images/{name}`'s answer.
#[derive(Debug, Clone, Serialize)]
pub enum Deleted {
    Untagged(String),
    Deleted(String),
}

pub struct ImageService {
    /// The registry client (connection pools, token cache), one per daemon.
    pub(crate) registry: distribution::Client,
    /// Scratch space for archives being loaded; cleared at start.
    tmp: std::path::PathBuf,
    meta: Arc<Metadata>,
    content: Arc<ContentStore>,
    snaps: Arc<dyn Snapshotter>,
    /// The daemon's event bus (`docker events`), shared with the containers.
    events: Arc<crate::events::EventBus>,
    /// Layers of deleted images kept because containers are built on them
    /// (`rmi -f` of an image a stopped container uses, as dockerd allows):
    /// removed once the last such container is.
    deferred: std::sync::Mutex<std::collections::HashSet<Digest>>,
}

/// Who uses an image: a container's id and whether it runs.
pub type ImageUser = Option<(String, bool)>;

fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

impl ImageService {
    /// The daemon's event bus.
    pub fn events(&self) -> &Arc<crate::events::EventBus> {
        &self.events
    }

    /// Publishes an image event (`tag`, `untag`, `delete`, `pull`, ...).
    pub(crate) fn image_event(&self, action: &str, id: &str, name: &str) {
        let mut attrs = serde_json::Map::new();
        if !name.is_empty() {
            attrs.insert("name".into(), serde_json::Value::String(name.into()));
        }
        self.events.publish("image", action, id, attrs);
    }

    pub fn new(
        registry: distribution::Client,
        tmp: std::path::PathBuf,
        meta: Arc<Metadata>,
        content: Arc<ContentStore>,
        snaps: Arc<dyn Snapshotter>,
    ) -> ImageService {
        let _ = std::fs::remove_dir_all(&tmp);
        let _ = std::fs::create_dir_all(&tmp);
        ImageService {
            registry,
            tmp,
            meta,
            content,
            snaps,
            events: Arc::new(crate::events::EventBus::new()),
            deferred: Default::default(),
        }
    }

    /// The snapshotter (for staged layer extraction during pulls).
    pub(crate) fn snapshots(&self) -> &Arc<dyn Snapshotter> {
        &self.snaps
    }

    /// Adds a repo digest (`name@sha256:...`) to an image.
    pub(crate) fn add_repo_digest(&self, id: &str, repo_digest: &str) -> Result<()> {
        self.meta.update(|tx| {
            let Some(mut r) = tx.get::<ImageRecord>(Table::Images, id)? else {
                return Ok(());
            };
            let name = repo_digest.split('@').next().unwrap_or_default();
            r.repo_digests.retain(|d| d.split('@').next() != Some(name));
            r.repo_digests.push(repo_digest.to_string());
            tx.put(Table::Images, id, &r)
        })
    }

    /// The image id a tag points at, if any (no id or prefix matching).
    pub(crate) fn tagged(&self, r: &Reference) -> Result<Option<String>> {
        self.meta.get::<String>(Table::Tags, &r.to_string())
    }

    /// The tags (normalized) of repository `name` (`domain/path`) and their image ids.
    pub(crate) fn tags_in_repo(&self, name: &str) -> Result<Vec<(Reference, String)>> {
        let mut out = Vec::new();
        for (k, id) in self.meta.list::<String>(Table::Tags)? {
            if let Ok(r) = Reference::parse(&k) {
                if r.name() == name {
                    out.push((r, id));
                }
            }
        }
        Ok(out)
    }

    /// `POST /images/load`, `platforms` as the API's JSON OCI platforms.
    /// Blocking.
    pub fn load_archive(&self, r: impl Read, platforms: &[String]) -> Result<Vec<String>> {
        let platforms = platforms
            .iter()
            .map(|p| {
                serde_json::from_str::<distribution::Platform>(p)
                    .map_err(|e| Error::invalid(format!("invalid platform {p}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let scratch = self.tmp.join(base::id::random_id());
        std::fs::create_dir_all(&scratch).map_err(|e| Error::io("create scratch dir", e))?;
        let out = crate::imagetar::load(self, r, &scratch, &platforms);
        let _ = std::fs::remove_dir_all(&scratch);
        out
    }

    /// `GET /images/get`. Blocking.
    pub fn save_archive(&self, names: &[String], out: impl std::io::Write) -> Result<()> {
        crate::imagetar::save(self, names, out)
    }

    /// Imports a root filesystem tarball as a one-layer image (`docker import`).
    /// Blocking: call from a blocking thread.
    pub fn import(
        &self,
        tar: impl Read,
        reference: Option<&str>,
        changes: &[String],
        message: &str,
        platform: Option<&str>,
    ) -> Result<String> {
        // `--platform`: the image's os and architecture, as dockerd records them.
        let platform = platform
            .filter(|p| !p.is_empty())
            .map(distribution::Platform::parse)
            .transpose()
            .map_err(|e| Error::invalid(e.to_string()))?;
        let reference = reference
            .filter(|r| !r.is_empty())
            .map(Reference::parse_tagged)
            .transpose()?;
        let mut run = ImageRunConfig::default();
        for c in changes.iter().filter(|c| !c.trim().is_empty()) {
            crate::changes::apply(&mut run, c)?;
        }
        let (layer, blob) = self.apply_layer(None, tar)?;
        let created = now();
        let config = ImageConfigBlob {
            created: Some(created.clone()),
            author: None,
            architecture: platform
                .as_ref()
                .map(|p| p.architecture.clone())
                .unwrap_or_else(|| host_arch().into()),
            os: platform
                .as_ref()
                .map(|p| p.os.clone())
                .unwrap_or_else(|| "linux".into()),
            variant: platform.as_ref().and_then(|p| p.variant.clone()),
            config: run,
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: vec![layer.diff_id.to_string()],
            },
            history: vec![serde_json::json!({
                "created": created,
                "comment": if message.is_empty() { "Imported from -" } else { message },
            })],
            comment: None,
            container: None,
            container_config: None,
        };
        let bytes = serde_json::to_vec(&config).map_err(|e| Error::internal(e.to_string()))?;
        let record = ImageRecord {
            id: String::new(),
            created,
            size: layer.size as i64,
            top_layer: Some(layer.chain_id.to_string()),
            repo_digests: vec![],
            layers: vec![blob],
            manifest: None,
            parent: None,
        };
        self.register(
            &bytes,
            record,
            reference.iter().collect::<Vec<_>>().as_slice(),
        )
    }

    /// A new image of `parent`'s layers plus the layer tar `layer` (a
    /// container's changes), with run config `run` (`docker commit`).
    /// Blocking.
    pub fn commit(
        &self,
        parent: &Image,
        layer: impl Read,
        run: ImageRunConfig,
        meta: &CommitMeta,
        reference: Option<&Reference>,
    ) -> Result<String> {
        let CommitMeta {
            author,
            comment,
            created_by,
            container,
            container_config,
        } = meta;
        let top = parent
            .record
            .top_layer
            .as_deref()
            .map(Digest::parse)
            .transpose()?;
        let (layer, blob) = self.apply_layer(top.as_ref(), layer)?;
        let created = now();
        let mut config = parent.config.clone();
        config.created = Some(created.clone());
        config.author = (!author.is_empty()).then(|| author.to_string());
        config.comment = (!comment.is_empty()).then(|| comment.to_string());
        config.config = run;
        config.container = Some(container.clone());
        config.container_config = Some(container_config.clone());
        config.rootfs.diff_ids.push(layer.diff_id.to_string());
        let mut h = serde_json::json!({"created": created});
        if !author.is_empty() {
            h["author"] = serde_json::json!(author);
        }
        if !comment.is_empty() {
            h["comment"] = serde_json::json!(comment);
        }
        if !created_by.is_empty() {
            h["created_by"] = serde_json::json!(created_by);
        }
        config.history.push(h);
        let bytes = serde_json::to_vec(&config).map_err(|e| Error::internal(e.to_string()))?;
        let mut layers = parent.record.layers.clone();
        layers.push(blob);
        let record = ImageRecord {
            id: String::new(),
            created,
            size: parent.record.size + layer.size as i64,
            top_layer: Some(layer.chain_id.to_string()),
            repo_digests: vec![],
            layers,
            manifest: None,
            parent: Some(parent.record.id.clone()),
        };
        let tags: Vec<&Reference> = reference.into_iter().collect();
        self.register(&bytes, record, &tags)
    }

    /// A new image with `parent`'s layers (none for `scratch`) and the run
    /// config `run`: a build step that changes only the config.
    pub fn derive(
        &self,
        parent: Option<&Image>,
        run: ImageRunConfig,
        step_cmd: Vec<String>,
    ) -> Result<String> {
        let created_by = step_cmd.join(" ");
        let created = now();
        let mut config = match parent {
            Some(p) => p.config.clone(),
            None => ImageConfigBlob {
                architecture: host_arch().into(),
                os: "linux".into(),
                rootfs: RootFs {
                    kind: "layers".into(),
                    diff_ids: vec![],
                },
                ..Default::default()
            },
        };
        config.created = Some(created.clone());
        // No container ran: dockerd's classic builder records the step's
        // command only.
        config.container = None;
        config.container_config = Some(ImageRunConfig {
            cmd: Some(step_cmd),
            ..run.clone()
        });
        config.config = run;
        config.history.push(serde_json::json!({
            "created": created,
            "created_by": created_by,
            "empty_layer": true,
        }));
        let bytes = serde_json::to_vec(&config).map_err(|e| Error::internal(e.to_string()))?;
        let record = ImageRecord {
            id: String::new(),
            created,
            size: parent.map(|p| p.record.size).unwrap_or(0),
            top_layer: parent.and_then(|p| p.record.top_layer.clone()),
            repo_digests: vec![],
            layers: parent.map(|p| p.record.layers.clone()).unwrap_or_default(),
            manifest: None,
            parent: parent.map(|p| p.record.id.clone()),
        };
        self.register(&bytes, record, &[])
    }

    /// An image of the first `entries` history entries of `target` (and
    /// the layers they made), with the run config `run`, whose parent is
    /// `parent`: a build step found in a `--cache-from` image, as dockerd's
    /// `restoreCachedImage`.
    pub fn restore_prefix(
        &self,
        target: &Image,
        entries: usize,
        run: ImageRunConfig,
        parent: Option<&Image>,
    ) -> Result<String> {
        let history: Vec<serde_json::Value> = target.config.history[..entries].to_vec();
        let layers = history
            .iter()
            .filter(|h| {
                !h.get("empty_layer")
                    .and_then(|e| e.as_bool())
                    .unwrap_or(false)
            })
            .count();
        let diff_ids = target.config.rootfs.diff_ids[..layers].to_vec();
        let digests = diff_ids
            .iter()
            .map(|d| Digest::parse(d))
            .collect::<Result<Vec<_>>>()?;
        let mut config = target.config.clone();
        config.created = history
            .last()
            .and_then(|h| h.get("created"))
            .and_then(|c| c.as_str())
            .map(String::from);
        config.config = run;
        config.history = history;
        config.rootfs.diff_ids = diff_ids;
        let blobs: Vec<LayerBlob> = target.record.layers.iter().take(layers).cloned().collect();
        let bytes = serde_json::to_vec(&config).map_err(|e| Error::internal(e.to_string()))?;
        let record = ImageRecord {
            id: String::new(),
            created: config.created.clone().unwrap_or_else(now),
            size: blobs.iter().map(|b| b.size).sum(),
            top_layer: base::digest::chain_id(&digests).map(|d| d.to_string()),
            repo_digests: vec![],
            layers: blobs,
            manifest: None,
            parent: parent.map(|p| p.record.id.clone()),
        };
        self.register(&bytes, record, &[])
    }

    /// Tags an image by id with `reference`.
    pub fn tag_id(&self, id: &str, reference: &Reference) -> Result<()> {
        // A tag that already names this image is not written again (a
        // rebuild from the cache re-tags the same image: no fsync for it).
        let key = reference.to_string();
        if self.meta.get::<String>(Table::Tags, &key)?.as_deref() != Some(id) {
            self.meta
                .update(|tx| tx.put(Table::Tags, &key, &id.to_string()))?;
        }
        self.events.publish(
            "image",
            "tag",
            id,
            serde_json::Map::from_iter([(
                "name".to_string(),
                serde_json::Value::String(reference.to_string()),
            )]),
        );
        Ok(())
    }

    /// Extracts one layer on top of `parent`, keeping its uncompressed tar
    /// as a content blob (for save and push). Blocking.
    pub fn apply_layer(
        &self,
        parent: Option<&Digest>,
        r: impl Read,
    ) -> Result<(store::snapshot::Layer, LayerBlob)> {
        let mut writer = self.content.writer()?;
        let mut r = Some(r);
        let layer = self.snaps.commit_layer(parent, &mut |dir| {
            let a = archive::apply_layer_tee(r.take().expect("one layer"), dir, Some(&mut writer))?;
            Ok((a.diff_id, a.size))
        })?;
        let digest = writer.commit(Some(&layer.diff_id))?;
        let size = std::fs::metadata(self.content.path(&digest))
            .map(|m| m.len() as i64)
            .unwrap_or(0);
        Ok((
            layer,
            LayerBlob {
                digest: digest.to_string(),
                media_type: MEDIA_LAYER_TAR.into(),
                size,
            },
        ))
    }

    /// Stores an image config blob and its record, and tags it. Returns the id.
    pub fn register(
        &self,
        config: &[u8],
        mut record: ImageRecord,
        tags: &[&Reference],
    ) -> Result<String> {
        let id = self.content.put(config)?;
        record.id = id.to_string();
        if let Some(old) = self.meta.get::<ImageRecord>(Table::Images, id.as_str())? {
            for d in old.repo_digests {
                if !record.repo_digests.contains(&d) {
                    record.repo_digests.push(d);
                }
            }
        }
        self.meta.update(|tx| {
            tx.put(Table::Images, id.as_str(), &record)?;
            for r in tags {
                tx.put(Table::Tags, &r.to_string(), &id.to_string())?;
            }
            Ok(())
        })?;
        Ok(id.to_string())
    }

    /// The content store (for save, push and load).
    pub fn content(&self) -> &ContentStore {
        &self.content
    }

    /// Whether a committed layer exists.
    pub fn has_layer(&self, chain: &Digest) -> bool {
        self.snaps.exists(chain)
    }

    fn get_by_id(&self, id: &str) -> Result<Option<Image>> {
        let Some(record) = self.meta.get::<ImageRecord>(Table::Images, id)? else {
            return Ok(None);
        };
        let blob = self.content.get(&Digest::parse(&record.id)?)?;
        let config = serde_json::from_slice(&blob)
            .map_err(|e| Error::internal(format!("image config {id}: {e}")))?;
        Ok(Some(Image { record, config }))
    }

    /// Finds an image by reference, full id, or unique id prefix.
    pub fn resolve(&self, name: &str) -> Result<Image> {
        let no_such = || Error::not_found(format!("No such image: {name}"));
        let hexpart = name.strip_prefix("sha256:").unwrap_or(name);
        if hexpart.len() == 64 && base::id::is_hex_prefix(hexpart) {
            if let Some(i) = self.get_by_id(&format!("sha256:{hexpart}"))? {
                return Ok(i);
            }
        }
        if let Ok(r) = Reference::parse_tagged(name) {
            if let Some(id) = self.meta.get::<String>(Table::Tags, &r.to_string())? {
                return self.get_by_id(&id)?.ok_or_else(no_such);
            }
        }
        if base::id::is_hex_prefix(hexpart) && hexpart.len() >= 4 {
            let ids: Vec<String> = self
                .meta
                .list::<ImageRecord>(Table::Images)?
                .into_iter()
                .map(|(k, _)| k)
                .filter(|k| k[7..].starts_with(hexpart))
                .collect();
            if ids.len() == 1 {
                return self.get_by_id(&ids[0])?.ok_or_else(no_such);
            }
        }
        Err(no_such())
    }

    /// Whether image `id` (`sha256:...`) exists; one metadata lookup.
    pub fn has_image(&self, id: &str) -> bool {
        self.meta
            .get::<ImageRecord>(Table::Images, id)
            .is_ok_and(|r| r.is_some())
    }

    /// Whether `name` (as a container was created from) still names image
    /// `id`; cheap for a tag or a full id (no config is read).
    pub fn names_image(&self, name: &str, id: &str) -> bool {
        let hexpart = name.strip_prefix("sha256:").unwrap_or(name);
        if hexpart.len() == 64 {
            return id.strip_prefix("sha256:") == Some(hexpart) && self.has_image(id);
        }
        if let Ok(r) = Reference::parse_tagged(name) {
            if let Ok(Some(tagged)) = self.meta.get::<String>(Table::Tags, &r.to_string()) {
                return tagged == id;
            }
        }
        self.resolve(name).is_ok_and(|i| i.record.id == id)
    }

    /// Tags of each image id, familiar form (`busybox:latest`).
    fn tags_by_image(&self) -> Result<std::collections::BTreeMap<String, Vec<String>>> {
        let mut m: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (r, id) in self.meta.list::<String>(Table::Tags)? {
            let familiar = Reference::parse(&r).map(|r| r.familiar()).unwrap_or(r);
            m.entry(id).or_default().push(familiar);
        }
        Ok(m)
    }

    pub fn repo_tags(&self, id: &str) -> Result<Vec<String>> {
        Ok(self.tags_by_image()?.remove(id).unwrap_or_default())
    }

    /// `GET /images/json`. `containers` counts containers per image id.
    pub fn list(
        &self,
        all: bool,
        filters: &crate::containers::Filters,
        containers: &dyn Fn(&str) -> i64,
    ) -> Result<Vec<ImageSummary>> {
        let tags = self.tags_by_image()?;
        let mut out = Vec::new();
        // `before`/`since` name an image; keep those created before/after it.
        let created_of = |name: &str| -> Result<i64> {
            let i = self.resolve(name)?;
            Ok(chrono::DateTime::parse_from_rfc3339(&i.record.created)
                .map(|t| t.timestamp_nanos_opt().unwrap_or(0))
                .unwrap_or(0))
        };
        let before = filters
            .get("before")
            .and_then(|v| v.first())
            .map(|n| created_of(n))
            .transpose()?;
        let since = filters
            .get("since")
            .and_then(|v| v.first())
            .map(|n| created_of(n))
            .transpose()?;
        let records = self.meta.list::<ImageRecord>(Table::Images)?;
        // Intermediate images (untagged parents of others) are not listed
        // unless `all`, as dockerd.
        let parents: std::collections::HashSet<String> = records
            .iter()
            .filter_map(|(_, r)| r.parent.clone())
            .collect();
        // How many images use each layer: `SharedSize` is the size of the
        // layers an image shares with others.
        let mut users: std::collections::HashMap<String, usize> = Default::default();
        for (_, r) in &records {
            for l in &r.layers {
                *users.entry(l.digest.clone()).or_default() += 1;
            }
        }
        for (id, rec) in records {
            if !all && parents.contains(&id) && !tags.contains_key(&id) {
                continue;
            }
            let nanos = chrono::DateTime::parse_from_rfc3339(&rec.created)
                .map(|t| t.timestamp_nanos_opt().unwrap_or(0))
                .unwrap_or(0);
            if before.is_some_and(|b| nanos >= b) || since.is_some_and(|s| nanos <= s) {
                continue;
            }
            let repo_tags = tags.get(&id).cloned().unwrap_or_default();
            let img = match self.get_by_id(&id)? {
                Some(i) => i,
                None => continue,
            };
            if let Some(d) = filters.get("dangling") {
                let want = d.iter().any(|v| v == "true" || v == "1");
                if want != repo_tags.is_empty() {
                    continue;
                }
            }
            if let Some(refs) = filters.get("reference") {
                if !refs
                    .iter()
                    .any(|pat| repo_tags.iter().any(|t| reference_matches(pat, t)))
                {
                    continue;
                }
            }
            if !crate::containers::labels_match(filters.get("label"), &img.config.config.labels) {
                continue;
            }
            let created = chrono::DateTime::parse_from_rfc3339(&rec.created)
                .map(|t| t.timestamp())
                .unwrap_or(0);
            out.push(ImageSummary {
                id: id.clone(),
                parent_id: rec.parent.clone().unwrap_or_default(),
                repo_tags,
                repo_digests: rec.repo_digests.clone(),
                created,
                size: rec.size,
                shared_size: {
                    // The share of the image's size in shared layers (the
                    // record keeps the layers' blob sizes, the image's
                    // unpacked size).
                    let total: i64 = rec.layers.iter().map(|l| l.size).sum();
                    let shared: i64 = rec
                        .layers
                        .iter()
                        .filter(|l| users.get(&l.digest).is_some_and(|n| *n > 1))
                        .map(|l| l.size)
                        .sum();
                    if total > 0 {
                        (rec.size as i128 * shared as i128 / total as i128) as i64
                    } else {
                        0
                    }
                },
                virtual_size: rec.size,
                labels: img.config.config.labels.clone(),
                containers: containers(&id),
            });
        }
        out.sort_by_key(|i| std::cmp::Reverse(i.created));
        Ok(out)
    }

    /// That `name` exists and, when `platforms` (JSON OCI platforms, as
    /// the API's `platform` parameters) are given, is of one of them.
    pub fn check_platforms(&self, name: &str, platforms: &[String]) -> Result<()> {
        let img = self.resolve(name)?;
        if platforms.is_empty() {
            return Ok(());
        }
        let c = &img.config;
        let have = distribution::Platform::new(&c.os, &c.architecture, c.variant.as_deref());
        let mut wanted = Vec::new();
        for p in platforms {
            let p: distribution::Platform = serde_json::from_str(p)
                .map_err(|e| Error::invalid(format!("invalid platform {p}: {e}")))?;
            if p.match_rank(&have).is_some() {
                return Ok(());
            }
            wanted.push(p.normalize().to_string());
        }
        Err(Error::not_found(format!(
            "image with reference {name} was found but does not provide the specified platform ({})",
            wanted.join(", ")
        )))
    }

    /// `GET /images/{name}/history`, newest first.
    pub fn history(&self, name: &str) -> Result<serde_json::Value> {
        let img = self.resolve(name)?;
        let mut sizes = img.record.layers.iter().map(|l| l.size);
        let mut rows = Vec::new();
        for h in &img.config.history {
            let empty = h["empty_layer"].as_bool().unwrap_or(false);
            let created = h["created"]
                .as_str()
                .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
                .map(|t| t.timestamp())
                .unwrap_or(0);
            rows.push(serde_json::json!({
                "Id": "<missing>",
                "Created": created,
                "CreatedBy": h["created_by"].as_str().unwrap_or_default(),
                "Tags": null,
                "Size": if empty { 0 } else { sizes.next().unwrap_or(0) },
                "Comment": h["comment"].as_str().unwrap_or_default(),
            }));
        }
        rows.reverse();
        // The ids (and tags) of the local parent chain, row by row from the
        // top, as dockerd fills them: a build's intermediate images and the
        // base it was built on; `<missing>` past the first unknown parent.
        let mut cur = Some(img);
        for row in rows.iter_mut() {
            let Some(i) = cur.take() else { break };
            let tags = self.repo_tags(&i.record.id)?;
            row["Id"] = serde_json::json!(i.record.id);
            row["Tags"] = if tags.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::json!(tags)
            };
            cur = match &i.record.parent {
                Some(p) => self.get_by_id(p)?,
                None => None,
            };
        }
        Ok(serde_json::Value::Array(rows))
    }

    /// `POST /images/prune`: removes dangling images (all unused with
    /// `dangling=false`) that no container uses.
    pub fn prune(
        &self,
        filters: &crate::containers::Filters,
        in_use: &dyn Fn(&str) -> ImageUser,
    ) -> Result<serde_json::Value> {
        let all = filters
            .get("dangling")
            .is_some_and(|v| v.iter().any(|x| x == "false" || x == "0"));
        let tags = self.tags_by_image()?;
        let mut deleted = Vec::new();
        let mut reclaimed = 0i64;
        for (id, rec) in self.meta.list::<ImageRecord>(Table::Images)? {
            let tagged = tags.get(&id).is_some_and(|t| !t.is_empty());
            if (tagged && !all) || in_use(&id).is_some() {
                continue;
            }
            if let Some(img) = self.get_by_id(&id)? {
                if !crate::containers::labels_match(filters.get("label"), &img.config.config.labels)
                {
                    continue;
                }
            }
            for d in self.remove(&id, true, in_use)? {
                deleted.push(serde_json::to_value(&d).unwrap_or_default());
            }
            reclaimed += rec.size;
        }
        Ok(
            serde_json::json!({"ImagesDeleted": if deleted.is_empty() { serde_json::Value::Null } else { deleted.into() }, "SpaceReclaimed": reclaimed}),
        )
    }

    /// Total size of the stored layers.
    pub fn layers_size(&self) -> Result<i64> {
        let mut seen = std::collections::HashSet::new();
        let mut total = 0;
        for (_, rec) in self.meta.list::<ImageRecord>(Table::Images)? {
            if let Some(t) = rec.top_layer {
                if seen.insert(t) {
                    total += rec.size;
                }
            }
        }
        Ok(total)
    }

    /// `GET /images/{name}/json`.
    pub fn inspect(&self, name: &str) -> Result<api_types::ImageInspect> {
        let img = self.resolve(name)?;
        let c = &img.config;
        Ok(api_types::ImageInspect {
            id: img.record.id.clone(),
            repo_tags: self.repo_tags(&img.record.id)?,
            repo_digests: img.record.repo_digests.clone(),
            parent: img.record.parent.clone().unwrap_or_default(),
            comment: c.comment.clone().unwrap_or_default(),
            created: img.record.created.clone(),
            docker_version: String::new(),
            author: c.author.clone().unwrap_or_default(),
            config: (&c.config).into(),
            container: c.container.clone(),
            container_config: c.container_config.as_ref().map(Into::into),
            architecture: c.architecture.clone(),
            variant: c.variant.clone(),
            os: c.os.clone(),
            os_version: None,
            size: img.record.size,
            graph_driver: api_types::DriverData {
                name: "overlay2".into(),
                data: [("UpperDir".to_string(), String::new())].into(),
            },
            root_fs: api_types::ImageRootFs {
                kind: "layers".into(),
                layers: c.rootfs.diff_ids.clone(),
            },
            metadata: api_types::ImageMetadata {
                last_tag_time: "0001-01-01T00:00:00Z".into(),
            },
        })
    }

    /// `POST /images/{name}/tag`.
    pub fn tag(&self, source: &str, repo: &str, tag: &str) -> Result<()> {
        let img = self.resolve(source)?;
        let target = if tag.is_empty() {
            repo.to_string()
        } else {
            format!("{repo}:{tag}")
        };
        let r = Reference::parse_tagged(&target)?;
        if r.digest.is_some() {
            return Err(Error::invalid(
                "refusing to create a tag with a digest reference",
            ));
        }
        self.meta.put(Table::Tags, &r.to_string(), &img.record.id)?;
        self.image_event("tag", &img.record.id, &r.familiar());
        Ok(())
    }

    /// `DELETE /images/{name}`. `in_use` tells whether a container uses an image id.
    pub fn remove(
        &self,
        name: &str,
        force: bool,
        in_use: &dyn Fn(&str) -> ImageUser,
    ) -> Result<Vec<Deleted>> {
        let img = self.resolve(name)?;
        let id = img.record.id.clone();
        let tags: Vec<String> = self
            .meta
            .list::<String>(Table::Tags)?
            .into_iter()
            .filter(|(_, v)| *v == id)
            .map(|(k, _)| k)
            .collect();
        let by_ref = Reference::parse_tagged(name)
            .ok()
            .map(|r| r.to_string())
            .filter(|r| tags.contains(r));
        let mut out = Vec::new();
        // Removing one of several tags only untags.
        if let Some(r) = &by_ref {
            if tags.len() > 1 {
                self.meta.delete(Table::Tags, r)?;
                out.push(Deleted::Untagged(Reference::parse(r)?.familiar()));
                self.publish_deleted(&id, &out);
                return Ok(out);
            }
        }
        // As dockerd: a running container's image cannot be deleted, even
        // forced (a forced removal by name only untags it); a stopped
        // container's can be, forced.
        let user = in_use(&id);
        if let Some((c, running)) = &user {
            // By name a forced removal goes on (it only untags the image of
            // a running container); by id a running one's image stays.
            if !force || (*running && by_ref.is_none()) {
                let (short, c) = (&id[7..19], &c[..12]);
                return Err(Error::conflict(match &by_ref {
                    Some(r) => format!(
                        "conflict: unable to remove repository reference \"{}\" (must force) - container {c} is using its referenced image {short}",
                        Reference::parse(r)?.familiar(),
                    ),
                    None if *running => format!("conflict: unable to delete {short} (cannot be forced) - image is being used by running container {c}"),
                    None => format!("conflict: unable to delete {short} (must be forced) - image is being used by stopped container {c}"),
                }));
            }
        }
        if by_ref.is_none() && tags.len() > 1 && !force {
            return Err(Error::conflict(format!(
                "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                &id[7..19]
            )));
        }
        let delete = !user.as_ref().is_some_and(|(_, running)| *running);
        self.meta.update(|tx| {
            for t in &tags {
                tx.delete(Table::Tags, t)?;
            }
            if delete {
                tx.delete(Table::Images, &id)?;
            }
            Ok(())
        })?;
        for t in &tags {
            out.push(Deleted::Untagged(Reference::parse(t)?.familiar()));
        }
        if delete {
            self.release(&img)?;
            out.push(Deleted::Deleted(id.clone()));
            out.extend(self.prune_parents(img.record.parent.clone(), in_use)?);
        }
        self.publish_deleted(&id, &out);
        Ok(out)
    }

    /// After an image went: its parents that are untagged, unused and now
    /// childless go too, up the chain (dockerd's rmi without `--no-prune`).
    fn prune_parents(
        &self,
        mut parent: Option<String>,
        in_use: &dyn Fn(&str) -> ImageUser,
    ) -> Result<Vec<Deleted>> {
        let mut out = Vec::new();
        while let Some(p) = parent.take() {
            let records = self.meta.list::<ImageRecord>(Table::Images)?;
            let tagged = self
                .meta
                .list::<String>(Table::Tags)?
                .iter()
                .any(|(_, v)| *v == p);
            let has_child = records
                .iter()
                .any(|(_, r)| r.parent.as_deref() == Some(p.as_str()));
            if tagged || has_child || in_use(&p).is_some() {
                break;
            }
            let Some(img) = self.get_by_id(&p)? else {
                break;
            };
            self.meta
                .update(|tx| tx.delete(Table::Images, &p).map(|_| ()))?;
            self.release(&img)?;
            out.push(Deleted::Deleted(p.clone()));
            parent = img.record.parent.clone();
        }
        Ok(out)
    }

    fn publish_deleted(&self, id: &str, out: &[Deleted]) {
        for d in out {
            match d {
                Deleted::Untagged(r) => self.image_event("untag", id, r),
                Deleted::Deleted(i) => self.image_event("delete", i, ""),
            }
        }
    }

    /// Removes the image's config blob and the layers no other image uses.
    fn release(&self, img: &Image) -> Result<()> {
        let others: Vec<ImageRecord> = self
            .meta
            .list::<ImageRecord>(Table::Images)?
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        // Layers other images still use, each config read once.
        let mut in_use = std::collections::HashSet::new();
        for o in &others {
            if let Some(i) = self.get_by_id(&o.id)? {
                in_use.extend(base::digest::chain_ids(&diff_ids_of(&i.config)));
            }
        }
        let held = self.snaps.held_layers();
        for chain in base::digest::chain_ids(&diff_ids_of(&img.config))
            .iter()
            .rev()
        {
            if held.contains(chain) {
                self.deferred.lock().unwrap().insert(chain.clone());
            } else if !in_use.contains(chain) {
                self.snaps.remove_layer(chain)?;
            }
        }
        for l in &img.record.layers {
            let shared = others
                .iter()
                .any(|o| o.layers.iter().any(|x| x.digest == l.digest));
            if !shared {
                self.content.delete(&Digest::parse(&l.digest)?)?;
            }
        }
        self.content.delete(&Digest::parse(&img.record.id)?)
    }

    /// At start: the layers containers hold that no image uses (their
    /// image was deleted under them) are released with their containers,
    /// as if deleted in this run.
    pub(crate) fn adopt_deferred_layers(&self) -> Result<()> {
        let held = self.snaps.held_layers();
        if held.is_empty() {
            return Ok(());
        }
        let used = self.image_layers()?;
        self.deferred
            .lock()
            .unwrap()
            .extend(held.into_iter().filter(|c| !used.contains(c)));
        Ok(())
    }

    /// The chain ids of every image's layers.
    fn image_layers(&self) -> Result<std::collections::HashSet<Digest>> {
        let mut used = std::collections::HashSet::new();
        for (id, _) in self.meta.list::<ImageRecord>(Table::Images)? {
            if let Some(i) = self.get_by_id(&id)? {
                used.extend(base::digest::chain_ids(&diff_ids_of(&i.config)));
            }
        }
        Ok(used)
    }

    /// Removes the layers kept for containers of deleted images that no
    /// container holds and no image uses any more; called when a
    /// container's snapshot is gone. Nothing to do, and no cost, otherwise.
    pub fn release_deferred_layers(&self) -> Result<()> {
        let pending: Vec<Digest> = {
            let d = self.deferred.lock().unwrap();
            if d.is_empty() {
                return Ok(());
            }
            d.iter().cloned().collect()
        };
        let held = self.snaps.held_layers();
        let used = self.image_layers()?;
        for chain in pending.iter().filter(|c| !held.contains(*c)) {
            if !used.contains(chain) {
                self.snaps.remove_layer(chain)?;
            }
            self.deferred.lock().unwrap().remove(chain);
        }
        Ok(())
    }

    /// Number of images.
    pub fn count(&self) -> Result<usize> {
        Ok(self.meta.list::<ImageRecord>(Table::Images)?.len())
    }
}

/// The diff ids of an image config, skipping malformed entries.
fn diff_ids_of(c: &ImageConfigBlob) -> Vec<Digest> {
    c.rootfs
        .diff_ids
        .iter()
        .filter_map(|d| Digest::parse(d).ok())
        .collect()
}

/// Docker's `reference` filter: a glob on the familiar name, with or without tag.
fn reference_matches(pattern: &str, tag: &str) -> bool {
    fn glob(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => {
                glob(&p[1..], s) || (!s.is_empty() && s[0] != b'/' && glob(p, &s[1..]))
            }
            (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let name = tag
        .rsplit_once(':')
        .filter(|(_, t)| !t.contains('/'))
        .map(|(n, _)| n)
        .unwrap_or(tag);
    glob(pattern.as_bytes(), tag.as_bytes()) || glob(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reference_filter() {
        assert!(super::reference_matches("busybox", "busybox:latest"));
        assert!(super::reference_matches("busy*", "busybox:latest"));
        assert!(super::reference_matches("busybox:latest", "busybox:latest"));
        assert!(!super::reference_matches("alpine", "busybox:latest"));
    }
}
