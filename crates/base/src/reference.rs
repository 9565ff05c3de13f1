//! Image references normalized as Docker does: `busybox` is
//! `docker.io/library/busybox:latest`, and `familiar()` turns it back.

use crate::{Digest, Error, Result};
use std::fmt;

pub const DEFAULT_DOMAIN: &str = "docker.io";
pub const DEFAULT_TAG: &str = "latest";

/// A parsed, normalized image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry host (with port), `docker.io` when none was given.
    pub domain: String,
    /// Repository path inside the registry, e.g. `library/busybox`.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<Digest>,
}

fn bad(s: &str) -> Error {
    Error::invalid(format!("invalid reference format: {s:?}"))
}

fn valid_component(c: &str) -> bool {
    // [a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*
    let b = c.as_bytes();
    if b.is_empty() || !b[0].is_ascii_alphanumeric() || !b[b.len() - 1].is_ascii_alphanumeric() {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let ch = b[i];
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && matches!(b[i], b'.' | b'_' | b'-') {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok || start == i {
            return false;
        }
    }
    true
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

impl Reference {
    /// Parses and normalizes a reference such as `busybox`, `x/y:1`,
    /// `127.0.0.1:5000/a/b@sha256:...`.
    pub fn parse(s: &str) -> Result<Reference> {
        if s.is_empty() || s.len() > 255 + 128 + 72 {
            return Err(bad(s));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(Digest::parse(d).map_err(|_| bad(s))?)),
            None => (s, None),
        };
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                &rest[..last_slash + i],
                Some(rest[last_slash + i + 1..].to_string()),
            ),
            None => (rest, None),
        };
        if let Some(t) = &tag {
            if !valid_tag(t) {
                return Err(bad(s));
            }
        }
        let (domain, path) = match name.split_once('/') {
            Some((first, remainder))
                if first.contains('.')
                    || first.contains(':')
                    || first == "localhost"
                    || first.chars().any(|c| c.is_ascii_uppercase()) =>
            {
                (first.to_string(), remainder.to_string())
            }
            _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
        };
        let domain = if domain == "index.docker.io" {
            DEFAULT_DOMAIN.to_string()
        } else {
            domain
        };
        let path = if domain == DEFAULT_DOMAIN && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(Error::invalid(format!(
                "invalid reference format: repository name ({path}) must be lowercase"
            )));
        }
        if domain.is_empty() || !path.split('/').all(valid_component) {
            return Err(bad(s));
        }
        // As distribution: the whole name, normalized, is at most 255
        // characters (found by fuzz/: a short form that parsed printed to a
        // full name that did not).
        if domain.len() + 1 + path.len() > 255 {
            return Err(Error::invalid(format!(
                "invalid reference format: repository name ({domain}/{path}) must not be more than 255 characters"
            )));
        }
        Ok(Reference {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// Like `parse`, adding the `latest` tag when neither tag nor digest is given.
    pub fn parse_tagged(s: &str) -> Result<Reference> {
        let mut r = Reference::parse(s)?;
        if r.tag.is_none() && r.digest.is_none() {
            r.tag = Some(DEFAULT_TAG.to_string());
        }
        Ok(r)
    }

    /// `domain/path`, e.g. `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The short repository name Docker shows, e.g. `busybox` or `127.0.0.1:5000/x`.
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            self.path
                .strip_prefix("library/")
                .unwrap_or(&self.path)
                .to_string()
        } else {
            self.name()
        }
    }

    /// The familiar form with tag and digest, e.g. `busybox:latest`.
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d.as_str());
        }
        s
    }
}

impl fmt::Display for Reference {
    /// The fully qualified form, e.g. `docker.io/library/busybox:latest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    /// Found by fuzz/reference: a short name that parsed although its full
    /// form is longer than distribution allows.
    #[test]
    fn the_full_name_is_at_most_255_characters() {
        let long = "a".repeat(240);
        let e = super::Reference::parse(&long).unwrap_err();
        assert!(
            e.message.contains("must not be more than 255 characters"),
            "{}",
            e.message
        );
        let fits = "a".repeat(255 - "docker.io/library/".len());
        let r = super::Reference::parse(&fits).unwrap();
        assert_eq!(super::Reference::parse(&r.to_string()).unwrap(), r);
    }

    use super::*;

    #[test]
    fn normalizes_like_docker() {
        let cases = [
            (
                "busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            (
                "busybox:1.36",
                "docker.io/library/busybox:1.36",
                "busybox:1.36",
            ),
            ("user/app", "docker.io/user/app:latest", "user/app:latest"),
            (
                "docker.io/library/busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            (
                "index.docker.io/library/busybox",
                "docker.io/library/busybox:latest",
                "busybox:latest",
            ),
            ("localhost/x", "localhost/x:latest", "localhost/x:latest"),
            (
                "127.0.0.1:5000/a/b:v1",
                "127.0.0.1:5000/a/b:v1",
                "127.0.0.1:5000/a/b:v1",
            ),
            (
                "localhost:5000/x",
                "localhost:5000/x:latest",
                "localhost:5000/x:latest",
            ),
        ];
        for (input, full, familiar) in cases {
            let r = Reference::parse_tagged(input).unwrap();
            assert_eq!(r.to_string(), full, "{input}");
            assert_eq!(r.familiar(), familiar, "{input}");
        }
    }

    #[test]
    fn digests_and_errors() {
        let d = format!("sha256:{}", "a".repeat(64));
        let r = Reference::parse_tagged(&format!("busybox@{d}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.unwrap().as_str(), d);
        for bad in [
            "",
            "Busybox",
            "a//b",
            "x:",
            "-x",
            "a:b c",
            "busybox@sha256:12",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
        assert!(Reference::parse("Busybox")
            .unwrap_err()
            .message
            .contains("must be lowercase"));
    }
}
