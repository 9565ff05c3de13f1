//! Parsing `/v2/…` paths. Repository names contain `/`, so the path is
//! read from the right: the last segments say what is addressed.

use crate::auth::Access;
use crate::error::{Error, Result};
use crate::names::validate_name;
use http::Method;

/// What a `/v2/<rest>` path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Catalog,
    Manifest { name: String, reference: String },
    Blob { name: String, digest: String },
    UploadStart { name: String },
    Upload { name: String, id: String },
    Tags { name: String },
    Referrers { name: String, digest: String },
}

impl Route {
    /// Parses the part after `/v2/` (already percent-decoded).
    pub fn parse(rest: &str) -> Result<Route> {
        if rest == "_catalog" {
            return Ok(Route::Catalog);
        }
        let segs: Vec<&str> = rest.split('/').collect();
        let n = segs.len();
        let name = |k: usize| -> Result<String> {
            let name = segs[..n - k].join("/");
            validate_name(&name)?;
            Ok(name)
        };
        let unknown = || Error::RouteUnknown(format!("/v2/{rest}"));
        if n >= 3 && segs[n - 2..] == ["tags", "list"] {
            return Ok(Route::Tags { name: name(2)? });
        }
        // `<name>/blobs/uploads/` (or without the trailing slash).
        if n >= 4 && segs[n - 3..n - 1] == ["blobs", "uploads"] && segs[n - 1].is_empty() {
            return Ok(Route::UploadStart { name: name(3)? });
        }
        if n >= 3 && segs[n - 2..] == ["blobs", "uploads"] {
            return Ok(Route::UploadStart { name: name(2)? });
        }
        if n >= 4 && segs[n - 3..n - 1] == ["blobs", "uploads"] {
            return Ok(Route::Upload {
                name: name(3)?,
                id: segs[n - 1].to_string(),
            });
        }
        if n >= 3 && !segs[n - 1].is_empty() {
            let last = segs[n - 1].to_string();
            match segs[n - 2] {
                "manifests" => {
                    return Ok(Route::Manifest {
                        name: name(2)?,
                        reference: last,
                    })
                }
                "blobs" => {
                    return Ok(Route::Blob {
                        name: name(2)?,
                        digest: last,
                    })
                }
                "referrers" => {
                    return Ok(Route::Referrers {
                        name: name(2)?,
                        digest: last,
                    })
                }
                _ => {}
            }
        }
        Err(unknown())
    }

    /// What a request with `method` on this route needs; `mount_from` is
    /// the `from` of a cross-repository mount.
    pub fn access(&self, method: &Method, mount_from: Option<&str>) -> Vec<Access> {
        let read = method == Method::GET || method == Method::HEAD;
        match self {
            Route::Catalog => vec![Access::catalog()],
            Route::Manifest { name, .. } | Route::Blob { name, .. } if method == Method::DELETE => {
                vec![Access::repo(name, &["delete"])]
            }
            Route::Manifest { name, .. }
            | Route::Blob { name, .. }
            | Route::Tags { name }
            | Route::Referrers { name, .. }
                if read =>
            {
                vec![Access::repo(name, &["pull"])]
            }
            Route::UploadStart { name } => {
                let mut v = vec![Access::repo(name, &["pull", "push"])];
                if let Some(from) = mount_from.filter(|f| *f != name) {
                    v.push(Access::repo(from, &["pull"]));
                }
                v
            }
            Route::Manifest { name, .. }
            | Route::Blob { name, .. }
            | Route::Upload { name, .. }
            | Route::Tags { name }
            | Route::Referrers { name, .. } => vec![Access::repo(name, &["pull", "push"])],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let m = |n: &str, r: &str| Route::Manifest {
            name: n.into(),
            reference: r.into(),
        };
        let cases: Vec<(&str, Route)> = vec![
            ("_catalog", Route::Catalog),
            ("a/manifests/latest", m("a", "latest")),
            ("a/b/c/manifests/sha256:00", m("a/b/c", "sha256:00")),
            ("manifests/manifests/x", m("manifests", "x")),
            (
                "a/blobs/sha256:1",
                Route::Blob {
                    name: "a".into(),
                    digest: "sha256:1".into(),
                },
            ),
            (
                "a/b/blobs/uploads/",
                Route::UploadStart { name: "a/b".into() },
            ),
            ("a/blobs/uploads", Route::UploadStart { name: "a".into() }),
            (
                "a/blobs/uploads/u-1",
                Route::Upload {
                    name: "a".into(),
                    id: "u-1".into(),
                },
            ),
            ("x/y/tags/list", Route::Tags { name: "x/y".into() }),
            (
                "x/referrers/sha256:1",
                Route::Referrers {
                    name: "x".into(),
                    digest: "sha256:1".into(),
                },
            ),
            (
                "a/blobs/uploads/blobs/sha256:1",
                Route::Blob {
                    name: "a/blobs/uploads".into(),
                    digest: "sha256:1".into(),
                },
            ),
        ];
        for (p, want) in cases {
            assert_eq!(Route::parse(p).unwrap(), want, "{p}");
        }
        assert!(matches!(
            Route::parse("Bad/manifests/x"),
            Err(Error::NameInvalid(_))
        ));
        for p in ["a", "a/manifests/", "a/wat/x", "manifests/x", ""] {
            assert!(Route::parse(p).is_err(), "{p}");
        }
    }

    #[test]
    fn access() {
        let r = Route::UploadStart { name: "a".into() };
        let scopes: Vec<String> = r
            .access(&Method::POST, Some("b"))
            .iter()
            .map(Access::scope)
            .collect();
        assert_eq!(scopes, ["repository:a:pull,push", "repository:b:pull"]);
        let b = Route::Blob {
            name: "a".into(),
            digest: "d".into(),
        };
        assert_eq!(
            b.access(&Method::DELETE, None)[0].scope(),
            "repository:a:delete"
        );
        assert_eq!(
            b.access(&Method::HEAD, None)[0].scope(),
            "repository:a:pull"
        );
    }
}
