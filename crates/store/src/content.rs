//! Content-addressed blob store. A blob becomes visible only after its
//! sha256 is verified and it is renamed into place.
//!
//! Layout under its root:
//! ```text
//! blobs/sha256/<hex>     committed blobs, read-only
//! ingest/<random>        blobs being written
//! ```

use base::error::IoContext;
use base::{Digest, Error, Result};
use sha2::{Digest as _, Sha256};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct ContentStore {
    root: PathBuf,
}

/// A blob being written; dropped without `commit`, it leaves nothing behind.
pub struct BlobWriter {
    file: Option<File>,
    tmp: PathBuf,
    hasher: Sha256,
    store_blobs: PathBuf,
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.as_mut().expect("writer open").write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().expect("writer open").flush()
    }
}

impl BlobWriter {
    /// Verifies the digest (when one is expected) and moves the blob into place.
    pub fn commit(mut self, expected: Option<&Digest>) -> Result<Digest> {
        let got = Digest::from_hasher(std::mem::take(&mut self.hasher));
        if let Some(want) = expected {
            if *want != got {
                return Err(Error::invalid(format!(
                    "digest mismatch: expected {want}, got {got}"
                )));
            }
        }
        let f = self.file.take().expect("writer open");
        f.sync_all().ctx("sync blob")?;
        drop(f);
        let dst = self.store_blobs.join(got.hex());
        std::fs::rename(&self.tmp, &dst).ctx(format!("commit blob {got}"))?;
        Ok(got)
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl ContentStore {
    pub fn open(root: &Path) -> Result<ContentStore> {
        std::fs::create_dir_all(root.join("blobs/sha256")).ctx("create content store")?;
        let ingest = root.join("ingest");
        // Leftovers of a crash are never visible; clear them.
        let _ = std::fs::remove_dir_all(&ingest);
        std::fs::create_dir_all(&ingest).ctx("create content store")?;
        Ok(ContentStore {
            root: root.to_path_buf(),
        })
    }

    pub fn path(&self, d: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(d.hex())
    }

    pub fn exists(&self, d: &Digest) -> bool {
        self.path(d).exists()
    }

    pub fn writer(&self) -> Result<BlobWriter> {
        let tmp = self.root.join("ingest").join(base::id::random_id());
        let file = File::create(&tmp).ctx("create ingest file")?;
        Ok(BlobWriter {
            file: Some(file),
            tmp,
            hasher: Sha256::new(),
            store_blobs: self.root.join("blobs/sha256"),
        })
    }

    /// Stores `data` and returns its digest.
    pub fn put(&self, data: &[u8]) -> Result<Digest> {
        let d = Digest::of(data);
        if self.exists(&d) {
            return Ok(d);
        }
        let mut w = self.writer()?;
        w.write_all(data).ctx("write blob")?;
        w.commit(Some(&d))
    }

    pub fn get(&self, d: &Digest) -> Result<Vec<u8>> {
        std::fs::read(self.path(d)).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::not_found(format!("blob {d} not found")),
            _ => Error::io(format!("read blob {d}"), e),
        })
    }

    pub fn delete(&self, d: &Digest) -> Result<()> {
        match std::fs::remove_file(self.path(d)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io(format!("delete blob {d}"), e))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_verify() {
        let d = tempfile::tempdir().unwrap();
        let s = ContentStore::open(d.path()).unwrap();
        let dg = s.put(b"hello").unwrap();
        assert_eq!(s.get(&dg).unwrap(), b"hello");
        let mut w = s.writer().unwrap();
        w.write_all(b"other").unwrap();
        assert!(w.commit(Some(&dg)).is_err());
        assert_eq!(
            std::fs::read_dir(d.path().join("ingest")).unwrap().count(),
            0
        );
        s.delete(&dg).unwrap();
        assert_eq!(s.get(&dg).unwrap_err().kind, base::ErrorKind::NotFound);
    }
}
