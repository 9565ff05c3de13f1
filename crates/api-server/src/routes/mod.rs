//! The route table: (method, path) → handler, named after the swagger
//! operationIds (`ContainerKill` → `container_kill`).

mod build;
mod containers;
mod exec;
mod images;
mod networks;
mod system;
mod volumes;

use crate::{Body, Ctx, Resp};
use base::{Error, Result};
use bytes::Bytes;
use engine::containers::ClientStream;
use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

pub(crate) async fn dispatch(ctx: Ctx, req: Request<Incoming>, segs: Vec<String>) -> Result<Resp> {
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = req.method().clone();
    use Method as M;
    match (&m, s.as_slice()) {
        (&M::GET | &M::HEAD, ["_ping"]) => system::system_ping(&m),
        (&M::GET, ["version"]) => system::system_version(ctx),
        (&M::GET, ["info"]) => system::system_info(ctx),
        (&M::GET, ["events"]) => system::system_events(ctx).await,

        // No swarm mode: dockerd's answers on a node that is not in a swarm.
        (&M::POST, ["swarm", "init" | "join"]) => Err(Error::not_implemented(
            "swarm mode is not supported by berth",
        )),
        (&M::POST, ["swarm", "leave" | "update" | "unlock" | "unlockkey"]) => {
            Err(Error::unavailable("This node is not part of a swarm"))
        }
        (_, ["swarm" | "nodes" | "services" | "tasks" | "secrets" | "configs", ..]) => {
            Err(Error::unavailable(
                "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.",
            ))
        }

        (&M::GET, ["volumes"]) => volumes::volume_list(ctx),
        (&M::POST, ["volumes", "create"]) => volumes::volume_create(ctx, req).await,
        (&M::POST, ["volumes", "prune"]) => volumes::volume_prune(ctx).await,
        (&M::GET, ["volumes", name]) => volumes::volume_inspect(ctx, name),
        (&M::DELETE, ["volumes", name]) => volumes::volume_delete(ctx, name).await,

        (&M::GET, ["networks"]) => networks::network_list(ctx),
        (&M::POST, ["networks", "create"]) => networks::network_create(ctx, req).await,
        (&M::POST, ["networks", "prune"]) => networks::network_prune(ctx).await,
        (&M::GET, ["networks", id]) => networks::network_inspect(ctx, id),
        (&M::DELETE, ["networks", id]) => networks::network_delete(ctx, id).await,
        (&M::POST, ["networks", id, "connect"]) => networks::network_connect(ctx, req, id).await,
        (&M::POST, ["networks", id, "disconnect"]) => {
            networks::network_disconnect(ctx, req, id).await
        }

        (&M::POST, ["commit"]) => containers::image_commit(ctx, req).await,
        (&M::POST, ["build"]) => build::image_build(ctx, req).await,
        (&M::POST, ["build", "prune"]) => build::build_prune(ctx),
        (&M::POST, ["containers", "create"]) => containers::container_create(ctx, req).await,
        (&M::GET, ["containers", "json"]) => containers::container_list(ctx),
        (&M::POST, ["containers", "prune"]) => containers::container_prune(ctx).await,
        (&M::GET, ["containers", id, "json"]) => containers::container_inspect(ctx, id),
        (&M::POST, ["containers", id, "start"]) => containers::container_start(ctx, id).await,
        (&M::POST, ["containers", id, "stop"]) => containers::container_stop(ctx, id).await,
        (&M::POST, ["containers", id, "kill"]) => containers::container_kill(ctx, id).await,
        (&M::POST, ["containers", id, "restart"]) => containers::container_restart(ctx, id).await,
        (&M::POST, ["containers", id, "wait"]) => containers::container_wait(ctx, id),
        (&M::DELETE, ["containers", id]) if ctx.flag("link") => Err(Error::internal(format!(
            "Conflict, cannot remove the default link name of the container {id}"
        ))),
        (&M::DELETE, ["containers", id]) => containers::container_delete(ctx, id).await,
        // `docker rm --link parent/alias`.
        (&M::DELETE, ["containers", parent, alias]) if ctx.flag("link") => {
            containers::container_remove_link(ctx, parent, alias).await
        }
        (&M::GET, ["containers", id, "logs"]) => containers::container_logs(ctx, id),
        (&M::POST, ["containers", id, "attach"]) => containers::container_attach(ctx, req, id),
        (&M::GET, ["containers", id, "attach", "ws"]) => {
            containers::container_attach_ws(ctx, req, id)
        }
        (&M::POST, ["containers", id, "resize"]) => containers::container_resize(ctx, id).await,
        (&M::POST, ["containers", id, "rename"]) => containers::container_rename(ctx, id),
        (&M::POST, ["containers", id, "update"]) => {
            containers::container_update(ctx, req, id).await
        }
        (&M::POST, ["containers", id, "pause"]) => containers::container_pause(ctx, id).await,
        (&M::POST, ["containers", id, "unpause"]) => containers::container_unpause(ctx, id).await,
        (&M::POST, ["containers", id, "exec"]) => exec::container_exec(ctx, req, id).await,
        (&M::POST, ["exec", id, "start"]) => exec::exec_start(ctx, req, id).await,
        (&M::POST, ["exec", id, "resize"]) => exec::exec_resize(ctx, id),
        (&M::GET, ["exec", id, "json"]) => exec::exec_inspect(ctx, id),

        (&M::POST, ["images", "create"]) => images::image_create(ctx, req).await,
        (&M::GET, ["images", "get"]) => images::image_get_all(ctx),
        (&M::POST, ["images", "load"]) => images::image_load(ctx, req).await,
        (&M::GET, ["images", name @ .., "get"]) if !name.is_empty() => {
            images::image_get(ctx, &name.join("/"))
        }
        (&M::POST, ["images", name @ .., "push"]) if !name.is_empty() => {
            images::image_push(ctx, req, &name.join("/"))
        }
        (&M::POST, ["auth"]) => images::system_auth(ctx, req).await,
        (&M::GET, ["distribution", name @ .., "json"]) if !name.is_empty() => {
            images::distribution_inspect(ctx, req, &name.join("/")).await
        }
        (&M::GET, ["containers", id, "export"]) => containers::container_export(ctx, id).await,
        (&M::GET, ["containers", id, "top"]) => containers::container_top(ctx, id).await,
        (&M::GET, ["containers", id, "stats"]) => containers::container_stats(ctx, id).await,
        (&M::GET, ["containers", id, "changes"]) => containers::container_changes(ctx, id).await,
        (&M::HEAD, ["containers", id, "archive"]) => {
            containers::container_archive_info(ctx, id).await
        }
        (&M::GET, ["containers", id, "archive"]) => containers::container_archive(ctx, id).await,
        (&M::PUT, ["containers", id, "archive"]) => {
            containers::put_container_archive(ctx, req, id).await
        }
        (&M::GET, ["images", "json"]) => images::image_list(ctx),
        (&M::GET, ["images", "search"]) => images::image_search(ctx, req).await,
        (&M::POST, ["images", "prune"]) => images::image_prune(ctx),
        (&M::GET, ["images", name @ .., "history"]) if !name.is_empty() => {
            images::image_history(ctx, &name.join("/"))
        }
        (&M::GET, ["system", "df"]) => system::system_data_usage(ctx),
        (&M::GET, ["images", name @ .., "json"]) if !name.is_empty() => {
            images::image_inspect(ctx, &name.join("/"))
        }
        (&M::POST, ["images", name @ .., "tag"]) if !name.is_empty() => {
            images::image_tag(ctx, &name.join("/"))
        }
        (&M::DELETE, ["images", name @ ..]) if !name.is_empty() => {
            images::image_delete(ctx, &name.join("/"))
        }
        _ => Err(Error::not_found("page not found")),
    }
}

/// The most a JSON request body may hold. Docker's bodies are kilobytes;
/// without a bound, one request could make the daemon hold gigabytes.
pub(crate) const MAX_JSON_BODY: usize = 32 << 20;

/// Reads a small request body whole, refusing one over [`MAX_JSON_BODY`]
/// as soon as it passes it (400, nothing done).
pub(crate) async fn read_small_body(body: Incoming) -> Result<Bytes> {
    let limited = http_body_util::Limited::new(body, MAX_JSON_BODY);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(Error::invalid(format!(
            "request body too large: the limit is {} MiB",
            MAX_JSON_BODY >> 20
        ))),
        Err(e) => Err(Error::invalid(format!("read body: {e}"))),
    }
}

/// Reads a JSON body; an empty body gives `T::default()` when `allow_empty`.
pub(crate) async fn read_json<T: serde::de::DeserializeOwned + Default>(
    req: Request<Incoming>,
    allow_empty: bool,
) -> Result<T> {
    let body = read_small_body(req.into_body()).await?;
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return if allow_empty {
            Ok(T::default())
        } else {
            Err(Error::invalid("empty request body"))
        };
    }
    parse_json(&body)
}

/// Parses a request's JSON as Go's decoder fills a fresh struct: a struct
/// field given as `null` keeps its zero value, as if absent (docker-py and
/// compose send `"ReadOnly": null` and the like, and dockerd takes them).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T> {
    let invalid = |e: serde_json::Error| Error::invalid(format!("invalid JSON: {e}"));
    let mut v: serde_json::Value = serde_json::from_slice(body).map_err(invalid)?;
    drop_null_fields(&mut v);
    serde_json::from_value(v).map_err(invalid)
}

/// The API's members that are maps, not structs: a `null` value there is
/// an entry (`"EndpointsConfig": {"net": null}` connects to `net`,
/// `"Volumes": {"/data": null}` declares a volume), so it stays.
const MAP_MEMBERS: &[&str] = &[
    "Annotations",
    "DriverOpts",
    "EndpointsConfig",
    "ExposedPorts",
    "Labels",
    "Options",
    "PortBindings",
    "StorageOpt",
    "Sysctls",
    "Tmpfs",
    "Volumes",
];

/// Removes the struct members whose value is `null`, at every depth. Array
/// elements and map entries stay (Go stores them as zero values).
fn drop_null_fields(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            for (k, x) in m.iter_mut() {
                match x {
                    serde_json::Value::Object(map) if MAP_MEMBERS.contains(&k.as_str()) => {
                        map.values_mut().for_each(drop_null_fields)
                    }
                    _ => drop_null_fields(x),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(drop_null_fields),
        _ => {}
    }
}

/// [`read_json`] for the container bodies whose field names Go's decoding
/// would match without case (see `options::canonicalize`).
pub(crate) async fn read_container_json<T: serde::de::DeserializeOwned + Default>(
    req: Request<Incoming>,
    allow_empty: bool,
    body: engine::containers::options::Body,
) -> Result<T> {
    let mut v: serde_json::Value = read_json(req, allow_empty).await?;
    if v.is_null() {
        return Ok(T::default());
    }
    engine::containers::options::canonicalize(body, &mut v);
    serde_json::from_value(v).map_err(|e| Error::invalid(format!("invalid JSON: {e}")))
}

/// The socket of a unix connection, in its requests' extensions. Valid as
/// long as the connection (or what it was upgraded to) lives.
#[derive(Clone, Copy)]
pub(crate) struct ConnFd(pub std::os::fd::RawFd);

/// Whether the client has read everything sent on a unix connection
/// (`SIOCOUTQ` is 0; an error counts as read).
fn answer_read(fd: ConnFd) -> bool {
    let mut queued: libc::c_int = 0;
    // SAFETY: SIOCOUTQ writes one int through a valid pointer; the fd is the
    // live connection's (ConnFd).
    let rc = unsafe { libc::ioctl(fd.0, libc::TIOCOUTQ, &mut queued) };
    rc != 0 || queued == 0
}

/// How long a stream's first bytes wait for the client to read the 101
/// answer, in 1 ms steps.
const ANSWER_WAIT_STEPS: u32 = 500;

/// Hijacked streams (attach, exec, websocket attach) being served.
static STREAMS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many hijacked streams the daemon serves at once: each holds a
/// client connection and a shim connection (and their buffers), so they
/// may take at most half of the open-file limit, with 128 descriptors kept
/// for everything else. Read at each request: `prlimit` on a running
/// daemon counts.
fn max_streams() -> usize {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit through a valid pointer.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        lim.rlim_cur
    } else {
        1024
    };
    (soft.min(1 << 20) as usize).saturating_sub(128) / 4
}

/// A hijacked stream's place, given back when it ends.
pub(crate) struct StreamSlot(());

impl StreamSlot {
    /// Takes a place, or refuses the request (503) when the daemon already
    /// serves as many streams as it allows.
    pub(crate) fn take() -> Result<StreamSlot> {
        use std::sync::atomic::Ordering;
        let max = max_streams();
        let taken = STREAMS.fetch_add(1, Ordering::SeqCst);
        if taken >= max {
            STREAMS.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::unavailable(format!(
                "too many attached streams: the daemon serves at most {max} at once \
                 (a quarter of its open-file limit); try again when one has ended"
            )));
        }
        Ok(StreamSlot(()))
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        STREAMS.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A hijacked connection holding its [`StreamSlot`]: the place is given
/// back when the engine drops the connection, however long it keeps it.
///
/// On a unix socket its first write waits (up to 500 ms) until the client
/// has read the 101 answer: docker-py reads the answer through a buffered
/// file and then the raw socket, so bytes that arrive with the answer are
/// lost to it (docker/docker-py#2466). Only the bytes wait: the engine has
/// the connection (an attach is registered) at once, before the client,
/// having read the answer, starts the container.
struct Slotted<T> {
    io: T,
    _slot: StreamSlot,
    /// Until the first write has gone: the connection, the pending 1 ms
    /// step and the steps taken.
    answer: Option<(ConnFd, Option<Step>, u32)>,
}

/// One step of the wait for the answer to be read.
type Step = std::pin::Pin<Box<tokio::time::Sleep>>;

impl<T> Slotted<T> {
    /// Ready once the client has read the answer (or the wait is over).
    fn poll_answer_read(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        use std::task::Poll;
        while let Some((fd, step, taken)) = self.answer.as_mut() {
            if answer_read(*fd) || *taken >= ANSWER_WAIT_STEPS {
                self.answer = None;
                break;
            }
            let sleep = step.get_or_insert_with(|| {
                Box::pin(tokio::time::sleep(std::time::Duration::from_millis(1)))
            });
            match std::future::Future::poll(sleep.as_mut(), cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) => {
                    *step = None;
                    *taken += 1;
                }
            }
        }
        Poll::Ready(())
    }
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Slotted<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Slotted<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::ready!(self.poll_answer_read(cx));
        std::pin::Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::ready!(self.poll_answer_read(cx));
        std::pin::Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Answers with `101 Switching Protocols` and runs `f` on the raw connection
/// (whose first bytes wait for the client to read the answer on a unix
/// socket: [`Slotted`]). Refused when the
/// daemon serves as many hijacked streams as it allows ([`StreamSlot`]).
/// `content_type` comes from `compat::stream_content_type`.
pub(crate) fn hijack<B, F, Fut>(req: Request<B>, content_type: &'static str, f: F) -> Result<Resp>
where
    B: Send + 'static,
    F: FnOnce(Box<dyn ClientStream>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let slot = StreamSlot::take()?;
    let fd = req.extensions().get::<ConnFd>().copied();
    tokio::spawn(async move {
        match hyper::upgrade::on(req).await {
            Ok(up) => {
                f(Box::new(Slotted {
                    io: TokioIo::new(up),
                    _slot: slot,
                    answer: fd.map(|fd| (fd, None, 0)),
                }))
                .await
            }
            Err(e) => tracing::debug!(error = %e, "upgrade failed"),
        }
    });
    Ok(Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Content-Type", content_type)
        .header("Connection", "Upgrade")
        .header("Upgrade", "tcp")
        .body(Body::empty())
        .expect("valid response"))
}

/// A request body as a blocking reader, for engine work on a blocking thread.
/// Frames cross from the connection's task in batches (whatever has arrived,
/// up to 1 MiB), so a 50 MB upload wakes the reading thread tens of times,
/// not thousands. A body that breaks off is an error, never an early end.
pub(crate) struct BodyReader {
    rx: tokio::sync::mpsc::Receiver<std::result::Result<Vec<Bytes>, String>>,
    batch: std::vec::IntoIter<Bytes>,
    cur: Bytes,
    failed: Option<String>,
}

/// How much a batch gathers before it is handed over.
const BATCH: usize = 1 << 20;

impl BodyReader {
    pub(crate) fn new(req: Request<Incoming>) -> BodyReader {
        use futures_util::FutureExt;
        let (tx, rx) = tokio::sync::mpsc::channel(8);
        let mut body = req.into_body();
        tokio::spawn(async move {
            let mut batch = Vec::new();
            let mut size = 0;
            let mut next = body.frame().await;
            loop {
                match next {
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            size += data.len();
                            batch.push(data);
                        }
                    }
                    Some(Err(e)) => {
                        let _ = tx.send(Err(e.to_string())).await;
                        return;
                    }
                    None => {
                        if !batch.is_empty() {
                            let _ = tx.send(Ok(batch)).await;
                        }
                        return;
                    }
                }
                // More that has already arrived joins the batch; otherwise
                // the batch goes and the next frame is awaited.
                next = match body.frame().now_or_never() {
                    Some(f) if size < BATCH => f,
                    ready => {
                        size = 0;
                        if tx.send(Ok(std::mem::take(&mut batch))).await.is_err() {
                            return;
                        }
                        match ready {
                            Some(f) => f,
                            None => body.frame().await,
                        }
                    }
                };
            }
        });
        BodyReader {
            rx,
            batch: Vec::new().into_iter(),
            cur: Bytes::new(),
            failed: None,
        }
    }

    /// Reads and drops whatever the client still sends. Called once the
    /// engine is done, above all when it failed early (a full disk, a bad
    /// entry): a client still writing its upload would otherwise see a
    /// broken pipe instead of the error response. Blocking.
    pub(crate) fn drain(mut self) {
        self.cur = Bytes::new();
        while self.rx.blocking_recv().is_some() {}
    }
}

impl std::io::Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            if let Some(b) = self.batch.next() {
                self.cur = b;
                continue;
            }
            if let Some(e) = &self.failed {
                return Err(std::io::Error::other(format!(
                    "reading the request body: {e}"
                )));
            }
            match self.rx.blocking_recv() {
                Some(Ok(batch)) => self.batch = batch.into_iter(),
                Some(Err(e)) => self.failed = Some(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur.split_to(n));
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Default, Debug, PartialEq)]
    #[serde(rename_all = "PascalCase", default)]
    struct Mount {
        read_only: bool,
        target: String,
        size: i64,
    }

    #[test]
    fn null_members_leave_zero_values_as_go_does() {
        let m: Mount = parse_json(br#"{"ReadOnly": null, "Target": "/x", "Size": null}"#).unwrap();
        assert_eq!(
            m,
            Mount {
                read_only: false,
                target: "/x".into(),
                size: 0
            }
        );
        let v: serde_json::Value = parse_json(
            br#"{"HostConfig": {"Mounts": [{"Source": null, "Target": "/t"}], "Dns": null},
                 "Cmd": [null], "Volumes": {"/d": null},
                 "NetworkingConfig": {"EndpointsConfig": {"n": null, "m": {"Aliases": null}}}}"#,
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"HostConfig": {"Mounts": [{"Target": "/t"}]},
                "Cmd": [null], "Volumes": {"/d": null},
                "NetworkingConfig": {"EndpointsConfig": {"n": null, "m": {}}}})
        );
        let e = parse_json::<Mount>(br#"{"ReadOnly": "yes"}"#).unwrap_err();
        assert!(e.to_string().contains("invalid JSON"), "{e}");
    }
}
