//! Garbage collection: mark every blob that a manifest in any repository
//! references (every manifest revision counts, tagged or not), sweep the
//! rest and the repository links to them. Run it against a stopped
//! registry: the binary refuses while a server holds the root's lock.

use crate::error::Result;
use crate::paths;
use crate::repo::Registry;
use base::Digest;
use std::collections::HashSet;

/// What a collection found (and removed, unless it was a dry run).
#[derive(Debug, Default, Clone)]
pub struct GcReport {
    pub repositories: usize,
    pub manifests: usize,
    pub blobs_kept: usize,
    /// Unreferenced blobs with their sizes.
    pub blobs_removed: Vec<(Digest, u64)>,
    /// Repository links to removed blobs.
    pub links_removed: usize,
    pub dry_run: bool,
}

impl GcReport {
    /// Bytes the removed blobs took.
    pub fn bytes_freed(&self) -> u64 {
        self.blobs_removed.iter().map(|(_, s)| s).sum()
    }
}

/// Marks and sweeps; with `dry_run`, only reports.
pub async fn collect(reg: &Registry, dry_run: bool) -> Result<GcReport> {
    let driver = reg.driver();
    let mut report = GcReport {
        dry_run,
        ..GcReport::default()
    };
    let repos = reg.walk_repos(true).await?;
    report.repositories = repos.len();
    let mut marked: HashSet<Digest> = HashSet::new();
    for repo in &repos {
        for d in reg.digests_under(&paths::revisions_dir(repo)).await? {
            report.manifests += 1;
            if let Some(refs) = reg.manifest_refs(&d).await.map_err(|e| {
                crate::error::Error::Internal(format!("manifest {d} in {repo}: {e}"))
            })? {
                marked.extend(refs);
            }
            marked.insert(d);
        }
    }
    let mut removed = HashSet::new();
    for b in reg.all_blobs().await? {
        if marked.contains(&b) {
            report.blobs_kept += 1;
            continue;
        }
        let size = driver
            .stat(&paths::blob_data(&b))
            .await
            .map(|s| s.size)
            .unwrap_or(0);
        tracing::info!(blob = %b, size, dry_run, "unreferenced blob");
        if !dry_run {
            driver.delete(&paths::blob_dir(&b)).await?;
        }
        report.blobs_removed.push((b.clone(), size));
        removed.insert(b);
    }
    for repo in &repos {
        for d in reg.digests_under(&paths::layers_dir(repo)).await? {
            if removed.contains(&d) {
                report.links_removed += 1;
                if !dry_run {
                    let link = paths::layer_link(repo, &d);
                    driver.delete(link.trim_end_matches("/link")).await?;
                }
            }
        }
    }
    Ok(report)
}
