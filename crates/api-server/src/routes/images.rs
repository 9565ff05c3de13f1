use super::BodyReader;
use crate::{json, Body, Ctx, Resp};
use base::{Error, Result};
use http::{Request, Response};
use hyper::body::Incoming;

/// `X-Registry-Auth` (base64url JSON), anonymous when absent.
pub(crate) fn registry_auth<B>(req: &Request<B>) -> Result<distribution::AuthConfig> {
    let h = req
        .headers()
        .get("X-Registry-Auth")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    distribution::AuthConfig::from_header(h)
        .map_err(|e| Error::invalid(format!("invalid X-Registry-Auth header: {e}")))
}

/// A streamed JSON progress response fed by `work`; an error after the
/// stream started becomes Docker's `errorDetail` line.
fn progress_stream<F>(work: F) -> Resp
where
    F: FnOnce(
        engine::transfer::ProgressTx,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send>>,
{
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    let fut = work(tx.clone());
    tokio::spawn(async move {
        if let Err(e) = fut.await {
            let _ = tx.send(engine::transfer::error_line(&e)).await;
        }
    });
    Response::builder()
        .header("Content-Type", "application/json")
        .body(Body::stream(rx))
        .expect("valid response")
}

/// `POST /images/create`: `fromSrc=-` imports the body; `fromImage` pulls.
pub(crate) async fn image_create(ctx: Ctx, req: Request<Incoming>) -> Result<Resp> {
    if let Some(image) = ctx.q("fromImage") {
        let auth = registry_auth(&req)?;
        let plan = ctx
            .engine
            .images
            .pull_resolve(image, ctx.q("tag").unwrap_or(""), ctx.q("platform"), &auth)
            .await?;
        let images = ctx.engine.images.clone();
        return Ok(progress_stream(move |tx| {
            Box::pin(async move { images.pull_run(plan, tx).await.map(|_| ()) })
        }));
    }
    let Some(src) = ctx.q("fromSrc") else {
        return Err(Error::invalid("fromImage or fromSrc is required"));
    };
    if src != "-" {
        return Err(Error::not_implemented(
            "importing from a URL is not supported; use fromSrc=-",
        ));
    }
    let repo = ctx.q("repo").unwrap_or("").to_string();
    let tag = ctx.q("tag").unwrap_or("").to_string();
    let reference = match (repo.is_empty(), tag.is_empty()) {
        (true, _) => None,
        (false, true) => Some(repo),
        (false, false) => Some(format!("{repo}:{tag}")),
    };
    let changes = ctx.q_all("changes");
    let message = ctx.q("message").unwrap_or("").to_string();
    let platform = ctx.q("platform").map(String::from);
    let reader = BodyReader::new(req);
    let engine = ctx.engine.clone();
    let id = tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        let r = engine.images.import(
            &mut reader,
            reference.as_deref(),
            &changes,
            &message,
            platform.as_deref(),
        );
        reader.drain();
        r
    })
    .await
    .map_err(|e| Error::internal(e.to_string()))??;
    let line = format!("{}\r\n", serde_json::json!({ "status": id }));
    Ok(Response::builder()
        .header("Content-Type", "application/json")
        .body(Body::full(line))
        .expect("valid response"))
}

pub(crate) fn image_list(ctx: Ctx) -> Result<Resp> {
    let filters = ctx.filters()?;
    let containers = ctx.engine.containers.clone();
    let count = move |id: &str| containers.using_image(id).len() as i64;
    let mut list =
        serde_json::to_value(ctx.engine.images.list(ctx.flag("all"), &filters, &count)?)
            .map_err(|e| Error::internal(e.to_string()))?;
    crate::compat::image_list(ctx.api(), &mut list, ctx.flag("shared-size"));
    Ok(json(&list))
}

pub(crate) fn image_inspect(ctx: Ctx, name: &str) -> Result<Resp> {
    let mut img = serde_json::to_value(ctx.engine.images.inspect(name)?)
        .map_err(|e| Error::internal(e.to_string()))?;
    crate::compat::image_inspect(ctx.api(), &mut img);
    Ok(json(&img))
}

pub(crate) fn image_tag(ctx: Ctx, name: &str) -> Result<Resp> {
    let repo = ctx
        .q("repo")
        .filter(|r| !r.is_empty())
        .ok_or_else(|| Error::invalid("repository name must have at least one component"))?;
    ctx.engine
        .images
        .tag(name, repo, ctx.q("tag").unwrap_or(""))?;
    Ok(Response::builder()
        .status(http::StatusCode::CREATED)
        .body(Body::empty())
        .expect("valid response"))
}

pub(crate) fn image_delete(ctx: Ctx, name: &str) -> Result<Resp> {
    let containers = ctx.engine.containers.clone();
    let in_use = move |id: &str| containers.image_user(id);
    let out = ctx.engine.images.remove(name, ctx.flag("force"), &in_use)?;
    Ok(json(&out))
}

/// `GET /images/get?names=...` (docker save of several images).
pub(crate) fn image_get_all(ctx: Ctx) -> Result<Resp> {
    let names = ctx.q_all("names");
    if names.is_empty() {
        return Err(Error::invalid("no images named"));
    }
    save(ctx, names)
}

/// `GET /images/{name}/get`.
pub(crate) fn image_get(ctx: Ctx, name: &str) -> Result<Resp> {
    save(ctx, vec![name.to_string()])
}

fn save(ctx: Ctx, names: Vec<String>) -> Result<Resp> {
    // `platform` (JSON OCI platforms, from API 1.48): each image must be of
    // one of them (berth's images are single-platform).
    let platforms = if ctx.api() >= crate::compat::ApiVersion(1, 48) {
        ctx.q_all("platform")
    } else {
        vec![]
    };
    for n in &names {
        ctx.engine.images.check_platforms(n, &platforms)?;
    }
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let engine = ctx.engine.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = engine
            .images
            .save_archive(&names, engine::ChannelWriter::new(tx))
        {
            tracing::warn!(error = %e, "save failed");
        }
    });
    Ok(Response::builder()
        .header("Content-Type", "application/x-tar")
        .body(Body::stream(rx))
        .expect("valid response"))
}

/// `POST /images/load`.
pub(crate) async fn image_load(ctx: Ctx, req: Request<Incoming>) -> Result<Resp> {
    // `platform` (JSON OCI platforms) from API 1.48.
    let platforms = if ctx.api() >= crate::compat::ApiVersion(1, 48) {
        ctx.q_all("platform")
    } else {
        vec![]
    };
    let reader = BodyReader::new(req);
    let engine = ctx.engine.clone();
    let lines = tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        let r = engine.images.load_archive(&mut reader, &platforms);
        reader.drain();
        r
    })
    .await
    .map_err(|e| Error::internal(e.to_string()))?;
    // As dockerd: the answer is a 200 JSON stream, and a failed load ends it
    // with an `errorDetail` line (docker-py raises ImageLoadError on it).
    let mut out = String::new();
    match lines {
        Ok(lines) => {
            for l in lines {
                out.push_str(&serde_json::json!({ "stream": format!("{l}\n") }).to_string());
                out.push_str("\r\n");
            }
        }
        Err(e) => out.push_str(&String::from_utf8_lossy(&engine::transfer::error_line(&e))),
    }
    Ok(Response::builder()
        .header("Content-Type", "application/json")
        .body(Body::full(out))
        .expect("valid response"))
}

pub(crate) fn image_history(ctx: Ctx, name: &str) -> Result<Resp> {
    Ok(json(&ctx.engine.images.history(name)?))
}

pub(crate) fn image_prune(ctx: Ctx) -> Result<Resp> {
    let filters = ctx.filters()?;
    let containers = ctx.engine.containers.clone();
    let in_use = move |id: &str| containers.image_user(id);
    Ok(json(&ctx.engine.images.prune(&filters, &in_use)?))
}

/// `POST /images/{name}/push`.
pub(crate) fn image_push(ctx: Ctx, req: Request<Incoming>, name: &str) -> Result<Resp> {
    let auth = registry_auth(&req)?;
    let tag = ctx.q("tag").unwrap_or("").to_string();
    let images = ctx.engine.images.clone();
    let name = name.to_string();
    // Fail before streaming when there is nothing to push.
    let probe = if tag.is_empty() {
        name.clone()
    } else {
        format!("{name}:{tag}")
    };
    if !tag.is_empty()
        || base::Reference::parse(&name)
            .map(|r| r.tag.is_some())
            .unwrap_or(false)
    {
        images
            .resolve(&probe)
            .map_err(|_| Error::not_found(format!("tag does not exist: {probe}")))?;
    }
    Ok(progress_stream(move |tx| {
        Box::pin(async move { images.push(&name, &tag, &auth, tx).await })
    }))
}

/// `POST /auth`.
pub(crate) async fn system_auth(ctx: Ctx, req: Request<Incoming>) -> Result<Resp> {
    let body = super::read_small_body(req.into_body()).await?;
    let auth = distribution::AuthConfig::from_json(&body)
        .map_err(|e| Error::invalid(format!("invalid JSON: {e}")))?;
    Ok(json(&ctx.engine.images.login(&auth).await?))
}

/// `GET /images/search`.
pub(crate) async fn image_search(ctx: Ctx, req: Request<Incoming>) -> Result<Resp> {
    let auth = registry_auth(&req)?;
    let term = ctx.q("term").unwrap_or("").to_string();
    let filters = ctx.filters()?;
    let found = ctx
        .engine
        .images
        .search(&term, ctx.int("limit")?, &filters, &auth)
        .await?;
    Ok(json(&found))
}

/// `GET /distribution/{name}/json`.
pub(crate) async fn distribution_inspect(
    ctx: Ctx,
    req: Request<Incoming>,
    name: &str,
) -> Result<Resp> {
    let auth = registry_auth(&req)?;
    Ok(json(
        &ctx.engine.images.distribution_inspect(name, &auth).await?,
    ))
}
