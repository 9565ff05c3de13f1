//! The volume service: named and anonymous volumes as records in the
//! metadata database, their data through a [`VolumeDriver`] (the `local`
//! driver today), which containers use them (a volume in use cannot be
//! removed) and which running containers have them mounted (a driver mount
//! is made for the first and undone after the last). Knows nothing of HTTP
//! or containers beyond their ids.

pub mod driver;

use api_types::volume::{
    Volume, VolumeCreateOptions, VolumeListResponse, VolumePruneResponse, VolumeUsageData,
};
use api_types::Labels;
use base::filters::labels_match;
use base::{Error, Result};
use driver::VolumeDriver;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use store::metadata::{Metadata, Table};

/// The label dockerd puts on anonymous volumes.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// A volume as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VolumeRecord {
    pub name: String,
    pub driver: String,
    pub created_at: String,
    pub labels: Labels,
    pub options: BTreeMap<String, String>,
}

impl VolumeRecord {
    pub fn anonymous(&self) -> bool {
        self.labels.contains_key(ANONYMOUS_LABEL)
    }
}

#[derive(Default)]
struct State {
    vols: BTreeMap<String, VolumeRecord>,
    /// volume → containers whose config uses it
    users: BTreeMap<String, BTreeSet<String>>,
    /// volume → running containers that have it mounted
    mounted: BTreeMap<String, BTreeSet<String>>,
}

pub struct VolumeService {
    meta: Arc<Metadata>,
    driver: Arc<dyn VolumeDriver>,
    state: Mutex<State>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Docker's volume name rule, with its messages.
pub fn check_name(name: &str) -> Result<()> {
    if name.len() < 2 {
        return Err(Error::invalid(format!(
            "create {name}: volume name is too short, names should be at least two alphanumeric characters"
        )));
    }
    let b = name.as_bytes();
    let ok = b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    if !ok {
        return Err(Error::invalid(format!(
            "create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
        )));
    }
    Ok(())
}

fn dir_size(p: &std::path::Path) -> i64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len() as i64,
            Err(_) => 0,
        })
        .sum()
}

impl VolumeService {
    /// Loads the volume records.
    pub fn open(meta: Arc<Metadata>, driver: Arc<dyn VolumeDriver>) -> Result<VolumeService> {
        let vols = meta
            .list::<VolumeRecord>(Table::Volumes)?
            .into_iter()
            .collect();
        Ok(VolumeService {
            meta,
            driver,
            state: Mutex::new(State {
                vols,
                ..Default::default()
            }),
        })
    }

    fn view(&self, st: &State, r: &VolumeRecord, usage: bool) -> Volume {
        Volume {
            name: r.name.clone(),
            driver: r.driver.clone(),
            mountpoint: self.driver.path(&r.name).display().to_string(),
            created_at: r.created_at.clone(),
            status: None,
            labels: r.labels.clone(),
            scope: "local".into(),
            options: r.options.clone(),
            usage_data: usage.then(|| VolumeUsageData {
                size: dir_size(&self.driver.path(&r.name)),
                ref_count: st.users.get(&r.name).map(|u| u.len() as i64).unwrap_or(0),
            }),
        }
    }

    /// `POST /volumes/create`: an existing volume of that name is returned
    /// as is (as dockerd), unless it was asked for with another driver.
    pub fn create(&self, req: VolumeCreateOptions) -> Result<Volume> {
        if req.cluster_volume_spec.is_some() {
            return Err(Error::invalid(
                "cluster volumes need swarm mode, which berth does not have",
            ));
        }
        let mut labels = req.labels;
        let name = if req.name.is_empty() {
            // Nameless is anonymous, as dockerd (23+) marks it.
            labels.insert(ANONYMOUS_LABEL.to_string(), String::new());
            base::id::random_id()
        } else {
            check_name(&req.name)?;
            req.name.clone()
        };
        let driver = if req.driver.is_empty() {
            "local".to_string()
        } else {
            req.driver.clone()
        };
        let rec = self.ensure(&name, &driver, labels, req.driver_opts)?;
        let st = self.state.lock().unwrap();
        Ok(self.view(&st, &rec, false))
    }

    /// Returns the volume `name`, creating it (with `labels` and `opts`)
    /// when it does not exist.
    pub fn ensure(
        &self,
        name: &str,
        driver: &str,
        labels: Labels,
        opts: BTreeMap<String, String>,
    ) -> Result<VolumeRecord> {
        if driver != self.driver.name() {
            return Err(Error::not_found(format!(
                "error looking up volume plugin {driver}: plugin \"{driver}\" not found"
            )));
        }
        let mut st = self.state.lock().unwrap();
        if let Some(r) = st.vols.get(name) {
            return Ok(r.clone());
        }
        check_name(name)?;
        self.driver.validate(&opts)?;
        self.driver.create(name, &opts)?;
        let rec = VolumeRecord {
            name: name.to_string(),
            driver: driver.to_string(),
            created_at: now(),
            labels,
            options: opts,
        };
        if let Err(e) = self.meta.put(Table::Volumes, name, &rec) {
            let _ = self.driver.remove(name);
            return Err(e);
        }
        st.vols.insert(name.to_string(), rec.clone());
        Ok(rec)
    }

    /// A new anonymous volume (a random 64-hex name).
    pub fn anonymous(&self) -> Result<VolumeRecord> {
        let labels: Labels = [(ANONYMOUS_LABEL.to_string(), String::new())].into();
        self.ensure(&base::id::random_id(), "local", labels, BTreeMap::new())
    }

    /// `GET /volumes/{name}`.
    pub fn inspect(&self, name: &str) -> Result<Volume> {
        let st = self.state.lock().unwrap();
        let r = st
            .vols
            .get(name)
            .ok_or_else(|| Error::not_found(format!("get {name}: no such volume")))?;
        Ok(self.view(&st, r, false))
    }

    /// The record of a volume.
    pub fn get(&self, name: &str) -> Option<VolumeRecord> {
        self.state.lock().unwrap().vols.get(name).cloned()
    }

    /// `GET /volumes` with Docker's filters (`name`, `label`, `dangling`, `driver`).
    pub fn list(&self, filters: &BTreeMap<String, Vec<String>>) -> Result<VolumeListResponse> {
        for k in filters.keys() {
            if !matches!(k.as_str(), "name" | "label" | "dangling" | "driver") {
                return Err(Error::invalid(format!("invalid filter '{k}'")));
            }
        }
        let st = self.state.lock().unwrap();
        let mut volumes = Vec::new();
        for r in st.vols.values() {
            let used = st.users.get(&r.name).is_some_and(|u| !u.is_empty());
            let ok = filters
                .get("name")
                .is_none_or(|v| v.iter().any(|n| r.name.contains(n.as_str())))
                && filters.get("driver").is_none_or(|v| v.contains(&r.driver))
                && labels_match(filters.get("label"), &r.labels)
                && filters
                    .get("dangling")
                    .is_none_or(|v| v.iter().any(|d| (d == "true" || d == "1") != used));
            if ok {
                volumes.push(self.view(&st, r, false));
            }
        }
        Ok(VolumeListResponse {
            volumes,
            warnings: vec![],
        })
    }

    /// `DELETE /volumes/{name}`: refused while a container uses it, even
    /// with `force` (which only makes a missing volume no error), as dockerd.
    pub fn remove(&self, name: &str, force: bool) -> Result<()> {
        let mut st = self.state.lock().unwrap();
        if !st.vols.contains_key(name) {
            return if force {
                Ok(())
            } else {
                Err(Error::not_found(format!("get {name}: no such volume")))
            };
        }
        if let Some(u) = st.users.get(name).filter(|u| !u.is_empty()) {
            return Err(Error::conflict(format!(
                "remove {name}: volume is in use - [{}]",
                u.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        self.meta.delete(Table::Volumes, name)?;
        st.vols.remove(name);
        st.users.remove(name);
        drop(st);
        self.driver.remove(name)
    }

    /// `POST /volumes/prune`: unused volumes matching `label`/`label!`;
    /// anonymous ones only unless `all` (API ≥ 1.42; older clients get all).
    pub fn prune(
        &self,
        filters: &BTreeMap<String, Vec<String>>,
        all: bool,
    ) -> Result<VolumePruneResponse> {
        for k in filters.keys() {
            if !matches!(k.as_str(), "label" | "label!" | "all") {
                return Err(Error::invalid(format!("invalid filter '{k}'")));
            }
        }
        let candidates: Vec<String> = {
            let st = self.state.lock().unwrap();
            st.vols
                .values()
                .filter(|r| st.users.get(&r.name).is_none_or(|u| u.is_empty()))
                .filter(|r| all || r.anonymous())
                .filter(|r| labels_match(filters.get("label"), &r.labels))
                .filter(|r| {
                    !filters.get("label!").is_some_and(|not| {
                        not.iter()
                            .any(|f| labels_match(Some(&vec![f.clone()]), &r.labels))
                    })
                })
                .map(|r| r.name.clone())
                .collect()
        };
        let mut deleted = Vec::new();
        let mut reclaimed = 0;
        for name in candidates {
            let size = dir_size(&self.driver.path(&name));
            if self.remove(&name, false).is_ok() {
                deleted.push(name);
                reclaimed += size;
            }
        }
        // An empty list, not null, as dockerd.
        Ok(VolumePruneResponse {
            volumes_deleted: Some(deleted),
            space_reclaimed: reclaimed,
        })
    }

    /// Records that container `cid` uses volume `name`.
    pub fn reference(&self, name: &str, cid: &str) {
        self.state
            .lock()
            .unwrap()
            .users
            .entry(name.to_string())
            .or_default()
            .insert(cid.to_string());
    }

    /// Container `cid` no longer uses volume `name`.
    pub fn unreference(&self, name: &str, cid: &str) {
        let mut st = self.state.lock().unwrap();
        if let Some(u) = st.users.get_mut(name) {
            u.remove(cid);
        }
    }

    /// Makes a volume's data available for the running container `cid`
    /// (the driver's mount for the first one) and returns its directory.
    pub fn mount(&self, name: &str, cid: &str) -> Result<PathBuf> {
        let mut st = self.state.lock().unwrap();
        let rec = st
            .vols
            .get(name)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("get {name}: no such volume")))?;
        let users = st.mounted.entry(name.to_string()).or_default();
        if users.is_empty() {
            self.driver.mount(name, &rec.options)?;
        }
        users.insert(cid.to_string());
        Ok(self.driver.path(name))
    }

    /// After a daemon restart: the running container `cid` has the volume
    /// mounted already (its driver mount outlived the daemon).
    pub fn adopt(&self, name: &str, cid: &str) {
        self.state
            .lock()
            .unwrap()
            .mounted
            .entry(name.to_string())
            .or_default()
            .insert(cid.to_string());
    }

    /// Container `cid` stopped: the driver's mount goes with the last
    /// user. Whether `cid` had it mounted.
    pub fn unmount(&self, name: &str, cid: &str) -> Result<bool> {
        let mut st = self.state.lock().unwrap();
        let Some(users) = st.mounted.get_mut(name) else {
            return Ok(false);
        };
        let had = users.remove(cid);
        if had && users.is_empty() {
            if let Some(rec) = st.vols.get(name) {
                self.driver.unmount(name, &rec.options)?;
            }
        }
        Ok(had)
    }

    /// Where a volume's data is.
    pub fn path(&self, name: &str) -> PathBuf {
        self.driver.path(name)
    }

    /// (count, in use, size in bytes) for `system df`.
    pub fn usage(&self) -> Vec<Volume> {
        let st = self.state.lock().unwrap();
        st.vols.values().map(|r| self.view(&st, r, true)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc() -> (tempfile::TempDir, VolumeService) {
        let t = tempfile::tempdir().unwrap();
        let meta = Arc::new(Metadata::open(&t.path().join("m.db")).unwrap());
        let d = Arc::new(driver::Local::new(&t.path().join("volumes")).unwrap());
        (t, VolumeService::open(meta, d).unwrap())
    }

    #[test]
    fn names_create_use_and_remove() {
        let (_t, s) = svc();
        assert!(check_name("a").unwrap_err().message.contains("too short"));
        assert!(check_name("a/b")
            .unwrap_err()
            .message
            .contains("invalid characters"));
        let v = s
            .create(VolumeCreateOptions {
                name: "data".into(),
                ..Default::default()
            })
            .unwrap();
        assert!(v.mountpoint.ends_with("volumes/data/_data"));
        s.reference("data", "c1");
        let e = s.remove("data", true).unwrap_err();
        assert_eq!(e.kind, base::ErrorKind::Conflict);
        assert_eq!(e.message, "remove data: volume is in use - [c1]");
        let dangling: BTreeMap<String, Vec<String>> =
            [("dangling".to_string(), vec!["true".to_string()])].into();
        assert!(s.list(&dangling).unwrap().volumes.is_empty());
        s.unreference("data", "c1");
        assert_eq!(s.list(&dangling).unwrap().volumes.len(), 1);
        let anon = s.anonymous().unwrap();
        assert_eq!(anon.name.len(), 64);
        // Prune takes anonymous volumes only, unless all.
        let p = s.prune(&BTreeMap::new(), false).unwrap();
        assert_eq!(p.volumes_deleted, Some(vec![anon.name.clone()]));
        let p = s.prune(&BTreeMap::new(), true).unwrap();
        assert_eq!(p.volumes_deleted, Some(vec!["data".to_string()]));
        let p = s.prune(&BTreeMap::new(), true).unwrap();
        assert_eq!(p.volumes_deleted, Some(vec![]));
        let nameless = s.create(VolumeCreateOptions::default()).unwrap();
        assert!(nameless.labels.contains_key(ANONYMOUS_LABEL));
        assert!(s
            .remove("data", false)
            .unwrap_err()
            .message
            .contains("no such volume"));
        assert!(s.remove("data", true).is_ok());
    }
}
