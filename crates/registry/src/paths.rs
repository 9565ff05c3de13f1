//! Where the repository layer keeps things, on any driver. Layout version 1:
//!
//! ```text
//! <root>/
//!   layout-version                                   "1"
//!   blobs/<alg>/<hex[..2]>/<hex>/data                content by digest: layers, configs and
//!                                                    manifests; immutable once renamed in
//!   repositories/<name>/                             <name> may contain '/'
//!     _layers/<alg>/<hex>/link                       blob usable in this repository
//!     _manifests/revisions/<alg>/<hex>/link          manifest in this repository
//!     _manifests/tags/<tag>/link                     tag -> manifest digest
//!     _referrers/<alg>/<hex>/<alg>-<hex>             subject -> referrer: its descriptor (JSON)
//!     _uploads/<uuid>/data                           bytes received so far
//!     _uploads/<uuid>/startedat                      RFC 3339 start time
//! ```
//! A link file holds the digest it names. Repository name components match
//! `[a-z0-9]+…`, so they never collide with the `_`-prefixed directories.
//! A blob is visible only once its `data` was renamed into `blobs/` after
//! its digest was verified, and in a repository only once its link exists.

use base::digest::Algorithm;
use base::Digest;

/// The layout version written to `layout-version`.
pub const LAYOUT_VERSION: &str = "1";
/// The layout version file.
pub const VERSION_FILE: &str = "layout-version";
/// Directory of all repositories.
pub const REPOSITORIES: &str = "repositories";
/// Directory of all blobs.
pub const BLOBS: &str = "blobs";

/// `blobs/<alg>/<xx>/<hex>/data`.
pub fn blob_data(d: &Digest) -> String {
    format!("{}/{}", blob_dir(d), "data")
}

/// `blobs/<alg>/<xx>/<hex>`.
pub fn blob_dir(d: &Digest) -> String {
    let hex = d.hex();
    format!("{BLOBS}/{}/{}/{hex}", d.algorithm(), &hex[..2])
}

/// `blobs/<alg>`.
pub fn blob_alg_dir(alg: Algorithm) -> String {
    format!("{BLOBS}/{alg}")
}

/// `repositories/<name>`.
pub fn repo(name: &str) -> String {
    format!("{REPOSITORIES}/{name}")
}

/// `…/_layers/<alg>/<hex>/link`.
pub fn layer_link(name: &str, d: &Digest) -> String {
    format!("{}/{}/link", layers_dir(name), digest_dir(d))
}

/// `…/_layers`.
pub fn layers_dir(name: &str) -> String {
    format!("{}/_layers", repo(name))
}

/// `…/_manifests/revisions/<alg>/<hex>/link`.
pub fn revision_link(name: &str, d: &Digest) -> String {
    format!("{}/{}/link", revisions_dir(name), digest_dir(d))
}

/// `…/_manifests/revisions`.
pub fn revisions_dir(name: &str) -> String {
    format!("{}/_manifests/revisions", repo(name))
}

/// `…/_manifests/tags`.
pub fn tags_dir(name: &str) -> String {
    format!("{}/_manifests/tags", repo(name))
}

/// `…/_manifests/tags/<tag>`.
pub fn tag_dir(name: &str, tag: &str) -> String {
    format!("{}/{tag}", tags_dir(name))
}

/// `…/_manifests/tags/<tag>/link`.
pub fn tag_link(name: &str, tag: &str) -> String {
    format!("{}/link", tag_dir(name, tag))
}

/// `…/_referrers/<alg>/<hex>` for a subject.
pub fn referrers_dir(name: &str, subject: &Digest) -> String {
    format!("{}/_referrers/{}", repo(name), digest_dir(subject))
}

/// `…/_referrers/<alg>/<hex>/<alg>-<hex>`.
pub fn referrer(name: &str, subject: &Digest, referrer: &Digest) -> String {
    format!(
        "{}/{}-{}",
        referrers_dir(name, subject),
        referrer.algorithm(),
        referrer.hex()
    )
}

/// `…/_uploads`.
pub fn uploads_dir(name: &str) -> String {
    format!("{}/_uploads", repo(name))
}

/// `…/_uploads/<id>/data`.
pub fn upload_data(name: &str, id: &str) -> String {
    format!("{}/{id}/data", uploads_dir(name))
}

/// `…/_uploads/<id>/startedat`.
pub fn upload_started(name: &str, id: &str) -> String {
    format!("{}/{id}/startedat", uploads_dir(name))
}

/// `…/_uploads/<id>`.
pub fn upload_dir(name: &str, id: &str) -> String {
    format!("{}/{id}", uploads_dir(name))
}

/// `<alg>/<hex>`.
fn digest_dir(d: &Digest) -> String {
    format!("{}/{}", d.algorithm(), d.hex())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let d = Digest::of(b"");
        let h = d.hex();
        let cases = [
            (blob_data(&d), format!("blobs/sha256/e3/{h}/data")),
            (
                layer_link("a/b", &d),
                format!("repositories/a/b/_layers/sha256/{h}/link"),
            ),
            (
                revision_link("a", &d),
                format!("repositories/a/_manifests/revisions/sha256/{h}/link"),
            ),
            (
                tag_link("a", "v1"),
                "repositories/a/_manifests/tags/v1/link".into(),
            ),
            (
                referrer("a", &d, &d),
                format!("repositories/a/_referrers/sha256/{h}/sha256-{h}"),
            ),
            (
                upload_data("a", "u"),
                "repositories/a/_uploads/u/data".into(),
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }
}
