use super::read_json;
use crate::{json, json_status, no_content, Ctx, Resp};
use api_types::network::{NetworkConnectRequest, NetworkCreateRequest, NetworkDisconnectRequest};
use base::Result;
use http::{Request, StatusCode};
use hyper::body::Incoming;

pub(crate) fn network_list(ctx: Ctx) -> Result<Resp> {
    Ok(json(&ctx.engine.network_list(&ctx.filters()?)?))
}

pub(crate) fn network_inspect(ctx: Ctx, id: &str) -> Result<Resp> {
    Ok(json(&ctx.engine.network_inspect(id)?))
}

pub(crate) async fn network_create(ctx: Ctx, req: Request<Incoming>) -> Result<Resp> {
    let body: NetworkCreateRequest = read_json(req, false).await?;
    Ok(json_status(
        StatusCode::CREATED,
        &ctx.engine.network_create(body).await?,
    ))
}

pub(crate) async fn network_delete(ctx: Ctx, id: &str) -> Result<Resp> {
    ctx.engine.network_remove(id).await?;
    Ok(no_content())
}

pub(crate) async fn network_prune(ctx: Ctx) -> Result<Resp> {
    Ok(json(&ctx.engine.network_prune(&ctx.filters()?).await?))
}

pub(crate) async fn network_connect(ctx: Ctx, req: Request<Incoming>, id: &str) -> Result<Resp> {
    let body: NetworkConnectRequest = read_json(req, false).await?;
    ctx.engine
        .containers
        .network_connect(id, &body.container, body.endpoint_config)
        .await?;
    Ok(crate::json_status(StatusCode::OK, &serde_json::Value::Null))
}

pub(crate) async fn network_disconnect(ctx: Ctx, req: Request<Incoming>, id: &str) -> Result<Resp> {
    let body: NetworkDisconnectRequest = read_json(req, false).await?;
    ctx.engine
        .containers
        .network_disconnect(id, &body.container, body.force)
        .await?;
    Ok(crate::json_status(StatusCode::OK, &serde_json::Value::Null))
}
