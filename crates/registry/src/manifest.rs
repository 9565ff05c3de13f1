//! Manifest media types, validation and the facts the repository layer
//! needs from a manifest (what it references, its subject, its referrers
//! descriptor).

use crate::error::{Error, Result};
use crate::names::parse_digest;
use base::Digest;
use serde_json::{Map, Value};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// An image manifest (config + layers) or an index (manifests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Image,
    Index,
}

/// A referenced descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    /// Non-distributable layers name external URLs and need not be present.
    pub external: bool,
}

/// A validated manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub media_type: String,
    pub kind: Kind,
    /// Config and layers of an image manifest.
    pub blobs: Vec<Descriptor>,
    /// Children of an index.
    pub manifests: Vec<Descriptor>,
    pub subject: Option<Descriptor>,
    /// `artifactType`, or for an image manifest the config's media type.
    pub artifact_type: Option<String>,
    pub annotations: Option<Map<String, Value>>,
}

/// Strips parameters and whitespace from a `Content-Type` value.
pub fn bare_media_type(v: &str) -> &str {
    v.split(';').next().unwrap_or("").trim()
}

fn kind_of(media_type: &str) -> Option<Kind> {
    match media_type {
        OCI_MANIFEST | DOCKER_MANIFEST => Some(Kind::Image),
        OCI_INDEX | DOCKER_LIST => Some(Kind::Index),
        _ => None,
    }
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::ManifestInvalid(msg.into())
}

fn descriptor(v: &Value, what: &str) -> Result<Descriptor> {
    let o = v
        .as_object()
        .ok_or_else(|| invalid(format!("{what}: not an object")))?;
    let media_type = o
        .get("mediaType")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{what}: missing mediaType")))?
        .to_string();
    let digest = o
        .get("digest")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("{what}: missing digest")))?;
    let digest = parse_digest(digest).map_err(|_| invalid(format!("{what}: invalid digest")))?;
    let size = o
        .get("size")
        .and_then(Value::as_u64)
        .ok_or_else(|| invalid(format!("{what}: missing or negative size")))?;
    let external = o
        .get("urls")
        .and_then(Value::as_array)
        .is_some_and(|u| !u.is_empty());
    Ok(Descriptor {
        media_type,
        digest,
        size,
        external,
    })
}

fn descriptors(o: &Map<String, Value>, field: &str) -> Result<Vec<Descriptor>> {
    match o.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| descriptor(v, &format!("{field}[{i}]")))
            .collect(),
        Some(_) => Err(invalid(format!("{field}: not an array"))),
    }
}

/// Parses and validates a pushed manifest. `content_type` is the request's
/// `Content-Type`; the body's `mediaType`, when present, must agree with it.
pub fn parse(content: &[u8], content_type: Option<&str>) -> Result<Manifest> {
    let v: Value = serde_json::from_slice(content).map_err(|e| invalid(format!("json: {e}")))?;
    let o = v.as_object().ok_or_else(|| invalid("not a json object"))?;
    let declared = match o.get("mediaType") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(invalid("mediaType: not a string")),
    };
    let header = content_type
        .map(bare_media_type)
        .filter(|t| !t.is_empty() && *t != "application/json" && *t != "application/octet-stream");
    let media_type = match (declared, header) {
        (Some(d), Some(h)) if d != h => {
            return Err(invalid(format!(
                "mediaType {d:?} does not match Content-Type {h:?}"
            )))
        }
        (Some(d), _) => d.to_string(),
        (None, Some(h)) => h.to_string(),
        // Neither says: an OCI manifest or index, by shape.
        (None, None) if o.contains_key("manifests") => OCI_INDEX.to_string(),
        (None, None) => OCI_MANIFEST.to_string(),
    };
    let kind = kind_of(&media_type)
        .ok_or_else(|| invalid(format!("unsupported manifest media type {media_type:?}")))?;
    if o.get("schemaVersion").and_then(Value::as_i64) != Some(2) {
        return Err(invalid("schemaVersion must be 2"));
    }
    let artifact_type = match o.get("artifactType") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(invalid("artifactType: not a string")),
    };
    let subject = match o.get("subject") {
        None | Some(Value::Null) => None,
        Some(s) => Some(descriptor(s, "subject")?),
    };
    let annotations = match o.get("annotations") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => return Err(invalid("annotations: not an object")),
    };
    let mut m = Manifest {
        media_type,
        kind,
        blobs: Vec::new(),
        manifests: Vec::new(),
        subject,
        artifact_type,
        annotations,
    };
    match kind {
        Kind::Image => {
            let config = o.get("config").ok_or_else(|| invalid("missing config"))?;
            let config = descriptor(config, "config")?;
            if o.get("layers").is_some_and(|l| !l.is_array()) || o.get("layers").is_none() {
                return Err(invalid("layers: missing or not an array"));
            }
            if m.artifact_type.is_none() {
                m.artifact_type = Some(config.media_type.clone());
            }
            m.blobs.push(config);
            m.blobs.extend(descriptors(o, "layers")?);
        }
        Kind::Index => {
            if !o.get("manifests").is_some_and(Value::is_array) {
                return Err(invalid("manifests: missing or not an array"));
            }
            m.manifests = descriptors(o, "manifests")?;
        }
    }
    Ok(m)
}

/// The descriptor listed for this manifest by the referrers API.
pub fn referrer_descriptor(m: &Manifest, digest: &Digest, size: u64) -> Value {
    let mut d = Map::new();
    d.insert("mediaType".into(), m.media_type.clone().into());
    d.insert("digest".into(), digest.to_string().into());
    d.insert("size".into(), size.into());
    if let Some(t) = m.artifact_type.as_deref().filter(|t| !t.is_empty()) {
        d.insert("artifactType".into(), t.into());
    }
    if let Some(a) = &m.annotations {
        d.insert("annotations".into(), Value::Object(a.clone()));
    }
    Value::Object(d)
}

/// The media type of stored manifest bytes (validated when pushed).
pub fn stored_media_type(content: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_slice::<Probe>(content) {
        Ok(Probe {
            media_type: Some(t),
            ..
        }) => t,
        Ok(Probe {
            manifests: Some(_), ..
        }) => OCI_INDEX.to_string(),
        _ => OCI_MANIFEST.to_string(),
    }
}

/// Whether a client's `Accept` values admit `media_type`. No `Accept` at
/// all admits anything, as do `*/*` and `application/*`.
pub fn accepted(accept: &[&str], media_type: &str) -> bool {
    let mut any = false;
    for v in accept {
        for t in v.split(',') {
            let t = bare_media_type(t);
            if t.is_empty() {
                continue;
            }
            any = true;
            if t == media_type || t == "*/*" || t == "application/*" {
                return true;
            }
        }
    }
    !any
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: &str) -> String {
        Digest::of(c.as_bytes()).to_string()
    }

    #[test]
    fn image_manifest() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}",
            "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":2}},
            "layers":[{{"mediaType":"l","digest":"{}","size":1}},
                      {{"mediaType":"l","digest":"{}","size":1,"urls":["http://x"]}}],
            "subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{}","size":9}},
            "annotations":{{"a":"b"}}}}"#,
            d("c"),
            d("l"),
            d("f"),
            d("s")
        );
        let m = parse(body.as_bytes(), Some(OCI_MANIFEST)).unwrap();
        assert_eq!(m.kind, Kind::Image);
        assert_eq!(m.blobs.len(), 3);
        assert!(m.blobs[2].external);
        assert_eq!(m.subject.as_ref().unwrap().digest.to_string(), d("s"));
        assert_eq!(
            m.artifact_type.as_deref(),
            Some("application/vnd.oci.image.config.v1+json")
        );
        let dig = Digest::of(body.as_bytes());
        let desc = referrer_descriptor(&m, &dig, 7);
        assert_eq!(desc["annotations"]["a"], "b");
        assert_eq!(desc["size"], 7);
        assert_eq!(stored_media_type(body.as_bytes()), OCI_MANIFEST);
    }

    #[test]
    fn invalid_manifests() {
        let cases: &[(&str, Option<&str>)] = &[
            ("not json", Some(OCI_MANIFEST)),
            ("[]", Some(OCI_MANIFEST)),
            (r#"{"schemaVersion":2,"layers":[]}"#, Some(OCI_MANIFEST)),
            (r#"{"schemaVersion":1,"manifests":[]}"#, Some(OCI_INDEX)),
            (
                r#"{"schemaVersion":2,"manifests":[]}"#,
                Some("application/x-unknown"),
            ),
            (
                r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
                Some(DOCKER_LIST),
            ),
            (
                r#"{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:1","size":1}]}"#,
                Some(OCI_INDEX),
            ),
            (
                r#"{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":-1}]}"#,
                Some(OCI_INDEX),
            ),
        ];
        for (body, ct) in cases {
            assert!(
                matches!(parse(body.as_bytes(), *ct), Err(Error::ManifestInvalid(_))),
                "{body}"
            );
        }
        let idx = parse(br#"{"schemaVersion":2,"manifests":[]}"#, None).unwrap();
        assert_eq!(
            (idx.kind, idx.media_type.as_str()),
            (Kind::Index, OCI_INDEX)
        );
        assert_eq!(idx.artifact_type, None);
    }

    #[test]
    fn accept_negotiation() {
        assert!(accepted(&[], OCI_MANIFEST));
        assert!(accepted(&["*/*"], OCI_MANIFEST));
        assert!(accepted(
            &[&format!("{DOCKER_MANIFEST}, {OCI_MANIFEST};q=0.9")],
            OCI_MANIFEST
        ));
        assert!(!accepted(&[DOCKER_MANIFEST, DOCKER_LIST], OCI_INDEX));
        assert!(accepted(&[DOCKER_MANIFEST, DOCKER_LIST], DOCKER_LIST));
    }
}
