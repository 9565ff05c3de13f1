use super::{hijack, read_container_json, read_json};
use crate::{json, json_status, no_content, Body, Ctx, Resp};
use api_types::ContainerCreateRequest;
use base::{Error, Result};
use engine::containers::AttachClient;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;

pub(crate) async fn container_create(ctx: Ctx, req: Request<Incoming>) -> Result<Resp> {
    let mut v: serde_json::Value = read_json(req, false).await?;
    engine::containers::options::canonicalize(engine::containers::options::Body::Create, &mut v);
    crate::compat::container_create(ctx.api(), &mut v);
    let body: ContainerCreateRequest =
        serde_json::from_value(v).map_err(|e| Error::invalid(format!("invalid JSON: {e}")))?;
    // `platform` from API 1.41, as dockerd.
    let platform = ctx
        .q("platform")
        .filter(|_| ctx.api() >= crate::compat::ApiVersion(1, 41));
    let r = ctx
        .engine
        .containers
        .create_for(ctx.q("name"), body, platform)?;
    Ok(json_status(StatusCode::CREATED, &r))
}

pub(crate) fn container_list(ctx: Ctx) -> Result<Resp> {
    let limit = ctx.int("limit")?.filter(|l| *l > 0).map(|l| l as usize);
    Ok(json(&ctx.engine.containers.list(
        ctx.flag("all"),
        limit,
        &ctx.filters()?,
    )?))
}

pub(crate) fn container_inspect(ctx: Ctx, id: &str) -> Result<Resp> {
    let mut c = serde_json::to_value(ctx.engine.containers.inspect(id)?)
        .map_err(|e| Error::internal(e.to_string()))?;
    crate::compat::container_inspect(ctx.api(), &mut c);
    Ok(json(&c))
}

pub(crate) async fn container_start(ctx: Ctx, id: &str) -> Result<Resp> {
    ctx.engine.containers.start(id).await?;
    Ok(no_content())
}

pub(crate) async fn container_stop(ctx: Ctx, id: &str) -> Result<Resp> {
    ctx.engine
        .containers
        .stop(
            id,
            ctx.int("t")?,
            crate::compat::stop_signal(ctx.api(), ctx.q("signal")),
        )
        .await?;
    Ok(no_content())
}

pub(crate) async fn container_kill(ctx: Ctx, id: &str) -> Result<Resp> {
    ctx.engine.containers.kill(id, ctx.q("signal")).await?;
    Ok(no_content())
}

pub(crate) async fn container_restart(ctx: Ctx, id: &str) -> Result<Resp> {
    ctx.engine
        .containers
        .restart(
            id,
            ctx.int("t")?,
            crate::compat::stop_signal(ctx.api(), ctx.q("signal")),
        )
        .await?;
    Ok(no_content())
}

/// Headers go out at once (clients call wait before start); the body follows at exit.
pub(crate) fn container_wait(ctx: Ctx, id: &str) -> Result<Resp> {
    let fut = ctx.engine.containers.wait(
        id,
        crate::compat::wait_condition(ctx.api(), ctx.q("condition")),
    )?;
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        let code = fut.await;
        let body = serde_json::json!({"StatusCode": code, "Error": null});
        let _ = tx.send(bytes::Bytes::from(format!("{body}\n"))).await;
    });
    Ok(Response::builder()
        .header("Content-Type", "application/json")
        .body(Body::stream(rx))
        .expect("valid response"))
}

pub(crate) async fn container_delete(ctx: Ctx, id: &str) -> Result<Resp> {
    ctx.engine
        .containers
        .remove(id, ctx.flag("force"), ctx.flag("v"))
        .await?;
    Ok(no_content())
}

/// `DELETE /containers/{parent}/{alias}?link=1`.
pub(crate) async fn container_remove_link(ctx: Ctx, parent: &str, alias: &str) -> Result<Resp> {
    ctx.engine.containers.remove_link(parent, alias).await?;
    Ok(no_content())
}

pub(crate) fn container_logs(ctx: Ctx, id: &str) -> Result<Resp> {
    let tail = match ctx.q("tail") {
        None | Some("") | Some("all") => None,
        Some(n) => Some(
            n.parse::<i64>()
                .map_err(|_| Error::invalid(format!("invalid tail value: {n}")))?
                .max(0) as usize,
        ),
    };
    let o = engine::logs::LogOptions {
        stdout: ctx.flag("stdout"),
        stderr: ctx.flag("stderr"),
        follow: ctx.flag("follow"),
        tail,
        since: ctx.q("since").and_then(engine::logs::parse_time),
        until: ctx.q("until").and_then(engine::logs::parse_time),
        timestamps: ctx.flag("timestamps"),
    };
    let (tty, rx) = ctx.engine.containers.logs(id, o)?;
    let ct = crate::compat::stream_content_type(ctx.api(), tty);
    Ok(Response::builder()
        .header("Content-Type", ct)
        .body(Body::stream(rx))
        .expect("valid response"))
}

pub(crate) fn container_attach(ctx: Ctx, req: Request<Incoming>, id: &str) -> Result<Resp> {
    let tty = ctx.engine.containers.attach_check(id)?;
    let (stdin, stdout, stderr) = (ctx.flag("stdin"), ctx.flag("stdout"), ctx.flag("stderr"));
    let (logs, stream) = (ctx.flag("logs"), ctx.flag("stream"));
    let detach_keys = engine::containers::detach::keys_or_default(ctx.q("detachKeys"))?;
    let engine = ctx.engine.clone();
    let id = id.to_string();
    let content_type = crate::compat::stream_content_type(ctx.api(), tty);
    hijack(req, content_type, move |io| async move {
        let client = AttachClient {
            io,
            stdin,
            stdout,
            stderr,
            detach_keys: Some(detach_keys),
        };
        let _ = engine.containers.attach(&id, client, logs, stream).await;
    })
}

/// `GET /containers/{id}/attach/ws`: the attach over a websocket, as
/// dockerd serves it: the output raw (never multiplexed) in binary messages
/// (text before API 1.28), stdin from the client's messages; `stdin`,
/// `stdout` and `stderr` count from 1.42 (before, all three are on).
pub(crate) fn container_attach_ws(ctx: Ctx, req: Request<Incoming>, id: &str) -> Result<Resp> {
    use futures_util::{SinkExt, StreamExt};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_tungstenite::tungstenite::{protocol::Role, Message};
    let key = req
        .headers()
        .get("Sec-WebSocket-Key")
        .filter(|_| {
            req.headers()
                .get(http::header::UPGRADE)
                .and_then(|u| u.to_str().ok())
                .is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
        })
        .ok_or_else(|| {
            Error::invalid(
                "not a websocket request: Upgrade: websocket and Sec-WebSocket-Key are required",
            )
        })?;
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let tty = ctx.engine.containers.attach_check(id)?;
    let v = ctx.api();
    let all = v < crate::compat::ApiVersion(1, 42);
    let (stdin, stdout, stderr) = (
        all || ctx.flag("stdin"),
        all || ctx.flag("stdout"),
        all || ctx.flag("stderr"),
    );
    let (logs, stream) = (ctx.flag("logs"), ctx.flag("stream"));
    let binary = v >= crate::compat::ApiVersion(1, 28);
    let detach_keys = engine::containers::detach::keys_or_default(ctx.q("detachKeys"))?;
    let engine = ctx.engine.clone();
    let id = id.to_string();
    let slot = super::StreamSlot::take()?;
    tokio::spawn(async move {
        let _slot = slot;
        let Ok(up) = hyper::upgrade::on(req).await else {
            return;
        };
        let ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            hyper_util::rt::TokioIo::new(up),
            Role::Server,
            None,
        )
        .await;
        let (mut sink, mut source) = ws.split();
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let (mut from_engine, mut to_engine) = tokio::io::split(ours);
        let client = AttachClient {
            io: Box::new(theirs),
            stdin,
            stdout,
            stderr,
            detach_keys: Some(detach_keys),
        };
        let attach = tokio::spawn(async move {
            let _ = engine.containers.attach(&id, client, logs, stream).await;
        });
        // The client's messages are the container's stdin.
        let input = tokio::spawn(async move {
            while let Some(Ok(m)) = source.next().await {
                let data = match m {
                    Message::Binary(b) => b.to_vec(),
                    Message::Text(t) => t.as_bytes().to_vec(),
                    Message::Close(_) => break,
                    _ => continue,
                };
                if to_engine.write_all(&data).await.is_err() {
                    break;
                }
            }
            let _ = to_engine.shutdown().await;
        });
        // The output, raw: without a terminal, the engine's 8-byte stream
        // headers are taken off.
        let mut buf = vec![0u8; 32 * 1024];
        let mut pending: Vec<u8> = Vec::new();
        loop {
            let n = match from_engine.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            pending.extend_from_slice(&buf[..n]);
            let mut out = Vec::new();
            if tty {
                out.append(&mut pending);
            } else {
                while pending.len() >= 8 {
                    let len = u32::from_be_bytes([pending[4], pending[5], pending[6], pending[7]])
                        as usize;
                    if pending.len() < 8 + len {
                        break;
                    }
                    out.extend_from_slice(&pending[8..8 + len]);
                    pending.drain(..8 + len);
                }
            }
            if out.is_empty() {
                continue;
            }
            let msg = if binary {
                Message::Binary(out.into())
            } else {
                Message::Text(String::from_utf8_lossy(&out).into_owned().into())
            };
            if sink.send(msg).await.is_err() {
                break;
            }
        }
        let _ = sink.send(Message::Close(None)).await;
        input.abort();
        let _ = attach.await;
    });
    Ok(Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Upgrade", "websocket")
        .header("Connection", "Upgrade")
        .header("Sec-WebSocket-Accept", accept)
        .body(Body::empty())
        .expect("valid response"))
}

pub(crate) fn term_size(ctx: &Ctx) -> Result<(u16, u16)> {
    let h = ctx.int("h")?.unwrap_or(0);
    let w = ctx.int("w")?.unwrap_or(0);
    if !(0..=u16::MAX as i64).contains(&h) || !(0..=u16::MAX as i64).contains(&w) {
        return Err(Error::invalid("invalid terminal size"));
    }
    Ok((h as u16, w as u16))
}

pub(crate) async fn container_resize(ctx: Ctx, id: &str) -> Result<Resp> {
    let (h, w) = term_size(&ctx)?;
    ctx.engine.containers.resize(id, h, w).await?;
    Ok(Response::builder()
        .body(Body::empty())
        .expect("valid response"))
}

pub(crate) fn container_rename(ctx: Ctx, id: &str) -> Result<Resp> {
    ctx.engine
        .containers
        .rename(id, ctx.q("name").unwrap_or(""))?;
    Ok(no_content())
}

/// `POST /containers/{id}/update`.
pub(crate) async fn container_update(ctx: Ctx, req: Request<Incoming>, id: &str) -> Result<Resp> {
    let body: serde_json::Value =
        read_container_json(req, false, engine::containers::options::Body::Update).await?;
    let warnings = ctx.engine.containers.update(id, body).await?;
    Ok(json(&api_types::ContainerUpdateResponse { warnings }))
}

/// `POST /containers/{id}/pause`.
pub(crate) async fn container_pause(ctx: Ctx, id: &str) -> Result<Resp> {
    ctx.engine.containers.pause(id).await?;
    Ok(no_content())
}

/// `POST /containers/{id}/unpause`.
pub(crate) async fn container_unpause(ctx: Ctx, id: &str) -> Result<Resp> {
    ctx.engine.containers.unpause(id).await?;
    Ok(no_content())
}

/// `POST /containers/prune`.
pub(crate) async fn container_prune(ctx: Ctx) -> Result<Resp> {
    let filters = ctx.filters()?;
    Ok(json(&ctx.engine.containers.prune(&filters).await?))
}

/// `GET /containers/{id}/stats`: one object (`stream=false`, two samples a
/// second apart so `precpu_stats` is filled; `one-shot` takes one), or one
/// a second until the container stops or the client goes.
pub(crate) async fn container_stats(ctx: Ctx, id: &str) -> Result<Resp> {
    use engine::containers::stats::as_previous;
    let stream = ctx.q("stream").is_none() || ctx.flag("stream");
    let one_shot = crate::compat::stats_one_shot(ctx.api(), ctx.flag("one-shot"));
    if stream && one_shot {
        return Err(Error::invalid("cannot have stream=true and one-shot=true"));
    }
    let (engine, id) = (ctx.engine.clone(), id.to_string());
    let sample = {
        let (engine, id) = (engine.clone(), id.clone());
        move |pre| {
            let (engine, id) = (engine.clone(), id.clone());
            async move {
                tokio::task::spawn_blocking(move || engine.containers.stats_sample(&id, pre))
                    .await
                    .map_err(|e| Error::internal(e.to_string()))?
            }
        }
    };
    let first = sample(None).await?;
    if !stream {
        let out = if one_shot || !engine.containers.is_running(&id)? {
            first
        } else {
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            sample(Some(as_previous(&first)?)).await?
        };
        return Ok(json(&out));
    }
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let mut cur = first;
        loop {
            let mut line = serde_json::to_vec(&cur).unwrap_or_default();
            line.push(b'\n');
            if tx.send(bytes::Bytes::from(line)).await.is_err() {
                return; // the client went away
            }
            if !engine.containers.is_running(&id).unwrap_or(false) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let Ok(pre) = as_previous(&cur) else { return };
            match sample(Some(pre)).await {
                Ok(next) => cur = next,
                Err(_) => return,
            }
        }
    });
    Ok(Response::builder()
        .header("Content-Type", "application/json")
        .body(Body::stream(rx))
        .expect("valid response"))
}

/// `GET /containers/{id}/top`.
pub(crate) async fn container_top(ctx: Ctx, id: &str) -> Result<Resp> {
    let ps_args = ctx.q("ps_args").unwrap_or("").to_string();
    let (engine, id) = (ctx.engine.clone(), id.to_string());
    let top = tokio::task::spawn_blocking(move || engine.containers.top(&id, &ps_args))
        .await
        .map_err(|e| Error::internal(e.to_string()))??;
    Ok(json(&top))
}

/// `GET /containers/{id}/changes`.
pub(crate) async fn container_changes(ctx: Ctx, id: &str) -> Result<Resp> {
    let (engine, id) = (ctx.engine.clone(), id.to_string());
    let changes = tokio::task::spawn_blocking(move || engine.containers.changes(&id))
        .await
        .map_err(|e| Error::internal(e.to_string()))??;
    Ok(json(&changes))
}

/// The `path` of a `docker cp` request.
fn archive_path(ctx: &Ctx) -> Result<String> {
    match ctx.q("path") {
        Some(p) if !p.is_empty() => Ok(p.to_string()),
        _ => Err(Error::invalid("Path cannot be empty")),
    }
}

/// `X-Docker-Container-Path-Stat`: the stat as base64 JSON.
fn path_stat_header(st: &engine::containers::PathStat) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(st).unwrap_or_default())
}

/// `HEAD /containers/{id}/archive`.
pub(crate) async fn container_archive_info(ctx: Ctx, id: &str) -> Result<Resp> {
    let path = archive_path(&ctx)?;
    let lease = ctx
        .engine
        .containers
        .copy_lease(id, false, engine::containers::LeaseView::WithMounts)
        .await?;
    let st = tokio::task::spawn_blocking(move || lease.stat(&path))
        .await
        .map_err(|e| Error::internal(e.to_string()))??;
    Ok(Response::builder()
        .header("X-Docker-Container-Path-Stat", path_stat_header(&st))
        .body(Body::empty())
        .expect("valid response"))
}

/// `GET /containers/{id}/archive`.
pub(crate) async fn container_archive(ctx: Ctx, id: &str) -> Result<Resp> {
    let path = archive_path(&ctx)?;
    let lease = ctx
        .engine
        .containers
        .copy_lease(id, false, engine::containers::LeaseView::WithMounts)
        .await?;
    let (st, tar) = tokio::task::spawn_blocking(move || lease.get(&path))
        .await
        .map_err(|e| Error::internal(e.to_string()))??;
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = tar.copy_to(engine::ChannelWriter::new(tx)) {
            tracing::warn!(error = %e, "copy from container failed");
        }
    });
    Ok(Response::builder()
        .header("Content-Type", "application/x-tar")
        .header("X-Docker-Container-Path-Stat", path_stat_header(&st))
        .body(Body::stream(rx))
        .expect("valid response"))
}

/// `PUT /containers/{id}/archive`.
pub(crate) async fn put_container_archive(
    ctx: Ctx,
    req: Request<Incoming>,
    id: &str,
) -> Result<Resp> {
    let path = archive_path(&ctx)?;
    let opts = engine::containers::PutOptions {
        no_overwrite_dir_non_dir: ctx.flag("noOverwriteDirNonDir"),
        copy_uid_gid: ctx.flag("copyUIDGID"),
    };
    let reader = super::BodyReader::new(req);
    let lease = match ctx
        .engine
        .containers
        .copy_lease(id, true, engine::containers::LeaseView::WithMounts)
        .await
    {
        Ok(l) => l,
        Err(e) => {
            // Read what the client still sends, so that it gets this error
            // rather than a broken pipe.
            let _ = tokio::task::spawn_blocking(move || reader.drain()).await;
            return Err(e);
        }
    };
    tokio::task::spawn_blocking(move || {
        let mut reader = reader;
        let r = lease.put(&path, &mut reader, opts);
        reader.drain();
        r
    })
    .await
    .map_err(|e| Error::internal(e.to_string()))??;
    Ok(Response::builder()
        .body(Body::empty())
        .expect("valid response"))
}

pub(crate) async fn container_export(ctx: Ctx, id: &str) -> Result<Resp> {
    let rx = ctx.engine.containers.export(id).await?;
    Ok(Response::builder()
        .header("Content-Type", "application/x-tar")
        .body(Body::stream(rx))
        .expect("valid response"))
}

/// `POST /commit`.
pub(crate) async fn image_commit(ctx: Ctx, req: Request<Incoming>) -> Result<Resp> {
    let config: Option<api_types::ContainerConfig> = read_json(req, true).await?;
    let container = ctx
        .q("container")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| Error::invalid("container is required"))?
        .to_string();
    let o = engine::containers::CommitOptions {
        repo: ctx.q("repo").unwrap_or("").to_string(),
        tag: ctx.q("tag").unwrap_or("").to_string(),
        comment: ctx.q("comment").unwrap_or("").to_string(),
        author: ctx.q("author").unwrap_or("").to_string(),
        pause: ctx.q("pause").is_none() || ctx.flag("pause"),
        changes: ctx.q_all("changes"),
        config,
        ..Default::default()
    };
    let id = ctx.engine.containers.commit(&container, o).await?;
    Ok(json_status(
        StatusCode::CREATED,
        &api_types::IdResponse {
            id,
            warnings: vec![],
        },
    ))
}
