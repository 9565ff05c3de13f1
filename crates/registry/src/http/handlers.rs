//! One handler per endpoint: parse, call one [`Registry`] method, build the
//! response. Errors go to `http::error`.

use super::{AppState, Req};
use crate::error::{Error, Result};
use crate::manifest::OCI_INDEX;
use crate::names::{parse_digest, ManifestRef};
use crate::repo::RangeSpec;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use base::digest::Algorithm;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::json;

type Headers = Vec<(&'static str, String)>;

fn respond(status: StatusCode, headers: Headers, body: Body) -> Response {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    for (k, v) in headers {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.append(k, v);
        }
    }
    r
}

fn upload_location(name: &str, id: &str) -> String {
    format!("/v2/{name}/blobs/uploads/{id}")
}

fn range_header(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

/// `Content-Range` of a chunk: `<start>-<end>` (also `bytes <start>-<end>/<total>`).
fn chunk_start(headers: &HeaderMap) -> Result<Option<u64>> {
    let Some(v) = headers.get(header::CONTENT_RANGE) else {
        return Ok(None);
    };
    let v = v.to_str().unwrap_or("");
    let v = v.strip_prefix("bytes ").unwrap_or(v);
    let v = v.split('/').next().unwrap_or("");
    let parsed = v
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse::<u64>().ok()?, b.trim().parse::<u64>().ok()?)));
    let (a, b) = parsed
        .filter(|(a, b)| a <= b)
        .ok_or_else(|| Error::BlobUploadInvalid(format!("bad Content-Range {v:?}")))?;
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|l| l.to_str().ok()?.parse::<u64>().ok())
    {
        if len != b - a + 1 {
            return Err(Error::SizeInvalid(format!(
                "Content-Range {a}-{b} but Content-Length {len}"
            )));
        }
    }
    Ok(Some(a))
}

/// A single `Range: bytes=…` (several ranges: the whole blob is served).
fn range_spec(headers: &HeaderMap) -> Option<RangeSpec> {
    let v = headers.get(header::RANGE)?.to_str().ok()?;
    let spec = v.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        return b.parse().ok().map(RangeSpec::Last);
    }
    let a = a.parse().ok()?;
    let b = if b.is_empty() {
        None
    } else {
        Some(b.parse().ok()?)
    };
    Some(RangeSpec::From(a, b))
}

/// `GET`/`HEAD /v2/<name>/blobs/<digest>`.
pub async fn blob_get(st: &AppState, req: Req, name: &str, digest: &str) -> Result<Response> {
    let d = parse_digest(digest)?;
    let mut h: Headers = vec![
        ("docker-content-digest", d.to_string()),
        ("content-type", "application/octet-stream".into()),
        ("accept-ranges", "bytes".into()),
        ("etag", format!("\"{d}\"")),
        ("cache-control", "max-age=31536000".into()),
    ];
    if req.method == Method::HEAD {
        let info = st.registry.blob_stat(name, &d).await?;
        h.push(("content-length", info.size.to_string()));
        return Ok(respond(StatusCode::OK, h, Body::empty()));
    }
    let read = st
        .registry
        .blob_read(name, &d, range_spec(&req.headers))
        .await?;
    let status = match read.range {
        Some((a, b)) => {
            h.push(("content-range", format!("bytes {a}-{b}/{}", read.size)));
            h.push(("content-length", (b - a + 1).to_string()));
            StatusCode::PARTIAL_CONTENT
        }
        None => {
            h.push(("content-length", read.size.to_string()));
            StatusCode::OK
        }
    };
    st.metrics
        .add_sent(read.range.map_or(read.size, |(a, b)| b - a + 1));
    Ok(respond(status, h, Body::from_stream(read.body)))
}

/// `DELETE /v2/<name>/blobs/<digest>`.
pub async fn blob_delete(st: &AppState, name: &str, digest: &str) -> Result<Response> {
    let d = parse_digest(digest)?;
    st.registry.blob_delete(name, &d).await?;
    Ok(respond(StatusCode::ACCEPTED, vec![], Body::empty()))
}

fn blob_created(name: &str, digest: &base::Digest) -> Response {
    respond(
        StatusCode::CREATED,
        vec![
            ("location", format!("/v2/{name}/blobs/{digest}")),
            ("docker-content-digest", digest.to_string()),
        ],
        Body::empty(),
    )
}

fn upload_accepted(status: StatusCode, name: &str, id: &str, size: u64) -> Response {
    respond(
        status,
        vec![
            ("location", upload_location(name, id)),
            ("range", range_header(size)),
            ("docker-upload-uuid", id.to_string()),
        ],
        Body::empty(),
    )
}

/// `POST /v2/<name>/blobs/uploads/`: a session, a cross-repository mount,
/// or a whole blob (`?digest=`).
pub async fn upload_start(st: &AppState, req: Req, name: &str) -> Result<Response> {
    if let (Some(mount), Some(from)) = (req.query("mount"), req.query("from")) {
        let d = parse_digest(mount)?;
        if let Some(info) = st.registry.blob_mount(name, from, &d).await? {
            return Ok(blob_created(name, &info.digest));
        }
    }
    let alg = match req.query("digest-algorithm") {
        Some(a) => Algorithm::parse(a)
            .ok_or_else(|| Error::DigestInvalid(format!("unsupported algorithm {a:?}")))?,
        None => Algorithm::Sha256,
    };
    let digest = req.query("digest").map(parse_digest).transpose()?;
    let status = st
        .registry
        .upload_start(name, digest.as_ref().map_or(alg, |d| d.algorithm()))
        .await?;
    match digest {
        Some(d) => {
            let info = st
                .registry
                .upload_finish(name, &status.id, &d, None, req.body_stream(st))
                .await?;
            Ok(blob_created(name, &info.digest))
        }
        None => Ok(upload_accepted(StatusCode::ACCEPTED, name, &status.id, 0)),
    }
}

/// `PATCH <location>`: one chunk.
pub async fn upload_patch(st: &AppState, req: Req, name: &str, id: &str) -> Result<Response> {
    let start = chunk_start(&req.headers)?;
    let status = st
        .registry
        .upload_write(name, id, start, req.body_stream(st))
        .await?;
    Ok(upload_accepted(StatusCode::ACCEPTED, name, id, status.size))
}

/// `PUT <location>?digest=`: the optional last chunk, then commit.
pub async fn upload_put(st: &AppState, req: Req, name: &str, id: &str) -> Result<Response> {
    let digest = req
        .query("digest")
        .ok_or_else(|| Error::DigestInvalid("missing digest parameter".into()))?;
    let d = parse_digest(digest)?;
    let start = chunk_start(&req.headers)?;
    let info = st
        .registry
        .upload_finish(name, id, &d, start, req.body_stream(st))
        .await?;
    Ok(blob_created(name, &info.digest))
}

/// `GET <location>`: where the upload stands.
pub async fn upload_status(st: &AppState, name: &str, id: &str) -> Result<Response> {
    let status = st.registry.upload_status(name, id).await?;
    Ok(upload_accepted(
        StatusCode::NO_CONTENT,
        name,
        id,
        status.size,
    ))
}

/// `DELETE <location>`.
pub async fn upload_cancel(st: &AppState, name: &str, id: &str) -> Result<Response> {
    st.registry.upload_cancel(name, id).await?;
    Ok(respond(StatusCode::NO_CONTENT, vec![], Body::empty()))
}

/// `GET`/`HEAD /v2/<name>/manifests/<reference>`.
pub async fn manifest_get(
    st: &AppState,
    req: Req,
    name: &str,
    reference: &str,
) -> Result<Response> {
    // A tag or digest that cannot exist names no manifest: 404
    // MANIFEST_UNKNOWN, as distribution answers (and the OCI conformance
    // suite expects); a PUT's malformed reference stays a 400.
    let r = ManifestRef::parse(reference)
        .map_err(|_| Error::ManifestUnknown(format!("unknown manifest reference {reference:?}")))?;
    let m = st.registry.manifest_get(name, &r).await?;
    let accept: Vec<&str> = req
        .headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if !crate::manifest::accepted(&accept, &m.media_type) {
        return Err(Error::ManifestUnknown(format!(
            "{reference} is a {} but the client accepts {}",
            m.media_type,
            accept.join(", ")
        )));
    }
    let h = vec![
        ("content-type", m.media_type.clone()),
        ("docker-content-digest", m.digest.to_string()),
        ("etag", format!("\"{}\"", m.digest)),
        ("content-length", m.content.len().to_string()),
    ];
    let body = if req.method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(m.content)
    };
    Ok(respond(StatusCode::OK, h, body))
}

/// `PUT /v2/<name>/manifests/<reference>[?tag=…]`.
pub async fn manifest_put(
    st: &AppState,
    req: Req,
    name: &str,
    reference: &str,
) -> Result<Response> {
    let r = ManifestRef::parse(reference)?;
    let tags: Vec<String> = req.query_all("tag").map(String::from).collect();
    let content_type = req
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let limit = st.registry.options().max_manifest_size;
    let body = req.body_bytes(limit).await?;
    let pushed = st
        .registry
        .manifest_put(name, &r, content_type.as_deref(), body, &tags)
        .await?;
    let mut h = vec![
        (
            "location",
            format!("/v2/{name}/manifests/{}", pushed.digest),
        ),
        ("docker-content-digest", pushed.digest.to_string()),
    ];
    if let Some(s) = &pushed.subject {
        h.push(("oci-subject", s.to_string()));
    }
    if !tags.is_empty() {
        h.push(("oci-tag", pushed.tags.join(", ")));
    }
    Ok(respond(StatusCode::CREATED, h, Body::empty()))
}

/// `DELETE /v2/<name>/manifests/<reference>`.
pub async fn manifest_delete(st: &AppState, name: &str, reference: &str) -> Result<Response> {
    let r = ManifestRef::parse(reference)?;
    st.registry.manifest_delete(name, &r).await?;
    Ok(respond(StatusCode::ACCEPTED, vec![], Body::empty()))
}

fn page_params(req: &Req) -> Result<(Option<usize>, Option<String>)> {
    let n = req
        .query("n")
        .map(|n| {
            n.parse::<usize>()
                .map_err(|_| Error::InvalidRequest(format!("invalid n {n:?}")))
        })
        .transpose()?;
    Ok((n, req.query("last").map(String::from)))
}

fn next_link(path: &str, n: Option<usize>, items: &[String]) -> Option<String> {
    let last = items.last()?;
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    Some(format!(
        "<{path}?n={}&last={}>; rel=\"next\"",
        n.unwrap_or(items.len()),
        enc(last)
    ))
}

/// `GET /v2/<name>/tags/list[?n=&last=]`.
pub async fn tags_list(st: &AppState, req: Req, name: &str) -> Result<Response> {
    let (n, last) = page_params(&req)?;
    let (tags, more) = st.registry.tags_list(name, n, last.as_deref()).await?;
    let mut h = vec![("content-type", "application/json".to_string())];
    if more {
        h.extend(next_link(&format!("/v2/{name}/tags/list"), n, &tags).map(|l| ("link", l)));
    }
    let body = serde_json::to_vec(&json!({"name": name, "tags": tags})).unwrap_or_default();
    Ok(respond(StatusCode::OK, h, Body::from(body)))
}

/// `GET /v2/_catalog[?n=&last=]`.
pub async fn catalog(st: &AppState, req: Req) -> Result<Response> {
    let (n, last) = page_params(&req)?;
    let (repos, more) = st.registry.catalog(n, last.as_deref()).await?;
    let mut h = vec![("content-type", "application/json".to_string())];
    if more {
        h.extend(next_link("/v2/_catalog", n, &repos).map(|l| ("link", l)));
    }
    let body = serde_json::to_vec(&json!({"repositories": repos})).unwrap_or_default();
    Ok(respond(StatusCode::OK, h, Body::from(body)))
}

/// `GET /v2/<name>/referrers/<digest>[?artifactType=]`.
pub async fn referrers(st: &AppState, req: Req, name: &str, digest: &str) -> Result<Response> {
    let d = parse_digest(digest)?;
    let filter = req.query("artifactType");
    let list = st.registry.referrers(name, &d, filter).await?;
    let mut h = vec![("content-type", OCI_INDEX.to_string())];
    if filter.is_some() {
        h.push(("oci-filters-applied", "artifactType".into()));
    }
    let body = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": list});
    Ok(respond(
        StatusCode::OK,
        h,
        Body::from(serde_json::to_vec(&body).unwrap_or_default()),
    ))
}

/// `GET /token`: the token endpoint of the token flow.
pub async fn token(st: &AppState, req: Req) -> Result<Response> {
    let scopes: Vec<String> = req.query_all("scope").map(String::from).collect();
    let auth = req
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let t = st
        .auth
        .issue_token(auth, req.query("service"), &scopes)
        .await?;
    Ok(axum::Json(t).into_response())
}
