use super::{containers::term_size, hijack, read_container_json};
use crate::{json, json_status, Body, Ctx, Resp};
use api_types::{ExecConfig, ExecStartConfig};
use base::Result;
use engine::containers::AttachClient;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;

pub(crate) async fn container_exec(ctx: Ctx, req: Request<Incoming>, id: &str) -> Result<Resp> {
    let cfg: ExecConfig =
        read_container_json(req, false, engine::containers::options::Body::Exec).await?;
    let exec_id = ctx.engine.containers.exec_create(id, cfg)?;
    Ok(json_status(
        StatusCode::CREATED,
        &serde_json::json!({ "Id": exec_id }),
    ))
}

pub(crate) async fn exec_start(ctx: Ctx, req: Request<Incoming>, id: &str) -> Result<Resp> {
    let upgrade = req.headers().contains_key(http::header::UPGRADE);
    let (parts, body) = req.into_parts();
    let bytes = super::read_small_body(body).await?;
    let cfg: ExecStartConfig = if bytes.is_empty() {
        ExecStartConfig::default()
    } else {
        let mut v: serde_json::Value = super::parse_json(&bytes)?;
        engine::containers::options::canonicalize(
            engine::containers::options::Body::ExecStart,
            &mut v,
        );
        serde_json::from_value(v).map_err(|e| base::Error::invalid(format!("invalid JSON: {e}")))?
    };
    ctx.engine.containers.exec_check(id)?;
    // The start body's Tty decides the framing, as with dockerd (docker-py
    // creates with tty=True and starts with Tty false: multiplexed).
    let tty = cfg.tty;
    let engine = ctx.engine.clone();
    let id = id.to_string();
    if cfg.detach {
        tokio::spawn(async move {
            let _ = engine.containers.exec_start(&id, None, Some(tty)).await;
        });
        return Ok(Response::builder()
            .status(StatusCode::OK)
            .body(Body::empty())
            .expect("valid response"));
    }
    let content_type = crate::compat::stream_content_type(ctx.api(), tty);
    if !upgrade {
        // Not detached and no upgrade asked (curl, plain HTTP clients):
        // dockerd streams the output as the answer's body; so does berth,
        // without stdin.
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(start_attached(engine, id, tty, Box::new(theirs), false));
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            let mut r = ours;
            let mut buf = vec![0u8; 32 * 1024];
            while let Ok(n) = r.read(&mut buf).await {
                if n == 0
                    || tx
                        .send(bytes::Bytes::copy_from_slice(&buf[..n]))
                        .await
                        .is_err()
                {
                    break;
                }
            }
        });
        return Ok(Response::builder()
            .status(StatusCode::OK)
            .header("Content-Type", content_type)
            .body(Body::stream(rx))
            .expect("valid response"));
    }
    hijack(Request::from_parts(parts, ()), content_type, move |io| {
        start_attached(engine, id, tty, io, true)
    })
}

/// Runs exec `id` with its output on `io` (and its input, with `stdin`).
async fn start_attached(
    engine: std::sync::Arc<engine::Engine>,
    id: String,
    tty: bool,
    io: Box<dyn engine::containers::ClientStream>,
    stdin: bool,
) {
    let client = AttachClient {
        io,
        stdin,
        stdout: true,
        stderr: true,
        detach_keys: None,
    };
    if let Err(e) = engine
        .containers
        .exec_start(&id, Some(client), Some(tty))
        .await
    {
        tracing::debug!(error = %e, "exec start failed");
    }
}

pub(crate) fn exec_resize(ctx: Ctx, id: &str) -> Result<Resp> {
    let (h, w) = term_size(&ctx)?;
    ctx.engine.containers.exec_resize(id, h, w)?;
    Ok(Response::builder()
        .status(StatusCode::CREATED)
        .body(Body::empty())
        .expect("valid response"))
}

pub(crate) fn exec_inspect(ctx: Ctx, id: &str) -> Result<Resp> {
    Ok(json(&ctx.engine.containers.exec_inspect(id)?))
}
