//! The in-memory driver, for tests: a sorted map of paths to contents.

use super::{check_path, ByteStream, DriverError, FileInfo, FileWriter, Result, StorageDriver};
use async_trait::async_trait;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

#[derive(Debug, Clone)]
struct Entry {
    data: Vec<u8>,
    modified: SystemTime,
}

/// Files kept in memory; directories are implied by paths.
#[derive(Debug, Default, Clone)]
pub struct MemoryDriver {
    files: Arc<Mutex<BTreeMap<String, Entry>>>,
}

impl MemoryDriver {
    /// An empty store.
    pub fn new() -> MemoryDriver {
        MemoryDriver::default()
    }

    fn files(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Paths strictly under directory `dir`.
    fn under<'a>(
        files: &'a BTreeMap<String, Entry>,
        dir: &str,
    ) -> impl Iterator<Item = (&'a String, &'a Entry)> + 'a {
        let prefix = format!("{dir}/");
        files
            .range(prefix.clone()..)
            .take_while(move |(k, _)| k.starts_with(&prefix))
    }
}

#[async_trait]
impl StorageDriver for MemoryDriver {
    fn name(&self) -> &'static str {
        "inmemory"
    }

    async fn get_content(&self, path: &str) -> Result<Bytes> {
        check_path(path)?;
        self.files()
            .get(path)
            .map(|e| Bytes::from(e.data.clone()))
            .ok_or_else(|| DriverError::NotFound(path.to_string()))
    }

    async fn put_content(&self, path: &str, content: Bytes) -> Result<()> {
        check_path(path)?;
        self.files().insert(
            path.to_string(),
            Entry {
                data: content.to_vec(),
                modified: SystemTime::now(),
            },
        );
        Ok(())
    }

    async fn read(&self, path: &str, offset: u64, len: Option<u64>) -> Result<ByteStream> {
        check_path(path)?;
        let files = self.files();
        let e = files
            .get(path)
            .ok_or_else(|| DriverError::NotFound(path.to_string()))?;
        let start = (offset as usize).min(e.data.len());
        let end = match len {
            Some(l) => (start as u64 + l).min(e.data.len() as u64) as usize,
            None => e.data.len(),
        };
        let data = Bytes::from(e.data[start..end].to_vec());
        Ok(Box::pin(futures_util::stream::iter(
            (!data.is_empty()).then_some(Ok(data)),
        )))
    }

    async fn writer(&self, path: &str) -> Result<Box<dyn FileWriter>> {
        check_path(path)?;
        let size = self
            .files()
            .entry(path.to_string())
            .or_insert_with(|| Entry {
                data: Vec::new(),
                modified: SystemTime::now(),
            })
            .data
            .len() as u64;
        Ok(Box::new(MemWriter {
            driver: self.clone(),
            path: path.to_string(),
            size,
        }))
    }

    async fn stat(&self, path: &str) -> Result<FileInfo> {
        check_path(path)?;
        let files = self.files();
        if let Some(e) = files.get(path) {
            return Ok(FileInfo {
                size: e.data.len() as u64,
                is_dir: false,
                modified: e.modified,
            });
        }
        let newest = Self::under(&files, path).map(|(_, e)| e.modified).max();
        newest
            .map(|modified| FileInfo {
                size: 0,
                is_dir: true,
                modified,
            })
            .ok_or_else(|| DriverError::NotFound(path.to_string()))
    }

    async fn list(&self, path: &str) -> Result<Vec<String>> {
        check_path(path)?;
        let files = self.files();
        let skip = path.len() + 1;
        let mut names: Vec<String> = Self::under(&files, path)
            .map(|(k, _)| k[skip..].split('/').next().unwrap_or_default().to_string())
            .collect();
        if names.is_empty() {
            return Err(DriverError::NotFound(path.to_string()));
        }
        names.dedup(); // the map is sorted, so equal names are adjacent
        Ok(names)
    }

    async fn rename(&self, from: &str, to: &str) -> Result<()> {
        check_path(from)?;
        check_path(to)?;
        let mut files = self.files();
        let e = files
            .remove(from)
            .ok_or_else(|| DriverError::NotFound(from.to_string()))?;
        files.insert(to.to_string(), e);
        Ok(())
    }

    async fn delete(&self, path: &str) -> Result<()> {
        check_path(path)?;
        let mut files = self.files();
        let mut doomed: Vec<String> = Self::under(&files, path).map(|(k, _)| k.clone()).collect();
        if files.contains_key(path) {
            doomed.push(path.to_string());
        }
        if doomed.is_empty() {
            return Err(DriverError::NotFound(path.to_string()));
        }
        for k in doomed {
            files.remove(&k);
        }
        Ok(())
    }
}

/// Appends straight into the map entry.
struct MemWriter {
    driver: MemoryDriver,
    path: String,
    size: u64,
}

#[async_trait]
impl FileWriter for MemWriter {
    async fn write(&mut self, data: Bytes) -> Result<()> {
        let mut files = self.driver.files();
        let e = files.entry(self.path.clone()).or_insert_with(|| Entry {
            data: Vec::new(),
            modified: SystemTime::now(),
        });
        e.data.extend_from_slice(&data);
        e.modified = SystemTime::now();
        self.size = e.data.len() as u64;
        Ok(())
    }

    fn size(&self) -> u64 {
        self.size
    }

    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    async fn commit(&mut self) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn driver_suite() {
        super::super::suite::run(&super::MemoryDriver::new()).await;
    }
}
