//! Manifests and indexes, OCI and Docker schema 2, as typed serde structs.
//!
//! These are our own small structs rather than oci-spec's: descriptors carry
//! a [`base::Digest`] (validated once, used everywhere in berth), unknown
//! fields and media types are tolerated (Docker's and OCI's shapes differ
//! only in media type strings), and the exact bytes are always kept beside
//! the parsed form ([`Manifest::bytes`]), since the digest is over those bytes.

use crate::error::{Error, Result};
use crate::platform::Platform;
use base::Digest;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Media types the client knows.
pub mod media_type {
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    pub const DOCKER_MANIFEST_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";
    pub const DOCKER_MANIFEST_V1_SIGNED: &str =
        "application/vnd.docker.distribution.manifest.v1+prettyjws";
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
    pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    pub const OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
    pub const OCI_LAYER_NONDISTRIBUTABLE: &str =
        "application/vnd.oci.image.layer.nondistributable.v1.tar";
    pub const OCI_LAYER_NONDISTRIBUTABLE_GZIP: &str =
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    pub const OCI_LAYER_NONDISTRIBUTABLE_ZSTD: &str =
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
    pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    pub const DOCKER_LAYER_FOREIGN_GZIP: &str =
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    /// The `Accept` value for manifest requests: every manifest and index type we parse.
    pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
}

/// How a layer blob is compressed, from its media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// The compression of a layer media type; `None` for non-layer types.
    pub fn of_layer(media_type: &str) -> Option<Compression> {
        use media_type::*;
        match media_type {
            OCI_LAYER | OCI_LAYER_NONDISTRIBUTABLE => Some(Compression::None),
            OCI_LAYER_GZIP
            | OCI_LAYER_NONDISTRIBUTABLE_GZIP
            | DOCKER_LAYER_GZIP
            | DOCKER_LAYER_FOREIGN_GZIP => Some(Compression::Gzip),
            OCI_LAYER_ZSTD | OCI_LAYER_NONDISTRIBUTABLE_ZSTD => Some(Compression::Zstd),
            _ => None,
        }
    }
}

mod digest_serde {
    use base::Digest;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Digest, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(d.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let s = String::deserialize(d)?;
        Digest::parse(&s).map_err(|e| serde::de::Error::custom(e.message))
    }
}

/// A content descriptor: what a manifest says about a blob or a child manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    #[serde(with = "digest_serde")]
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    /// A descriptor for `data` with this media type.
    pub fn of(media_type: &str, data: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: Digest::of(data),
            size: data.len() as u64,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        }
    }
}

/// An image manifest (OCI or Docker schema 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image index (OCI) or manifest list (Docker).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageIndex {
    /// Entries that are images for some platform (BuildKit's attestation
    /// manifests, `unknown/unknown`, are left out).
    pub fn platform_entries(&self) -> impl Iterator<Item = (&Descriptor, &Platform)> {
        self.manifests.iter().filter_map(|d| {
            let p = d.platform.as_ref()?;
            let attestation = d
                .annotations
                .get("vnd.docker.reference.type")
                .is_some_and(|t| t == "attestation-manifest");
            (!attestation && p.os != "unknown").then_some((d, p))
        })
    }

    /// The entry for `platform` (see [`Platform::select`]), or an error listing
    /// the available platforms.
    pub fn select(&self, platform: &Platform, reference: &str) -> Result<&Descriptor> {
        let entries: Vec<_> = self.platform_entries().collect();
        match platform.select(entries.iter().map(|(_, p)| *p)) {
            Some(i) => Ok(entries[i].0),
            None => {
                let mut available: Vec<String> =
                    entries.iter().map(|(_, p)| p.to_string()).collect();
                available.dedup();
                Err(Error::NoMatchingPlatform {
                    reference: reference.to_string(),
                    wanted: platform.normalize().to_string(),
                    available: if available.is_empty() {
                        "none".into()
                    } else {
                        available.join(", ")
                    },
                })
            }
        }
    }
}

/// A parsed manifest or index.
// A few per pull: boxing would only make matching noisier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestContent {
    Image(ImageManifest),
    Index(ImageIndex),
}

/// A manifest as fetched: its digest, media type, exact bytes and parsed form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// sha256 of `bytes`.
    pub digest: Digest,
    pub media_type: String,
    pub bytes: Bytes,
    pub content: ManifestContent,
}

/// Manifests larger than this are refused (containerd uses the same bound).
pub const MAX_MANIFEST_SIZE: usize = 4 << 20;

fn is_manifest_type(t: &str) -> bool {
    use media_type::*;
    matches!(
        t,
        OCI_MANIFEST | OCI_INDEX | DOCKER_MANIFEST | DOCKER_MANIFEST_LIST
    )
}

impl Manifest {
    /// Parses manifest bytes. The media type is the body's `mediaType`, else
    /// the `Content-Type` given (when it names a manifest type), else
    /// inferred from the shape (`manifests` → index, `config` → manifest).
    pub fn parse(bytes: Bytes, content_type: Option<&str>) -> Result<Manifest> {
        let digest = Digest::of(&bytes);
        let invalid = |reason: String| Error::InvalidManifest {
            reference: digest.to_string(),
            reason,
        };
        if bytes.len() > MAX_MANIFEST_SIZE {
            return Err(invalid(format!(
                "{} bytes exceeds the limit of {MAX_MANIFEST_SIZE}",
                bytes.len()
            )));
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Probe {
            #[serde(default)]
            schema_version: Option<u32>,
            #[serde(default)]
            media_type: Option<String>,
            #[serde(default)]
            manifests: Option<serde_json::Value>,
            #[serde(default)]
            config: Option<serde_json::Value>,
        }
        let probe: Probe =
            serde_json::from_slice(&bytes).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let header = content_type
            .map(|c| {
                c.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|c| is_manifest_type(c) || c.contains("manifest.v1"));
        let media_type = probe
            .media_type
            .clone()
            .filter(|m| !m.is_empty())
            .or(header)
            .unwrap_or_else(|| {
                if probe.manifests.is_some() {
                    media_type::OCI_INDEX.into()
                } else if probe.config.is_some() {
                    media_type::OCI_MANIFEST.into()
                } else {
                    String::new()
                }
            });
        if probe.schema_version == Some(1)
            || media_type == media_type::DOCKER_MANIFEST_V1
            || media_type == media_type::DOCKER_MANIFEST_V1_SIGNED
        {
            return Err(invalid(
                "Docker Image manifest version 2, schema 1 is not supported: the image must be pushed again in a newer format".into(),
            ));
        }
        if probe.schema_version != Some(2) {
            return Err(invalid(format!(
                "unsupported schemaVersion {:?}",
                probe.schema_version
            )));
        }
        let content = match media_type.as_str() {
            media_type::OCI_INDEX | media_type::DOCKER_MANIFEST_LIST => ManifestContent::Index(
                serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?,
            ),
            media_type::OCI_MANIFEST | media_type::DOCKER_MANIFEST => ManifestContent::Image(
                serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?,
            ),
            other => {
                return Err(invalid(format!(
                    "unsupported manifest media type {other:?}"
                )));
            }
        };
        Ok(Manifest {
            digest,
            media_type,
            bytes,
            content,
        })
    }

    /// The image manifest, if this is one.
    pub fn image(&self) -> Option<&ImageManifest> {
        match &self.content {
            ManifestContent::Image(m) => Some(m),
            ManifestContent::Index(_) => None,
        }
    }

    /// The index, if this is one.
    pub fn index(&self) -> Option<&ImageIndex> {
        match &self.content {
            ManifestContent::Index(i) => Some(i),
            ManifestContent::Image(_) => None,
        }
    }

    /// A descriptor for this manifest (media type, digest, size).
    pub fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.clone(),
            digest: self.digest.clone(),
            size: self.bytes.len() as u64,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u8) -> String {
        Digest::of(&[n]).to_string()
    }

    #[test]
    fn parses_each_kind() {
        let docker = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","size":7,"digest":"{}"}},"layers":[{{"mediaType":"{}","size":9,"digest":"{}"}}]}}"#,
            media_type::DOCKER_MANIFEST,
            media_type::DOCKER_CONFIG,
            d(1),
            media_type::DOCKER_LAYER_GZIP,
            d(2)
        );
        let m = Manifest::parse(Bytes::from(docker.clone()), None).unwrap();
        assert_eq!(m.media_type, media_type::DOCKER_MANIFEST);
        assert_eq!(m.digest, Digest::of(docker.as_bytes()));
        let img = m.image().unwrap();
        assert_eq!(img.layers[0].size, 9);
        assert_eq!(
            Compression::of_layer(&img.layers[0].media_type),
            Some(Compression::Gzip)
        );

        // OCI manifest without mediaType: the header decides, else the shape.
        let oci = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"{}","size":7,"digest":"{}"}},"layers":[],"annotations":{{"a":"b"}},"extra":1}}"#,
            media_type::OCI_CONFIG,
            d(1)
        );
        let m = Manifest::parse(
            Bytes::from(oci.clone()),
            Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8"),
        )
        .unwrap();
        assert_eq!(m.media_type, media_type::OCI_MANIFEST);
        let m = Manifest::parse(Bytes::from(oci), Some("application/json")).unwrap();
        assert_eq!(m.media_type, media_type::OCI_MANIFEST);
        assert_eq!(m.image().unwrap().annotations["a"], "b");

        let list = format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[
              {{"mediaType":"{}","size":1,"digest":"{}","platform":{{"architecture":"amd64","os":"linux"}}}},
              {{"mediaType":"{}","size":1,"digest":"{}","platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}},
              {{"mediaType":"{}","size":1,"digest":"{}","platform":{{"architecture":"unknown","os":"unknown"}},
                "annotations":{{"vnd.docker.reference.type":"attestation-manifest"}}}}]}}"#,
            media_type::DOCKER_MANIFEST_LIST,
            media_type::DOCKER_MANIFEST,
            d(3),
            media_type::DOCKER_MANIFEST,
            d(4),
            media_type::OCI_MANIFEST,
            d(5)
        );
        let m = Manifest::parse(Bytes::from(list), None).unwrap();
        let idx = m.index().unwrap();
        assert_eq!(idx.platform_entries().count(), 2);
        let arm = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(idx.select(&arm, "x").unwrap().digest.to_string(), d(4));
        let amd = Platform::parse("linux/amd64").unwrap();
        assert_eq!(idx.select(&amd, "x").unwrap().digest.to_string(), d(3));
        let e = idx
            .select(&Platform::parse("linux/s390x").unwrap(), "x")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "no matching manifest for linux/s390x in the manifest list entries (available: linux/amd64, linux/arm64/v8)"
        );
        assert_eq!(e.kind(), base::ErrorKind::NotFound);
    }

    #[test]
    fn rejects_bad_manifests() {
        let cases = [
            ("not json", "not JSON"),
            (r#"{"schemaVersion":1,"name":"x"}"#, "schema 1"),
            (r#"{"schemaVersion":3,"config":{}}"#, "schemaVersion"),
            (
                r#"{"schemaVersion":2,"mediaType":"application/x-foo","config":{}}"#,
                "unsupported manifest media type",
            ),
            (
                r#"{"schemaVersion":2,"config":{"mediaType":"x","size":1,"digest":"sha256:abc"}}"#,
                "invalid digest",
            ),
            (
                r#"{"schemaVersion":2,"config":{"mediaType":"x","size":-1,"digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000"}}"#,
                "invalid value",
            ),
        ];
        for (body, want) in cases {
            let e = Manifest::parse(Bytes::from(body), None).unwrap_err();
            assert_eq!(e.kind(), base::ErrorKind::InvalidArgument, "{body}");
            assert!(e.to_string().contains(want), "{body}: {e}");
        }
    }

    #[test]
    fn descriptor_roundtrip() {
        let desc = Descriptor::of(media_type::OCI_LAYER_ZSTD, b"abc");
        let j = serde_json::to_string(&desc).unwrap();
        assert_eq!(
            j,
            format!(
                r#"{{"mediaType":"{}","digest":"{}","size":3}}"#,
                media_type::OCI_LAYER_ZSTD,
                Digest::of(b"abc")
            )
        );
        assert_eq!(serde_json::from_str::<Descriptor>(&j).unwrap(), desc);
    }
}
