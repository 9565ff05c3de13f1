//! Repository names, tags and manifest references, validated by the
//! distribution spec's grammar.

use crate::error::{Error, Result};
use base::Digest;

/// Longest accepted repository name (clients limit host/name to 255).
pub const MAX_NAME_LEN: usize = 255;

/// Checks a repository name against
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty() && name.len() <= MAX_NAME_LEN && name.split('/').all(valid_component);
    if ok {
        Ok(())
    } else {
        Err(Error::NameInvalid(name.to_string()))
    }
}

/// One path component: alphanumeric runs joined by `.`, `_`, `__` or `-+`.
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// Checks a tag against `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|&x| x.is_ascii_alphanumeric() || matches!(x, b'.' | b'_' | b'-'))
}

/// Parses a digest the registry accepts (sha256, sha512).
pub fn parse_digest(s: &str) -> Result<Digest> {
    Digest::parse_any(s).map_err(|_| Error::DigestInvalid(s.to_string()))
}

/// The `<tag-or-digest>` of a manifest URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestRef {
    Tag(String),
    Digest(Digest),
}

impl ManifestRef {
    /// A digest when it contains `:`, otherwise a tag.
    pub fn parse(s: &str) -> Result<ManifestRef> {
        if s.contains(':') {
            parse_digest(s).map(ManifestRef::Digest)
        } else if valid_tag(s) {
            Ok(ManifestRef::Tag(s.to_string()))
        } else {
            Err(Error::TagInvalid(s.to_string()))
        }
    }
}

impl std::fmt::Display for ManifestRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ManifestRef::Tag(t) => f.write_str(t),
            ManifestRef::Digest(d) => write!(f, "{d}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let good = [
            "a",
            "library/busybox",
            "a0.b_c__d---e/f",
            "my-app/x.y",
            "a/b/c/d",
            "0",
        ];
        let bad = [
            "", "A", "a/", "/a", "a//b", "a..b", "a___b", "-a", "a-", "a._b", "a/_x", "a b", "a:b",
            "ä",
        ];
        for n in good {
            assert!(validate_name(n).is_ok(), "{n}");
        }
        for n in bad {
            assert!(validate_name(n).is_err(), "{n}");
        }
        assert!(validate_name(&"a".repeat(256)).is_err());
    }

    #[test]
    fn tags_and_refs() {
        for t in ["latest", "v1.2.3", "_x", "A-b_c.d", &"t".repeat(128)] {
            assert!(valid_tag(t), "{t}");
        }
        for t in ["", ".x", "-x", "a/b", "a:b", &"t".repeat(129)] {
            assert!(!valid_tag(t), "{t}");
        }
        let d = Digest::of(b"x");
        assert_eq!(
            ManifestRef::parse(d.as_str()).unwrap(),
            ManifestRef::Digest(d)
        );
        assert!(matches!(
            ManifestRef::parse("sha256:zz"),
            Err(Error::DigestInvalid(_))
        ));
        assert!(matches!(
            ManifestRef::parse("bad tag"),
            Err(Error::TagInvalid(_))
        ));
    }
}
