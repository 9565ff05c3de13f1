//! The one place where registry errors become HTTP: status, spec error
//! code and the JSON body `{"errors":[{"code","message","detail"}]}`.

use crate::error::Error;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use serde_json::json;

/// Status and spec code of an error.
pub fn status_and_code(e: &Error) -> (StatusCode, &'static str) {
    use StatusCode as S;
    match e {
        Error::BlobUnknown(_) => (S::NOT_FOUND, "BLOB_UNKNOWN"),
        Error::BlobUploadInvalid(_) | Error::Body(_) => (S::BAD_REQUEST, "BLOB_UPLOAD_INVALID"),
        Error::BlobUploadUnknown(_) => (S::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN"),
        Error::RangeInvalid { .. } => (S::RANGE_NOT_SATISFIABLE, "BLOB_UPLOAD_INVALID"),
        Error::RangeNotSatisfiable { .. } => (S::RANGE_NOT_SATISFIABLE, "BLOB_UNKNOWN"),
        Error::DigestMismatch { .. } | Error::DigestInvalid(_) => {
            (S::BAD_REQUEST, "DIGEST_INVALID")
        }
        Error::ManifestBlobUnknown(_) => (S::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN"),
        Error::ManifestInvalid(_) => (S::BAD_REQUEST, "MANIFEST_INVALID"),
        Error::ManifestUnknown(_) => (S::NOT_FOUND, "MANIFEST_UNKNOWN"),
        Error::ManifestTooLarge { .. } => (S::PAYLOAD_TOO_LARGE, "SIZE_INVALID"),
        Error::NameInvalid(_) => (S::BAD_REQUEST, "NAME_INVALID"),
        Error::NameUnknown(_) => (S::NOT_FOUND, "NAME_UNKNOWN"),
        Error::TagInvalid(_) => (S::BAD_REQUEST, "MANIFEST_INVALID"),
        Error::SizeInvalid(_) => (S::BAD_REQUEST, "SIZE_INVALID"),
        Error::RouteUnknown(_) => (S::NOT_FOUND, "UNSUPPORTED"),
        Error::MethodNotAllowed => (S::METHOD_NOT_ALLOWED, "UNSUPPORTED"),
        Error::InvalidRequest(_) => (S::BAD_REQUEST, "UNSUPPORTED"),
        Error::Disabled(_) => (S::METHOD_NOT_ALLOWED, "UNSUPPORTED"),
        Error::Unsupported(_) => (S::NOT_FOUND, "UNSUPPORTED"),
        Error::Unauthorized { .. } => (S::UNAUTHORIZED, "UNAUTHORIZED"),
        Error::Denied => (S::FORBIDDEN, "DENIED"),
        Error::Storage(_) | Error::Internal(_) => (S::INTERNAL_SERVER_ERROR, "UNKNOWN"),
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = status_and_code(&self);
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, code, "request refused");
        }
        let detail = match &self {
            Error::Unauthorized { scope: Some(s), .. } => json!(s
                .split(' ')
                .filter_map(crate::auth::Access::parse_scope)
                .flat_map(|a| a
                    .actions
                    .iter()
                    .map(|act| json!({"Type": a.kind, "Name": a.name, "Action": act}))
                    .collect::<Vec<_>>())
                .collect::<Vec<_>>()),
            Error::DigestMismatch { expected, actual } => {
                json!({"expected": expected.to_string(), "actual": actual.to_string()})
            }
            Error::BlobUnknown(d) | Error::ManifestBlobUnknown(d) => {
                json!({"digest": d.to_string()})
            }
            _ => serde_json::Value::Null,
        };
        let mut err = json!({"code": code, "message": self.to_string()});
        if !detail.is_null() {
            err["detail"] = detail;
        }
        let body = serde_json::to_vec(&json!({ "errors": [err] })).unwrap_or_default();
        let mut resp = (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        let h = resp.headers_mut();
        match &self {
            Error::Unauthorized { challenge, .. } => {
                if let Ok(v) = HeaderValue::from_str(challenge) {
                    h.insert(header::WWW_AUTHENTICATE, v);
                }
            }
            Error::RangeInvalid { id, size, .. } => {
                if let Ok(v) = HeaderValue::from_str(&format!("0-{}", size.saturating_sub(1))) {
                    h.insert(header::RANGE, v);
                }
                if let Ok(v) = HeaderValue::from_str(id) {
                    h.insert("docker-upload-uuid", v);
                }
            }
            Error::RangeNotSatisfiable { size } => {
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    h.insert(header::CONTENT_RANGE, v);
                }
            }
            _ => {}
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base::Digest;

    #[test]
    fn codes() {
        let d = Digest::of(b"");
        let cases: Vec<(Error, u16, &str)> = vec![
            (Error::BlobUnknown(d.clone()), 404, "BLOB_UNKNOWN"),
            (
                Error::DigestMismatch {
                    expected: d.clone(),
                    actual: d.clone(),
                },
                400,
                "DIGEST_INVALID",
            ),
            (Error::ManifestBlobUnknown(d), 400, "MANIFEST_BLOB_UNKNOWN"),
            (Error::NameInvalid("X".into()), 400, "NAME_INVALID"),
            (
                Error::RangeInvalid {
                    id: "u".into(),
                    size: 3,
                    start: 9,
                },
                416,
                "BLOB_UPLOAD_INVALID",
            ),
            (Error::Disabled("deletion"), 405, "UNSUPPORTED"),
        ];
        for (e, status, code) in cases {
            let (s, c) = status_and_code(&e);
            assert_eq!((s.as_u16(), c), (status, code), "{e}");
        }
    }
}
