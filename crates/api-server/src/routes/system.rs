use crate::{json, Body, Ctx, Resp};
use base::Result;
use http::{Method, Response};

pub(crate) fn system_ping(m: &Method) -> Result<Resp> {
    let body = if crate::is_head(m) {
        Body::empty()
    } else {
        Body::full("OK")
    };
    Ok(Response::builder()
        .header("Content-Type", "text/plain; charset=utf-8")
        .header("Cache-Control", "no-cache, no-store, must-revalidate")
        .header("Pragma", "no-cache")
        .header("Builder-Version", "1")
        .header("Swarm", "inactive")
        .body(body)
        .expect("valid response"))
}

pub(crate) fn system_version(ctx: Ctx) -> Result<Resp> {
    Ok(json(&ctx.engine.system.version()))
}

pub(crate) fn system_info(ctx: Ctx) -> Result<Resp> {
    Ok(json(&ctx.engine.system.info()))
}

pub(crate) fn system_data_usage(ctx: Ctx) -> Result<Resp> {
    Ok(json(&ctx.engine.system.data_usage()?))
}
