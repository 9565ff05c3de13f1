//! Platforms (`os/arch[/variant]`) and choosing an image index entry for one,
//! with containerd's normalization (`aarch64` = `arm64`, `arm64` = `arm64/v8`,
//! `arm` = `arm/v7`, `x86_64` = `amd64`) and compatible-variant fallbacks
//! (an `arm/v7` host runs `arm/v6`; an `amd64/v3` host runs `amd64`).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A platform as in an OCI index entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

const KNOWN_OS: &[&str] = &[
    "linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos", "android",
    "aix", "plan9", "js", "wasip1", "ios",
];

impl Platform {
    /// `os/arch[/variant]` without normalizing.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        Platform {
            architecture: architecture.to_string(),
            os: os.to_string(),
            variant: variant.filter(|v| !v.is_empty()).map(str::to_string),
            ..Platform::default()
        }
    }

    /// The platform this process runs on (always `linux/<arch>` for berth).
    pub fn host() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
            "mips64" if cfg!(target_endian = "little") => "mips64le",
            "loongarch64" => "loong64",
            other => other,
        };
        Platform::new("linux", arch, None).normalize()
    }

    /// Parses `os/arch[/variant]`, `os` alone (host arch) or `arch` alone
    /// (linux), as `docker pull --platform` does, normalized.
    pub fn parse(s: &str) -> Result<Platform> {
        let bad = |why: &str| Error::InvalidArgument(format!("invalid platform {s:?}: {why}"));
        let lower = s.trim().to_ascii_lowercase();
        let parts: Vec<&str> = lower.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(bad("empty component"));
        }
        let p = match parts.as_slice() {
            [one] if KNOWN_OS.contains(one) || *one == "macos" => {
                let host = Platform::host();
                Platform::new(one, &host.architecture, host.variant.as_deref())
            }
            [arch] => Platform::new("linux", arch, None),
            [os, arch] => Platform::new(os, arch, None),
            [os, arch, variant] => Platform::new(os, arch, Some(variant)),
            _ => return Err(bad("expected os/arch[/variant]")),
        };
        if !p
            .architecture
            .bytes()
            .chain(p.os.bytes())
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err(bad("invalid characters"));
        }
        Ok(p.normalize())
    }

    /// containerd's normalization: canonical names and default variants.
    pub fn normalize(&self) -> Platform {
        let mut os = self.os.to_ascii_lowercase();
        if os == "macos" {
            os = "darwin".into();
        }
        let arch = self.architecture.to_ascii_lowercase();
        let variant = self.variant.as_deref().unwrap_or("").to_ascii_lowercase();
        let (arch, variant): (&str, String) = match arch.as_str() {
            "x86_64" | "x86-64" | "amd64" => (
                "amd64",
                if variant == "v1" {
                    String::new()
                } else {
                    variant
                },
            ),
            "i386" | "386" => ("386", String::new()),
            "aarch64" | "arm64" => (
                "arm64",
                match variant.as_str() {
                    "" | "8" | "v8" | "v8.0" => "v8".into(),
                    "9" | "9.0" | "v9.0" => "v9".into(),
                    _ => variant,
                },
            ),
            "armhf" => ("arm", "v7".into()),
            "armel" => ("arm", "v6".into()),
            "arm" => (
                "arm",
                match variant.as_str() {
                    "" | "7" => "v7".into(),
                    "5" | "6" | "8" => format!("v{variant}"),
                    _ => variant,
                },
            ),
            other => (other, variant),
        };
        Platform {
            architecture: arch.to_string(),
            os,
            os_version: self.os_version.clone(),
            os_features: self.os_features.clone(),
            variant: (!variant.is_empty()).then_some(variant),
        }
    }

    /// How well an image for `candidate` runs on `self`: `Some(0)` for an exact
    /// match, larger for older compatible variants, `None` when it cannot run.
    pub fn match_rank(&self, candidate: &Platform) -> Option<u32> {
        let want = self.normalize();
        let have = candidate.normalize();
        if want.os != have.os || want.architecture != have.architecture {
            return None;
        }
        let level = |v: Option<&str>, default: u32| -> Option<u32> {
            match v {
                None => Some(default),
                Some(v) => v.strip_prefix('v')?.split('.').next()?.parse().ok(),
            }
        };
        let (w, h) = (want.variant.as_deref(), have.variant.as_deref());
        if w == h {
            return Some(0);
        }
        match want.architecture.as_str() {
            // Older ARM and x86-64 feature levels run on newer ones.
            "arm" | "arm64" | "amd64" => {
                let default = if want.architecture == "amd64" { 1 } else { 0 };
                let (w, h) = (level(w, default)?, level(h, default)?);
                (h < w).then(|| w - h)
            }
            _ => None,
        }
    }

    /// The best entry for this platform among `candidates` (first wins a tie).
    pub fn select<'a>(&self, candidates: impl IntoIterator<Item = &'a Platform>) -> Option<usize> {
        candidates
            .into_iter()
            .enumerate()
            .filter_map(|(i, p)| self.match_rank(p).map(|r| (r, i)))
            .min()
            .map(|(_, i)| i)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = Error;
    fn from_str(s: &str) -> Result<Platform> {
        Platform::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Platform {
        let parts: Vec<&str> = s.split('/').collect();
        Platform::new(parts[0], parts[1], parts.get(2).copied())
    }

    #[test]
    fn parse_and_normalize() {
        let cases = [
            ("linux/amd64", "linux/amd64"),
            ("linux/x86_64", "linux/amd64"),
            ("Linux/AMD64", "linux/amd64"),
            ("linux/arm64", "linux/arm64/v8"),
            ("linux/arm64/v8", "linux/arm64/v8"),
            ("linux/aarch64", "linux/arm64/v8"),
            ("linux/arm", "linux/arm/v7"),
            ("linux/armhf", "linux/arm/v7"),
            ("linux/arm/6", "linux/arm/v6"),
            ("linux/386", "linux/386"),
            ("arm64", "linux/arm64/v8"),
            ("linux/amd64/v1", "linux/amd64"),
            ("linux/s390x", "linux/s390x"),
        ];
        for (input, want) in cases {
            assert_eq!(Platform::parse(input).unwrap().to_string(), want, "{input}");
        }
        assert_eq!(
            Platform::parse("linux").unwrap().architecture,
            Platform::host().architecture
        );
        for bad in ["", "linux/", "a/b/c/d", "linux/am d64"] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching() {
        // (wanted, candidate, rank)
        let cases = [
            ("linux/amd64", "linux/amd64", Some(0)),
            ("linux/arm64/v8", "linux/arm64", Some(0)),
            ("linux/arm64", "linux/arm64/v8", Some(0)),
            ("linux/arm64", "linux/arm64/v9", None),
            ("linux/arm64/v9", "linux/arm64", Some(1)),
            ("linux/arm/v7", "linux/arm/v6", Some(1)),
            ("linux/arm/v7", "linux/arm/v5", Some(2)),
            ("linux/arm/v6", "linux/arm/v7", None),
            ("linux/arm", "linux/arm/v7", Some(0)),
            ("linux/amd64/v3", "linux/amd64", Some(2)),
            ("linux/amd64", "linux/amd64/v2", None),
            ("linux/amd64", "linux/arm64", None),
            ("linux/amd64", "windows/amd64", None),
            ("linux/arm64", "linux/arm/v7", None),
            ("linux/ppc64le", "linux/ppc64le", Some(0)),
        ];
        for (want, have, rank) in cases {
            assert_eq!(p(want).match_rank(&p(have)), rank, "{want} vs {have}");
        }
    }

    #[test]
    fn select_prefers_exact_then_first() {
        let cands = [
            p("linux/arm/v5"),
            p("linux/amd64"),
            p("linux/arm/v7"),
            p("linux/arm/v6"),
        ];
        assert_eq!(p("linux/arm/v7").select(&cands), Some(2));
        assert_eq!(p("linux/arm/v6").select(&cands), Some(3));
        assert_eq!(p("linux/amd64").select(&cands), Some(1));
        assert_eq!(p("linux/arm64").select(&cands), None);
        let dup = [p("linux/amd64"), p("linux/amd64")];
        assert_eq!(p("linux/amd64").select(&dup), Some(0));
    }

    #[test]
    fn serde_names() {
        let j = r#"{"architecture":"arm64","os":"linux","variant":"v8","os.features":["x"]}"#;
        let p: Platform = serde_json::from_str(j).unwrap();
        assert_eq!(p.os_features, ["x"]);
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"architecture":"arm64","os":"linux","os.features":["x"],"variant":"v8"}"#
        );
    }
}
