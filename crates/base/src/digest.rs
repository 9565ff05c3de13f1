//! Content digests (`sha256:<hex>`, and `sha512:<hex>` where a caller opts
//! in with [`Digest::parse_any`]).

use sha2::{Digest as _, Sha256, Sha512};
use std::fmt;

/// A digest algorithm: sha256 everywhere, sha512 where a caller opts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    /// Parses an algorithm name (`sha256`, `sha512`).
    pub fn parse(name: &str) -> Option<Algorithm> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    /// The name used in digests.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Length of the hex encoding.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    /// A new streaming hasher for this algorithm.
    pub fn hasher(self) -> Hasher {
        match self {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A streaming hasher over either algorithm.
#[derive(Clone)]
pub enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    /// The algorithm this hasher computes.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Hasher::Sha256(_) => Algorithm::Sha256,
            Hasher::Sha512(_) => Algorithm::Sha512,
        }
    }

    /// The digest of everything fed so far (the hasher is left unchanged).
    pub fn digest(&self) -> Digest {
        match self {
            Hasher::Sha256(h) => Digest(format!("sha256:{}", hex::encode(h.clone().finalize()))),
            Hasher::Sha512(h) => Digest(format!("sha512:{}", hex::encode(h.clone().finalize()))),
        }
    }
}

/// A validated `algorithm:hex` digest. [`Digest::parse`] and [`Digest::of`]
/// only know sha256; [`Digest::parse_any`] also accepts sha512.
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

    /// Parses `sha256:<64 hex>` or `sha512:<128 hex>` (lowercase hex, as the
    /// OCI image spec requires for both).
    pub fn parse_any(s: &str) -> crate::Result<Digest> {
        let (alg, hex) = s
            .split_once(':')
            .ok_or_else(|| crate::Error::invalid(format!("invalid digest {s:?}")))?;
        let alg = Algorithm::parse(alg).ok_or_else(|| {
            crate::Error::invalid(format!("invalid digest {s:?}: unsupported algorithm"))
        })?;
        let lower_hex = hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if hex.len() != alg.hex_len() || !lower_hex {
            return Err(crate::Error::invalid(format!("invalid digest {s:?}")));
        }
        Ok(Digest(s.to_string()))
    }

    /// The digest of `data` with the given algorithm.
    pub fn of_with(alg: Algorithm, data: &[u8]) -> Digest {
        let mut h = alg.hasher();
        h.update(data);
        h.digest()
    }

    /// The algorithm of this digest.
    pub fn algorithm(&self) -> Algorithm {
        if self.0.starts_with("sha512:") {
            Algorithm::Sha512
        } else {
            Algorithm::Sha256
        }
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
        // Both algorithm names are 6 characters, so this is `[7..]` for each.
        &self.0[self.0.find(':').map_or(0, |i| i + 1)..]
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
    chain_ids(diff_ids).pop()
}

/// The chain ids of every prefix of a layer stack (layer `i`'s snapshot
/// key is `chain_ids(..)[i]`), computed in one pass.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = match out.last() {
            Some(prev) => Digest::of(format!("{prev} {d}").as_bytes()),
            None => d.clone(),
        };
        out.push(next);
    }
    out
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
    fn parse_any_algorithms() {
        let d512 = Digest::of_with(Algorithm::Sha512, b"");
        assert!(d512.as_str().starts_with("sha512:cf83e1357eefb8bd"));
        assert_eq!(d512.hex().len(), 128);
        assert_eq!(d512.algorithm(), Algorithm::Sha512);
        assert_eq!(Digest::parse_any(d512.as_str()).unwrap(), d512);
        assert!(Digest::parse(d512.as_str()).is_err());
        let d = Digest::of(b"");
        assert_eq!(Digest::parse_any(d.as_str()).unwrap(), d);
        assert_eq!(Digest::of_with(Algorithm::Sha256, b""), d);
        for bad in [
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha512:00",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "sha256",
            "",
        ] {
            assert!(Digest::parse_any(bad).is_err(), "{bad}");
        }
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
        assert_eq!(
            super::chain_ids(&[a.clone(), b.clone()]),
            vec![a.clone(), chain_id(&[a.clone(), b.clone()]).unwrap()]
        );
    }
}
