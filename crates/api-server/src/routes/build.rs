use super::BodyReader;
use crate::{Body, Ctx, Resp};
use base::{Error, Result};
use engine::build::BuildOptions;
use http::{Request, Response};
use hyper::body::Incoming;
use std::collections::BTreeMap;

/// A JSON object query parameter (`buildargs`, `labels`).
fn json_map(ctx: &Ctx, k: &str) -> Result<BTreeMap<String, String>> {
    match ctx.q(k).filter(|v| !v.is_empty()) {
        None => Ok(BTreeMap::new()),
        Some(v) => {
            let m: BTreeMap<String, Option<String>> =
                serde_json::from_str(v).map_err(|e| Error::invalid(format!("invalid {k}: {e}")))?;
            Ok(m.into_iter()
                .filter_map(|(k, v)| v.map(|v| (k, v)))
                .collect())
        }
    }
}

/// `POST /build`: the context is unpacked first (a bad tar is a 400), then
/// the build streams.
pub(crate) async fn image_build(ctx: Ctx, req: Request<Incoming>) -> Result<Resp> {
    // What berth's builder does not do is refused, never ignored.
    for (k, default) in [
        ("pull", ""),
        ("platform", ""),
        ("remote", ""),
        ("squash", ""),
        ("extrahosts", ""),
        ("memory", "0"),
        ("memswap", "0"),
        ("cpushares", "0"),
        ("cpusetcpus", ""),
        ("cpuperiod", "0"),
        ("cpuquota", "0"),
        ("shmsize", "0"),
        ("isolation", ""),
        ("outputs", ""),
    ] {
        if let Some(v) = ctx.q(k).filter(|v| {
            !v.is_empty() && *v != default && *v != "0" && !v.eq_ignore_ascii_case("false")
        }) {
            return Err(Error::invalid(format!(
                "the build option {k}={v} is not supported by berth's builder yet"
            )));
        }
    }
    if let Some(n) = ctx
        .q("networkmode")
        .filter(|n| !n.is_empty() && *n != "default" && *n != "bridge")
    {
        return Err(Error::invalid(format!(
            "build network mode {n} is not supported by berth's builder yet"
        )));
    }
    if ctx
        .q("cachefrom")
        .is_some_and(|c| !c.is_empty() && c != "[]" && c != "null")
    {
        return Err(Error::invalid(
            "--cache-from is not supported by berth's builder yet",
        ));
    }
    if ctx.q("version").is_some_and(|v| v == "2") {
        return Err(Error::invalid("BuildKit (version=2) is not supported by berth; use the legacy builder (DOCKER_BUILDKIT=0)"));
    }
    let o = BuildOptions {
        dockerfile: ctx.q("dockerfile").unwrap_or("").to_string(),
        tags: ctx.q_all("t"),
        build_args: json_map(&ctx, "buildargs")?,
        target: ctx.q("target").filter(|t| !t.is_empty()).map(String::from),
        no_cache: ctx.flag("nocache"),
        remove: ctx.q("rm").is_none() || ctx.flag("rm"),
        force_remove: ctx.flag("forcerm"),
        labels: json_map(&ctx, "labels")?,
        quiet: ctx.flag("q"),
    };
    let reader = BodyReader::new(req);
    let engine = ctx.engine.clone();
    let context = tokio::task::spawn_blocking(move || {
        let mut r = reader;
        let c = engine.build_context(&mut r);
        r.drain();
        c
    })
    .await
    .map_err(|e| Error::internal(e.to_string()))??;
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    let engine = ctx.engine.clone();
    tokio::spawn(async move {
        if let Err(e) = engine.build(context, o, tx.clone()).await {
            let _ = tx.send(engine::build::error_line(&e)).await;
        }
    });
    Ok(Response::builder()
        .header("Content-Type", "application/json")
        .body(Body::stream(rx))
        .expect("valid response"))
}
