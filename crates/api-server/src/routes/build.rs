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

/// `X-Registry-Config`: base64url JSON of registry → credentials. As
/// dockerd, a header that does not decode means no credentials.
fn registry_config<B>(req: &Request<B>) -> BTreeMap<String, distribution::AuthConfig> {
    use base64::Engine as _;
    req.headers()
        .get("X-Registry-Config")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            base64::engine::general_purpose::URL_SAFE
                .decode(v.trim())
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(v.trim()))
                .or_else(|_| base64::engine::general_purpose::STANDARD.decode(v.trim()))
                .ok()
        })
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// The build's options from the query and headers; what berth's builder
/// does not do is refused, never ignored.
fn build_options(ctx: &Ctx, req: &Request<Incoming>) -> Result<BuildOptions> {
    for k in ["outputs"] {
        if let Some(v) = ctx.q(k).filter(|v| !v.is_empty()) {
            return Err(Error::invalid(format!(
                "the build option {k}={v} is not supported by berth's builder yet"
            )));
        }
    }
    if ctx.flag("squash") {
        return Err(Error::invalid(
            "squash is only supported with experimental mode",
        ));
    }
    if let Some(i) = ctx
        .q("isolation")
        .filter(|i| !i.is_empty() && *i != "default")
    {
        return Err(Error::invalid(format!("unsupported isolation: {i:?}")));
    }
    if let Some(u) = ctx
        .q("ulimits")
        .filter(|u| !matches!(*u, "" | "[]" | "null"))
    {
        return Err(Error::invalid(format!(
            "the build option ulimits={u} is not supported by berth's builder yet"
        )));
    }
    if !ctx.q_all("securityopt").is_empty() {
        return Err(Error::invalid(
            "security options are not supported on linux",
        ));
    }
    if ctx.q("version").is_some_and(|v| v == "2") {
        return Err(Error::invalid("BuildKit (version=2) is not supported by berth; use the legacy builder (DOCKER_BUILDKIT=0)"));
    }
    let int = |k: &str| ctx.int(k).map(|v| v.unwrap_or(0));
    let host = api_types::HostConfig {
        memory: int("memory")?,
        memory_swap: int("memswap")?,
        cpu_shares: int("cpushares")?,
        cpu_period: int("cpuperiod")?,
        cpu_quota: int("cpuquota")?,
        shm_size: int("shmsize")?,
        extra_hosts: ctx
            .q_all("extrahosts")
            .into_iter()
            .flat_map(|h| h.split(',').map(str::to_string).collect::<Vec<_>>())
            .filter(|h| !h.is_empty())
            .collect(),
        network_mode: match ctx.q("networkmode").unwrap_or("") {
            "" | "default" => String::new(),
            n => n.to_string(),
        },
        // The RUN steps' cgroup settings, as a container's.
        extra: [
            ("cpusetcpus", "CpusetCpus"),
            ("cpusetmems", "CpusetMems"),
            ("cgroupparent", "CgroupParent"),
        ]
        .into_iter()
        .filter_map(|(q, field)| {
            ctx.q(q)
                .filter(|v| !v.is_empty())
                .map(|v| (field.to_string(), serde_json::Value::String(v.into())))
        })
        .collect(),
        ..Default::default()
    };
    let cache_from: Vec<String> = match ctx.q("cachefrom").filter(|c| !c.is_empty()) {
        None => Vec::new(),
        Some(c) => serde_json::from_str::<Option<Vec<String>>>(c)
            .map_err(|e| Error::invalid(format!("error reading cache-from: {e}")))?
            .unwrap_or_default(),
    };
    let o = BuildOptions {
        dockerfile: ctx.q("dockerfile").unwrap_or("").to_string(),
        tags: ctx.q_all("t"),
        build_args: json_map(ctx, "buildargs")?,
        target: ctx.q("target").filter(|t| !t.is_empty()).map(String::from),
        no_cache: ctx.flag("nocache"),
        remove: ctx.q("rm").is_none() || ctx.flag("rm") || ctx.flag("forcerm"),
        force_remove: ctx.flag("forcerm"),
        labels: json_map(ctx, "labels")?,
        quiet: ctx.flag("q"),
        pull: ctx.flag("pull"),
        platform: ctx
            .q("platform")
            .filter(|p| !p.is_empty())
            .map(String::from),
        host,
        cache_from,
        auths: registry_config(req),
        quiet_log: Default::default(),
    };
    Ok(o)
}

/// `POST /build`: the context is unpacked first (a bad tar is a 400), then
/// the build streams.
pub(crate) async fn image_build(ctx: Ctx, req: Request<Incoming>) -> Result<Resp> {
    let o = match build_options(&ctx, &req).and_then(|o| {
        ctx.engine.check_build_options(&o)?;
        Ok(o)
    }) {
        Ok(o) => o,
        Err(e) => {
            // The client is still sending its context: it is read and
            // dropped so the client sees the error, not a broken pipe.
            let mut body = req.into_body();
            while let Some(Ok(_)) = http_body_util::BodyExt::frame(&mut body).await {}
            return Err(e);
        }
    };
    let reader = BodyReader::new(req);
    let engine = ctx.engine.clone();
    let context = match ctx.q("remote").filter(|r| !r.is_empty()) {
        Some(remote) => {
            tokio::task::spawn_blocking(move || reader.drain())
                .await
                .map_err(|e| Error::internal(e.to_string()))?;
            engine.remote_build_context(remote).await?
        }
        None => tokio::task::spawn_blocking(move || {
            let mut r = reader;
            let c = engine.build_context(&mut r);
            r.drain();
            c
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))??,
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let (done_tx, mut done) = tokio::sync::oneshot::channel();
    let engine = ctx.engine.clone();
    tokio::spawn(async move {
        let _ = done_tx.send(engine.build(context, o, tx).await);
    });
    // As dockerd: an error before the build has said anything (a bad
    // Dockerfile, a missing stage) is the response's status, not a line of
    // the stream.
    let first = tokio::select! {
        biased;
        m = rx.recv() => m,
        r = &mut done => match r {
            Ok(Err(e)) => return Err(e),
            _ => None,
        },
    };
    let (out, out_rx) = tokio::sync::mpsc::channel(256);
    tokio::spawn(async move {
        if let Some(b) = first {
            if out.send(b).await.is_err() {
                return;
            }
            // A client that goes away is seen here at once (not at the next
            // line), and the build then sees its channel closed.
            loop {
                tokio::select! {
                    m = rx.recv() => match m {
                        Some(b) => {
                            if out.send(b).await.is_err() {
                                return;
                            }
                        }
                        None => break,
                    },
                    _ = out.closed() => return,
                }
            }
        }
        if let Ok(Err(e)) = done.await {
            let _ = out.send(engine::build::error_line(&e)).await;
        }
    });
    Ok(Response::builder()
        .header("Content-Type", "application/json")
        .body(Body::stream(out_rx))
        .expect("valid response"))
}

/// `POST /build/prune`.
pub(crate) fn build_prune(ctx: Ctx) -> Result<Resp> {
    if let Some(f) = ctx
        .q("filters")
        .filter(|f| !f.is_empty() && *f != "{}" && *f != "null")
    {
        return Err(Error::invalid(format!(
            "berth does not support build cache prune filters yet: {f}"
        )));
    }
    if ctx
        .q("keep-storage")
        .is_some_and(|k| !k.is_empty() && k != "0")
    {
        return Err(Error::invalid(
            "berth does not support --keep-storage for build cache prune yet",
        ));
    }
    Ok(crate::json(&ctx.engine.build_prune(ctx.flag("all"))?))
}
