//! Content digests (`sha256:<hex>`).

use sha2::{Digest as _, Sha256};
use std::fmt;

/// A validated `algorithm:hex` digest. Only sha256 is produced here.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    /// Parses `sha256:<64 hex>`.
    pub fn parse(s: &str) -> crate::Result<Digest> {
        let hex = s.strip_prefix("sha256:").ok_or_else(|| {
            crate::Error::invalid(format!("invalid digest {s:?}: unsupported algorithm"))
        })?;
        if hex.len() != 64 || !crate::id::is_hex_prefix(hex) {
            return Err(crate::Error::invalid(format!("invalid digest {s:?}")));
        }
        Ok(Digest(s.to_string()))
    }

    /// The sha256 digest of `data`.
    pub fn of(data: &[u8]) -> Digest {
        Digest(format!("sha256:{}", hex::encode(Sha256::digest(data))))
    }

    /// Builds a digest from a finished hasher.
    pub fn from_hasher(h: Sha256) -> Digest {
        Digest(format!("sha256:{}", hex::encode(h.finalize())))
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        &self.0[7..]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The chain id of a layer stack, as the OCI image spec defines it.
pub fn chain_id(diff_ids: &[Digest]) -> Option<Digest> {
    let mut it = diff_ids.iter();
    let mut chain = it.next()?.clone();
    for d in it {
        chain = Digest::of(format!("{chain} {d}").as_bytes());
    }
    Some(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_hash() {
        let d = Digest::of(b"");
        assert_eq!(
            d.hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(Digest::parse(d.as_str()).unwrap(), d);
        assert!(Digest::parse("sha256:xyz").is_err());
        assert!(Digest::parse("md5:00").is_err());
    }

    #[test]
    fn chain_ids() {
        let a = Digest::of(b"a");
        let b = Digest::of(b"b");
        assert_eq!(chain_id(std::slice::from_ref(&a)), Some(a.clone()));
        assert_eq!(
            chain_id(&[a.clone(), b.clone()]),
            Some(Digest::of(format!("{a} {b}").as_bytes()))
        );
        assert_eq!(chain_id(&[]), None);
    }
}
