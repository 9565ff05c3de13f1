//! The metadata database: redb (pure Rust, ACID, one file), holding JSON
//! records in a few tables. Why redb over SQLite: no C dependency, typed
//! tables, and our access is key-value shaped.

use base::{Error, Result};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{de::DeserializeOwned, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, RwLockReadGuard};

/// The tables of the metadata database.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    /// image id → image record
    Images,
    /// normalized reference → image id
    Tags,
    /// container id → container record
    Containers,
    /// container name (without `/`) → container id
    Names,
    /// network id → network record
    Networks,
    /// `<network id>/<container id>` → endpoint record
    Endpoints,
    /// volume name → volume record
    Volumes,
    /// build step cache key → image id
    BuildCache,
}

impl Table {
    fn def(self) -> TableDefinition<'static, &'static str, &'static [u8]> {
        TableDefinition::new(match self {
            Table::Images => "images",
            Table::Tags => "tags",
            Table::Containers => "containers",
            Table::Names => "names",
            Table::Networks => "networks",
            Table::Endpoints => "endpoints",
            Table::Volumes => "volumes",
            Table::BuildCache => "build_cache",
        })
    }
    const ALL: [Table; 8] = [
        Table::Images,
        Table::Tags,
        Table::Containers,
        Table::Names,
        Table::Networks,
        Table::Endpoints,
        Table::Volumes,
        Table::BuildCache,
    ];
}

fn json_err(e: serde_json::Error) -> Error {
    Error::internal(format!("metadata database: {e}"))
}

/// The database handle, replaced after an I/O error: redb refuses all work on
/// a handle once a write failed (a full disk), until it is opened again.
struct Inner {
    path: PathBuf,
    db: RwLock<Option<redb::Database>>,
    /// Set by an I/O error; the next call reopens the database first.
    broken: AtomicBool,
}

impl Inner {
    /// Converts a redb error, noting an I/O failure for the next call.
    fn fail(&self, e: impl Into<redb::Error>) -> Error {
        match e.into() {
            redb::Error::Io(io) => {
                self.broken.store(true, Ordering::Release);
                Error::io("metadata database", io)
            }
            e @ redb::Error::PreviousIo => {
                self.broken.store(true, Ordering::Release);
                Error::internal(format!("metadata database: {e}"))
            }
            e => Error::internal(format!("metadata database: {e}")),
        }
    }

    /// The current handle, reopened first if an I/O error broke it. Reopening
    /// recovers to the last durable commit, as after a crash.
    fn db(&self) -> Result<RwLockReadGuard<'_, Option<redb::Database>>> {
        if self.broken.load(Ordering::Acquire) {
            let mut slot = self.db.write().unwrap();
            if self.broken.load(Ordering::Acquire) {
                // The old handle holds the file's lock: close it first.
                drop(slot.take());
                let db = redb::Database::create(&self.path).map_err(|e| self.fail(e))?;
                *slot = Some(db);
                self.broken.store(false, Ordering::Release);
                tracing::warn!(path = %self.path.display(), "metadata database reopened after an I/O error");
            }
        }
        let g = self.db.read().unwrap();
        if g.is_none() {
            return Err(Error::internal("metadata database: not open"));
        }
        Ok(g)
    }
}

pub struct Metadata {
    inner: Arc<Inner>,
    /// Set when a grouped commit awaits its fsync; the flusher thread clears it.
    flush: Arc<(Mutex<bool>, Condvar)>,
}

/// A write transaction: everything in it commits together or not at all.
pub struct Txn<'a> {
    txn: redb::WriteTransaction,
    inner: &'a Inner,
}

impl Txn<'_> {
    pub fn put<T: Serialize>(&mut self, t: Table, key: &str, v: &T) -> Result<()> {
        let bytes = serde_json::to_vec(v).map_err(json_err)?;
        self.txn
            .open_table(t.def())
            .map_err(|e| self.inner.fail(e))?
            .insert(key, bytes.as_slice())
            .map_err(|e| self.inner.fail(e))?;
        Ok(())
    }

    pub fn get<T: DeserializeOwned>(&self, t: Table, key: &str) -> Result<Option<T>> {
        let table = self
            .txn
            .open_table(t.def())
            .map_err(|e| self.inner.fail(e))?;
        let v = table.get(key).map_err(|e| self.inner.fail(e))?;
        v.map(|g| serde_json::from_slice(g.value()).map_err(json_err))
            .transpose()
    }

    pub fn delete(&mut self, t: Table, key: &str) -> Result<bool> {
        let mut table = self
            .txn
            .open_table(t.def())
            .map_err(|e| self.inner.fail(e))?;
        let r = table.remove(key).map_err(|e| self.inner.fail(e))?;
        Ok(r.is_some())
    }
}

impl Metadata {
    pub fn open(path: &Path) -> Result<Metadata> {
        // A daemon killed a moment ago may still hold the file's lock while
        // its last threads exit (one in an fsync, say): wait a little.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let db = loop {
            match redb::Database::create(path) {
                Err(redb::DatabaseError::DatabaseAlreadyOpen)
                    if std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => return Err(Error::internal(format!("metadata database: {e}"))),
                Ok(db) => break db,
            }
        };
        let inner = Arc::new(Inner {
            path: path.to_path_buf(),
            db: RwLock::new(Some(db)),
            broken: AtomicBool::new(false),
        });
        {
            let g = inner.db()?;
            let db = g.as_ref().expect("db() checked it is open");
            let txn = db.begin_write().map_err(|e| inner.fail(e))?;
            for t in Table::ALL {
                txn.open_table(t.def()).map_err(|e| inner.fail(e))?;
            }
            txn.commit().map_err(|e| inner.fail(e))?;
        }
        let flush = Arc::new((Mutex::new(false), Condvar::new()));
        let (weak, f) = (Arc::downgrade(&inner), flush.clone());
        std::thread::Builder::new()
            .name("metadata-flush".into())
            .spawn(move || flusher(weak, f))
            .map_err(|e| Error::internal(format!("start metadata flusher: {e}")))?;
        Ok(Metadata { inner, flush })
    }

    /// Like [`Metadata::update`], but returns before the fsync: the commit
    /// is made durable by a background flush a moment later, shared by all
    /// grouped commits in between (group commit). A crash in that window
    /// rolls back to the last durable commit, never to a torn state.
    pub fn update_grouped<R>(&self, f: impl FnOnce(&mut Txn) -> Result<R>) -> Result<R> {
        let r = self.update_lazy(f)?;
        let (flag, cv) = &*self.flush;
        *flag.lock().unwrap() = true;
        cv.notify_one();
        Ok(r)
    }

    /// Runs `f` in one write transaction, committing (durably, with fsync)
    /// if it returns Ok.
    pub fn update<R>(&self, f: impl FnOnce(&mut Txn) -> Result<R>) -> Result<R> {
        self.update_with(redb::Durability::Immediate, f)
    }

    /// Like [`Metadata::update`], but the commit is not flushed to disk: a
    /// crash may roll it back to the last durable commit (never to a torn
    /// state). For state the daemon can rebuild at start-up.
    pub fn update_lazy<R>(&self, f: impl FnOnce(&mut Txn) -> Result<R>) -> Result<R> {
        self.update_with(redb::Durability::None, f)
    }

    fn update_with<R>(
        &self,
        d: redb::Durability,
        f: impl FnOnce(&mut Txn) -> Result<R>,
    ) -> Result<R> {
        let inner = &*self.inner;
        let g = inner.db()?;
        let db = g.as_ref().expect("db() checked it is open");
        let mut txn = Txn {
            txn: db.begin_write().map_err(|e| inner.fail(e))?,
            inner,
        };
        txn.txn.set_durability(d).map_err(|e| inner.fail(e))?;
        let r = f(&mut txn)?;
        txn.txn.commit().map_err(|e| inner.fail(e))?;
        Ok(r)
    }

    pub fn put<T: Serialize>(&self, t: Table, key: &str, v: &T) -> Result<()> {
        self.update(|tx| tx.put(t, key, v))
    }

    pub fn delete(&self, t: Table, key: &str) -> Result<bool> {
        self.update(|tx| tx.delete(t, key))
    }

    pub fn get<T: DeserializeOwned>(&self, t: Table, key: &str) -> Result<Option<T>> {
        let inner = &*self.inner;
        let g = inner.db()?;
        let db = g.as_ref().expect("db() checked it is open");
        let r = db.begin_read().map_err(|e| inner.fail(e))?;
        let table = r.open_table(t.def()).map_err(|e| inner.fail(e))?;
        let v = table.get(key).map_err(|e| inner.fail(e))?;
        v.map(|g| serde_json::from_slice(g.value()).map_err(json_err))
            .transpose()
    }

    /// All records of a table, in key order.
    pub fn list<T: DeserializeOwned>(&self, t: Table) -> Result<Vec<(String, T)>> {
        let inner = &*self.inner;
        let g = inner.db()?;
        let db = g.as_ref().expect("db() checked it is open");
        let r = db.begin_read().map_err(|e| inner.fail(e))?;
        let table = r.open_table(t.def()).map_err(|e| inner.fail(e))?;
        let mut out = Vec::new();
        for item in table.iter().map_err(|e| inner.fail(e))? {
            let (k, v) = item.map_err(|e| inner.fail(e))?;
            out.push((
                k.value().to_string(),
                serde_json::from_slice(v.value()).map_err(json_err)?,
            ));
        }
        Ok(out)
    }
}

/// Makes grouped commits durable: one empty immediate commit flushes every
/// non-durable commit before it. Ends when the database is dropped.
fn flusher(inner: std::sync::Weak<Inner>, flush: Arc<(Mutex<bool>, Condvar)>) {
    let (flag, cv) = &*flush;
    loop {
        {
            let mut pending = flag.lock().unwrap();
            while !*pending {
                let (p, t) = cv
                    .wait_timeout(pending, std::time::Duration::from_millis(500))
                    .unwrap();
                pending = p;
                if t.timed_out() && inner.strong_count() == 0 {
                    return;
                }
            }
            *pending = false;
        }
        let Some(inner) = inner.upgrade() else { return };
        let result = inner.db().and_then(|g| {
            let db = g.as_ref().expect("db() checked it is open");
            db.begin_write()
                .map_err(|e| inner.fail(e))
                .and_then(|t| t.commit().map_err(|e| inner.fail(e)))
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "metadata flush failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transactions_commit_or_not() {
        let d = tempfile::tempdir().unwrap();
        let m = Metadata::open(&d.path().join("meta.db")).unwrap();
        m.put(Table::Names, "web", &"id1").unwrap();
        let r: Result<()> = m.update(|tx| {
            tx.put(Table::Names, "db", &"id2")?;
            Err(Error::conflict("nope"))
        });
        assert!(r.is_err());
        assert_eq!(m.get::<String>(Table::Names, "db").unwrap(), None);
        assert_eq!(
            m.list::<String>(Table::Names).unwrap(),
            vec![("web".to_string(), "id1".to_string())]
        );
        assert!(m.delete(Table::Names, "web").unwrap());
        m.update_lazy(|tx| tx.put(Table::Names, "lazy", &"id3"))
            .unwrap();
        assert_eq!(
            m.get::<String>(Table::Names, "lazy").unwrap().as_deref(),
            Some("id3")
        );
        m.update_lazy(|tx| tx.delete(Table::Names, "lazy")).unwrap();
        m.update_grouped(|tx| tx.put(Table::Names, "grouped", &"id4"))
            .unwrap();
        // The flusher makes it durable shortly.
        std::thread::sleep(std::time::Duration::from_millis(200));
        m.update_grouped(|tx| tx.delete(Table::Names, "grouped"))
            .unwrap();
        drop(m);
        std::thread::sleep(std::time::Duration::from_millis(100));
        let m = Metadata::open(&d.path().join("meta.db")).unwrap();
        assert!(m.list::<String>(Table::Names).unwrap().is_empty());
    }

    /// A disk that fills up: the failed commit is an error naming the cause,
    /// and once space is back the database works again (redb refuses all
    /// work on a handle after an I/O error; `Metadata` reopens it).
    #[test]
    fn a_full_disk_fails_a_commit_and_then_recovers() {
        let d = tempfile::Builder::new()
            .prefix("berth-t-meta")
            .tempdir()
            .unwrap();
        let mnt = d.path().join("fs");
        std::fs::create_dir(&mnt).unwrap();
        if let Err(e) = nix::mount::mount(
            Some("berth-t-meta"),
            &mnt,
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            Some("size=2m"),
        ) {
            // Mounting needs root; the integration suite always has it.
            assert!(std::env::var_os("CI").is_none(), "mount tmpfs: {e}");
            return;
        }
        struct Unmount<'a>(&'a Path);
        impl Drop for Unmount<'_> {
            fn drop(&mut self) {
                let _ = nix::mount::umount2(self.0, nix::mount::MntFlags::MNT_DETACH);
            }
        }
        let _unmount = Unmount(&mnt);
        let m = Metadata::open(&mnt.join("meta.db")).unwrap();
        m.put(Table::Names, "kept", &"id0").unwrap();
        // Fill the disk.
        let filler = mnt.join("filler");
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![7u8; 64 * 1024];
        while std::io::Write::write_all(&mut f, &chunk).is_ok() {}
        drop(f);
        let big = "x".repeat(512 * 1024);
        let e = m.put(Table::Names, "big", &big).unwrap_err();
        assert!(e.message.contains("no space left on device"), "{e}");
        assert!(
            m.inner.broken.load(Ordering::Acquire),
            "the I/O error went unnoticed"
        );
        // Space comes back: the database works again, with what was kept.
        std::fs::remove_file(&filler).unwrap();
        m.put(Table::Names, "after", &"id1").unwrap();
        assert!(!m.inner.broken.load(Ordering::Acquire));
        assert_eq!(
            m.get::<String>(Table::Names, "kept").unwrap().as_deref(),
            Some("id0")
        );
        assert_eq!(
            m.get::<String>(Table::Names, "after").unwrap().as_deref(),
            Some("id1")
        );
        assert_eq!(m.get::<String>(Table::Names, "big").unwrap(), None);
        drop(m);
    }
}
