use super::read_json;
use crate::{json, json_status, no_content, Ctx, Resp};
use api_types::volume::VolumeCreateOptions;
use base::Result;
use http::{Request, StatusCode};
use hyper::body::Incoming;

pub(crate) fn volume_list(ctx: Ctx) -> Result<Resp> {
    Ok(json(&ctx.engine.volumes.list(&ctx.filters()?)?))
}

pub(crate) async fn volume_create(ctx: Ctx, req: Request<Incoming>) -> Result<Resp> {
    let body: VolumeCreateOptions = read_json(req, false).await?;
    Ok(json_status(
        StatusCode::CREATED,
        &ctx.engine.volume_create(body).await?,
    ))
}

pub(crate) fn volume_inspect(ctx: Ctx, name: &str) -> Result<Resp> {
    Ok(json(&ctx.engine.volumes.inspect(name)?))
}

pub(crate) async fn volume_delete(ctx: Ctx, name: &str) -> Result<Resp> {
    ctx.engine.volume_remove(name, ctx.flag("force")).await?;
    Ok(no_content())
}

pub(crate) async fn volume_prune(ctx: Ctx) -> Result<Resp> {
    let filters = ctx.filters()?;
    let all = crate::compat::volume_prune_all(ctx.api(), filters.get("all"));
    Ok(json(&ctx.engine.volume_prune(filters, all).await?))
}
