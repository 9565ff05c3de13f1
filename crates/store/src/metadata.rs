//! The metadata database: redb (pure Rust, ACID, one file), holding JSON
//! records in a few tables. Why redb over SQLite: no C dependency, typed
//! tables, and our access is key-value shaped.

use base::{Error, Result};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{de::DeserializeOwned, Serialize};
use std::path::Path;

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
}

impl Table {
    fn def(self) -> TableDefinition<'static, &'static str, &'static [u8]> {
        TableDefinition::new(match self {
            Table::Images => "images",
            Table::Tags => "tags",
            Table::Containers => "containers",
            Table::Names => "names",
        })
    }
    const ALL: [Table; 4] = [Table::Images, Table::Tags, Table::Containers, Table::Names];
}

fn db_err(e: impl std::fmt::Display) -> Error {
    Error::internal(format!("metadata database: {e}"))
}

pub struct Metadata {
    db: std::sync::Arc<redb::Database>,
    /// Set when a grouped commit awaits its fsync; the flusher thread clears it.
    flush: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
}

/// A write transaction: everything in it commits together or not at all.
pub struct Txn {
    txn: redb::WriteTransaction,
}

impl Txn {
    pub fn put<T: Serialize>(&mut self, t: Table, key: &str, v: &T) -> Result<()> {
        let bytes = serde_json::to_vec(v).map_err(db_err)?;
        self.txn
            .open_table(t.def())
            .map_err(db_err)?
            .insert(key, bytes.as_slice())
            .map_err(db_err)?;
        Ok(())
    }

    pub fn get<T: DeserializeOwned>(&self, t: Table, key: &str) -> Result<Option<T>> {
        let table = self.txn.open_table(t.def()).map_err(db_err)?;
        let v = table.get(key).map_err(db_err)?;
        v.map(|g| serde_json::from_slice(g.value()).map_err(db_err))
            .transpose()
    }

    pub fn delete(&mut self, t: Table, key: &str) -> Result<bool> {
        let mut table = self.txn.open_table(t.def()).map_err(db_err)?;
        let r = table.remove(key).map_err(db_err)?;
        Ok(r.is_some())
    }
}

impl Metadata {
    pub fn open(path: &Path) -> Result<Metadata> {
        let db = redb::Database::create(path).map_err(db_err)?;
        let txn = db.begin_write().map_err(db_err)?;
        for t in Table::ALL {
            txn.open_table(t.def()).map_err(db_err)?;
        }
        txn.commit().map_err(db_err)?;
        let db = std::sync::Arc::new(db);
        let flush = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let (weak, f) = (std::sync::Arc::downgrade(&db), flush.clone());
        std::thread::Builder::new()
            .name("metadata-flush".into())
            .spawn(move || flusher(weak, f))
            .map_err(|e| Error::internal(format!("start metadata flusher: {e}")))?;
        Ok(Metadata { db, flush })
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
        let mut txn = Txn {
            txn: self.db.begin_write().map_err(db_err)?,
        };
        txn.txn.set_durability(d).map_err(db_err)?;
        let r = f(&mut txn)?;
        txn.txn.commit().map_err(db_err)?;
        Ok(r)
    }

    pub fn put<T: Serialize>(&self, t: Table, key: &str, v: &T) -> Result<()> {
        self.update(|tx| tx.put(t, key, v))
    }

    pub fn delete(&self, t: Table, key: &str) -> Result<bool> {
        self.update(|tx| tx.delete(t, key))
    }

    pub fn get<T: DeserializeOwned>(&self, t: Table, key: &str) -> Result<Option<T>> {
        let r = self.db.begin_read().map_err(db_err)?;
        let table = r.open_table(t.def()).map_err(db_err)?;
        let v = table.get(key).map_err(db_err)?;
        v.map(|g| serde_json::from_slice(g.value()).map_err(db_err))
            .transpose()
    }

    /// All records of a table, in key order.
    pub fn list<T: DeserializeOwned>(&self, t: Table) -> Result<Vec<(String, T)>> {
        let r = self.db.begin_read().map_err(db_err)?;
        let table = r.open_table(t.def()).map_err(db_err)?;
        let mut out = Vec::new();
        for item in table.iter().map_err(db_err)? {
            let (k, v) = item.map_err(db_err)?;
            out.push((
                k.value().to_string(),
                serde_json::from_slice(v.value()).map_err(db_err)?,
            ));
        }
        Ok(out)
    }
}

/// Makes grouped commits durable: one empty immediate commit flushes every
/// non-durable commit before it. Ends when the database is dropped.
fn flusher(
    db: std::sync::Weak<redb::Database>,
    flush: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
) {
    let (flag, cv) = &*flush;
    loop {
        {
            let mut pending = flag.lock().unwrap();
            while !*pending {
                let (p, t) = cv
                    .wait_timeout(pending, std::time::Duration::from_millis(500))
                    .unwrap();
                pending = p;
                if t.timed_out() && db.strong_count() == 0 {
                    return;
                }
            }
            *pending = false;
        }
        let Some(db) = db.upgrade() else { return };
        let result = db
            .begin_write()
            .map_err(|e| e.to_string())
            .and_then(|t| t.commit().map_err(|e| e.to_string()));
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
}
