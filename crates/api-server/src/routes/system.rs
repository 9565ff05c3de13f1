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

/// `GET /events`: kept events since `since`, then new ones as they come,
/// until `until` or until the client goes.
pub(crate) async fn system_events(ctx: Ctx) -> Result<Resp> {
    let filters = ctx.filters()?;
    let time = |k: &str| -> Result<Option<i64>> {
        match ctx.q(k).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => engine::logs::parse_time(v)
                .map(|s| Some((s * 1e9) as i64))
                .ok_or_else(|| base::Error::invalid(format!("invalid value for {k}: {v:?}"))),
        }
    };
    let (since, until) = (time("since")?, time("until")?);
    let (past, mut rx) = ctx.engine.images.events().subscribe(since);
    let version = ctx.api();
    let (tx, body) = tokio::sync::mpsc::channel::<bytes::Bytes>(64);
    let line = |e: &engine::events::Event| {
        let mut l = serde_json::to_vec(&e.json).unwrap_or_default();
        l.push(b'\n');
        bytes::Bytes::from(l)
    };
    tokio::spawn(async move {
        let before_until = |t: i64| until.is_none_or(|u| t <= u);
        for e in past.iter().filter(|e| before_until(e.time_nano)) {
            if e.matches(&filters)
                && crate::compat::keep_event(version, &e.json)
                && tx.send(line(e)).await.is_err()
            {
                return;
            }
        }
        loop {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as i64)
                .unwrap_or(0);
            let wait = match until {
                Some(u) if u <= now => return,
                Some(u) => std::time::Duration::from_nanos((u - now) as u64),
                // Wake now and then to notice a client that went away.
                None => std::time::Duration::from_secs(1),
            };
            match tokio::time::timeout(wait, rx.recv()).await {
                Ok(Ok(e)) => {
                    if before_until(e.time_nano)
                        && e.matches(&filters)
                        && crate::compat::keep_event(version, &e.json)
                        && tx.send(line(&e)).await.is_err()
                    {
                        return;
                    }
                }
                Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(_)) => return,
                Err(_) if tx.is_closed() => return,
                Err(_) => {}
            }
        }
    });
    Ok(Response::builder()
        .header("Content-Type", "application/json")
        .body(Body::stream(body))
        .expect("valid response"))
}
