//! `POST /build` (the legacy builder that `DOCKER_BUILDKIT=0`, docker-py and
//! compose v1 use): a Dockerfile run step by step over an extracted
//! context. Each step makes an image: config-only steps derive one from the
//! parent, RUN runs a container through the shim and commits its changes,
//! COPY/ADD put files into a created container and commit them. A step's
//! cache key chains its parent image, its instruction as expanded and, for
//! COPY/ADD, the digests of the files it copies; keys live in the metadata
//! database. Output is Docker's stream (`Step N/M : ...`, ` ---> <id>`,
//! `Successfully built`, an `aux` ID), which docker-py and compose parse.

use crate::containers::{AttachClient, CommitOptions, LeaseView, PutOptions};
use crate::images::Image;
use crate::transfer::ProgressTx;
use crate::Engine;
use api_types::{ContainerConfig, ContainerCreateRequest, ImageRunConfig};
use base::{Error, Result};
use builder::parser::{self, CommandLine, Dockerfile, Instruction, Lex, Statement};
use bytes::Bytes;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use store::metadata::Table;

mod context;
mod copy;
mod history;
mod remote;
pub use context::Context;
use copy::Item;
pub(crate) use history::go_duration;

/// What `POST /build` asks for.
#[derive(Debug, Default, Clone)]
pub struct BuildOptions {
    /// The Dockerfile's path in the context.
    pub dockerfile: String,
    pub tags: Vec<String>,
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
    pub no_cache: bool,
    /// Remove intermediate containers after a successful step (`rm`).
    pub remove: bool,
    /// Remove them after a failed one too (`forcerm`).
    pub force_remove: bool,
    pub labels: BTreeMap<String, String>,
    pub quiet: bool,
    /// Pull base images even when they are present (`--pull`).
    pub pull: bool,
    /// `--platform`: only the host's (emulation is not there yet).
    pub platform: Option<String>,
    /// What RUN containers get: memory and CPU limits, `--shm-size`,
    /// `--add-host`, `--network`.
    pub host: api_types::HostConfig,
    /// `--cache-from`: images whose layers may stand in for steps.
    pub cache_from: Vec<String>,
    /// Credentials for pulling base images, by registry (`X-Registry-Config`).
    pub auths: BTreeMap<String, distribution::AuthConfig>,
    /// A quiet build's output, kept to be shown if it fails (as dockerd).
    pub quiet_log: Arc<std::sync::Mutex<Vec<Bytes>>>,
}

impl BuildOptions {
    /// Sends `b` to the client, or keeps it when the build is quiet.
    async fn emit(&self, tx: &ProgressTx, b: Bytes) {
        if self.quiet {
            self.quiet_log.lock().unwrap().push(b);
        } else {
            let _ = tx.send(b).await;
        }
    }
}

/// A platform a build can target: the host's, or one binfmt_misc emulates.
fn check_platform(p: &str) -> Result<distribution::Platform> {
    let want = distribution::Platform::parse(p).map_err(Error::from)?;
    let host = distribution::Platform::host();
    if host.match_rank(&want).is_some() {
        return Ok(want);
    }
    let emulated = crate::emulation::emulated();
    let runs = emulated.iter().any(|e| {
        distribution::Platform::parse(e)
            .is_ok_and(|e| e.os == want.os && e.architecture == want.architecture)
    });
    if !runs {
        return Err(Error::invalid(format!(
            "cannot build for platform {want}: it is not the host's ({host}) and no emulator for it is registered (install qemu-user-static, and leave berthd's emulation on)"
        )));
    }
    Ok(want)
}

/// The predefined platform args: `TARGET*` for the platform built for,
/// `BUILD*` for the host's.
fn platform_args(target: &distribution::Platform) -> Vec<(String, String)> {
    let host = distribution::Platform::host();
    let mut out = Vec::new();
    for (prefix, p) in [("TARGET", target), ("BUILD", &host)] {
        out.push((format!("{prefix}PLATFORM"), p.to_string()));
        out.push((format!("{prefix}OS"), p.os.clone()));
        out.push((format!("{prefix}ARCH"), p.architecture.clone()));
        out.push((
            format!("{prefix}VARIANT"),
            p.variant.clone().unwrap_or_default(),
        ));
    }
    out
}

fn stream(s: impl Into<String>) -> Bytes {
    Bytes::from(format!("{}\r\n", json!({ "stream": s.into() })))
}

fn short(id: &str) -> &str {
    let h = id.strip_prefix("sha256:").unwrap_or(id);
    &h[..12.min(h.len())]
}

/// The state of the stage being built.
struct StageState {
    image: Option<Image>,
    config: ImageRunConfig,
    shell: Vec<String>,
    args: parser::ArgScope,
}

impl StageState {
    /// Variables steps see: the image's env, then the visible build args
    /// (which do not override ENV).
    fn env(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = self.args.visible();
        for e in &self.config.env {
            if let Some((k, v)) = e.split_once('=') {
                vars.retain(|(n, _)| n != k);
                vars.push((k.to_string(), v.to_string()));
            }
        }
        vars
    }
}

/// The message of a stage that stops because another one failed.
const STOPPED: &str = "the build stopped: another stage failed";

/// What every stage of one build shares.
struct Run<'a> {
    df: &'a Dockerfile,
    lex: &'a Lex,
    meta: &'a parser::ArgScope,
    stages: &'a Stages,
    ctx: &'a Arc<Context>,
    o: &'a BuildOptions,
    total: usize,
}

/// The stages' results, awaited by the stages that need them.
struct Stages {
    /// None while building, then the image id (None if it failed).
    cells: Vec<tokio::sync::watch::Sender<Option<Option<String>>>>,
    needed: Vec<bool>,
    /// A stage failed: the others stop at their next step.
    failed: AtomicBool,
}

impl Stages {
    fn new(n: usize, needed: &[usize]) -> Stages {
        Stages {
            cells: (0..n)
                .map(|_| tokio::sync::watch::Sender::new(None))
                .collect(),
            needed: (0..n).map(|i| needed.contains(&i)).collect(),
            failed: AtomicBool::new(false),
        }
    }

    fn set(&self, i: usize, id: Option<String>) {
        self.cells[i].send_replace(Some(id));
    }

    /// Stage `i`'s image, once built.
    async fn get(&self, i: usize) -> Result<String> {
        if !self.needed[i] {
            return Err(Error::internal(format!(
                "stage {i} is not part of this build"
            )));
        }
        let mut rx = self.cells[i].subscribe();
        let v = rx
            .wait_for(|v| v.is_some())
            .await
            .map_err(|_| Error::invalid(STOPPED))?
            .clone();
        v.flatten().ok_or_else(|| Error::invalid(STOPPED))
    }
}

/// What a COPY or ADD step copies, and how.
struct CopyAction {
    /// Where the items come from: the context, or files of an image.
    src: Arc<Context>,
    items: Vec<Item>,
    /// The destination as written.
    dest: String,
    /// How many sources the instruction names (wildcards count as two).
    sources: usize,
    chown: Option<String>,
    chmod: Option<u32>,
}

/// Whether an ADD source is a URL dockerd fetches.
fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://")
}

/// A HEALTHCHECK as the image config's `Healthcheck`.
fn health_config(h: &parser::Healthcheck) -> api_types::HealthConfig {
    let ns = |d: &Option<std::time::Duration>| d.map(|d| d.as_nanos() as i64).unwrap_or(0);
    match h {
        parser::Healthcheck::None => api_types::HealthConfig {
            test: vec!["NONE".into()],
            ..Default::default()
        },
        parser::Healthcheck::Cmd {
            test,
            interval,
            timeout,
            start_period,
            start_interval,
            retries,
        } => api_types::HealthConfig {
            test: test.clone(),
            interval: ns(interval),
            timeout: ns(timeout),
            start_period: ns(start_period),
            start_interval: ns(start_interval),
            retries: retries.map(i64::from).unwrap_or(0),
        },
    }
}

/// `--chmod` as octal bits.
fn chmod(m: Option<&str>) -> Result<Option<u32>> {
    m.map(|m| {
        u32::from_str_radix(m, 8)
            .ok()
            .filter(|b| *b <= 0o7777)
            .ok_or_else(|| Error::invalid(format!("invalid chmod parameter: {m}")))
    })
    .transpose()
}

/// `k=v` into an env list, replacing `k`.
fn set_env(env: &mut Vec<String>, k: &str, v: &str) {
    env.retain(|e| e.split_once('=').map(|x| x.0) != Some(k));
    env.push(format!("{k}={v}"));
}

impl Engine {
    /// Checks a build's options before its context is read (a 400 then).
    pub fn check_build_options(&self, o: &BuildOptions) -> Result<()> {
        if let Some(p) = &o.platform {
            check_platform(p)?;
        }
        crate::spec::validate_host_config(&o.host)?;
        match o.host.network_mode.as_str() {
            "" | "bridge" | "host" | "none" => {}
            // The steps join that container's network namespace, as with
            // dockerd's classic builder; it must exist (and run, when the
            // first step starts).
            n if n.starts_with("container:") => {
                self.containers.inspect(&n["container:".len()..])?;
            }
            n => {
                self.networks
                    .get(n)
                    .map_err(|_| Error::not_found(format!("network {n} not found")))?;
            }
        }
        Ok(())
    }

    /// The base image of a stage: the local one unless `--pull` or missing,
    /// then pulled (its progress in the build's stream, as dockerd).
    /// With a `platform`, a local image counts only if it is of it.
    async fn base_image(
        &self,
        name: &str,
        platform: Option<&distribution::Platform>,
        o: &BuildOptions,
        tx: &ProgressTx,
    ) -> Result<Image> {
        if !o.pull {
            if let Ok(img) = self.images.resolve(name) {
                let c = &img.config;
                let have =
                    distribution::Platform::new(&c.os, &c.architecture, c.variant.as_deref());
                if platform.is_none_or(|p| p.match_rank(&have).is_some()) {
                    return Ok(img);
                }
            }
        }
        let platform_text = platform.map(|p| p.to_string());
        let reference = base::Reference::parse_tagged(name)?;
        let auth = o
            .auths
            .iter()
            .find(|(k, _)| {
                let host = k
                    .trim_start_matches("https://")
                    .trim_start_matches("http://")
                    .split('/')
                    .next()
                    .unwrap_or("");
                host == reference.domain
                    || (reference.domain == "docker.io"
                        && matches!(host, "index.docker.io" | "registry-1.docker.io"))
            })
            .map(|(_, a)| a.clone())
            .unwrap_or_default();
        let missing = || {
            Error::not_found(format!(
                "pull access denied for {name}, repository does not exist or may require 'docker login'"
            ))
        };
        let plan = self
            .images
            .pull_resolve(name, "", platform_text.as_deref(), &auth)
            .await
            .map_err(|e| match e.kind {
                base::ErrorKind::NotFound => missing(),
                _ => e,
            })?;
        let (ptx, mut prx) = tokio::sync::mpsc::channel::<Bytes>(64);
        let relay = {
            let (tx, o) = (tx.clone(), o.clone());
            tokio::spawn(async move {
                while let Some(b) = prx.recv().await {
                    o.emit(&tx, b).await;
                }
            })
        };
        let pulled = self.images.pull_run(plan, ptx).await;
        let _ = relay.await;
        self.images.resolve(&pulled?)
    }

    /// `POST /build/prune`: forgets cached steps, those whose image is gone
    /// or, with `all`, every one. The steps' images are images (dockerd's
    /// legacy builder keeps them the same way): `image prune` removes them.
    pub fn build_prune(&self, all: bool) -> Result<api_types::BuildCachePruneResponse> {
        let mut deleted = Vec::new();
        for (key, id) in self.meta().list::<String>(Table::BuildCache)? {
            if all || self.images.resolve(&id).is_err() {
                deleted.push(key);
            }
        }
        self.meta().update(|tx| {
            for k in &deleted {
                tx.delete(Table::BuildCache, k)?;
            }
            Ok(())
        })?;
        Ok(api_types::BuildCachePruneResponse {
            caches_deleted: (!deleted.is_empty()).then_some(deleted),
            space_reclaimed: 0,
        })
    }

    /// Reads a build context (a tar, plain or compressed, or a Dockerfile
    /// alone), hashing its files as they stream in. Blocking.
    pub fn build_context(&self, body: impl Read) -> Result<Context> {
        Context::unpack(body, self.tmp.clone())
    }

    /// A build's context from `remote` (docker-py's and compose's URL
    /// builds): a Git repository cloned with the host's git, or a URL's
    /// tarball or Dockerfile, as dockerd's classic builder fetches them.
    pub async fn remote_build_context(&self, remote: &str) -> Result<Context> {
        match remote::classify(remote)? {
            remote::Remote::Git {
                url,
                reference,
                subdir,
            } => {
                let tmp = self.tmp.clone();
                tokio::task::spawn_blocking(move || {
                    remote::git_context(&url, &reference, &subdir, &tmp)
                })
                .await
                .map_err(|e| Error::internal(e.to_string()))?
            }
            remote::Remote::Url(u) => {
                let fail = |e: &dyn std::fmt::Display| {
                    Error::internal(format!(
                        "unable to prepare context: unable to download remote context {u}: {e}"
                    ))
                };
                let parsed = url::Url::parse(&u).map_err(|e| fail(&e))?;
                let (_, body) = self.http_get(parsed, &fail).await?;
                let tmp = self.tmp.clone();
                tokio::task::spawn_blocking(move || {
                    Context::unpack(tokio_util::io::SyncIoBridge::new(body), tmp)
                })
                .await
                .map_err(|e| Error::internal(e.to_string()))?
            }
        }
    }

    /// Builds `ctx`, sending Docker's stream to `tx`; returns the image id.
    pub async fn build(
        self: &Arc<Self>,
        ctx: Context,
        o: BuildOptions,
        tx: ProgressTx,
    ) -> Result<String> {
        let r = self.build_all(ctx, o.clone(), tx.clone()).await;
        // As dockerd: a quiet build that fails shows what it said.
        if r.is_err() {
            let kept = std::mem::take(&mut *o.quiet_log.lock().unwrap());
            for b in kept {
                let _ = tx.send(b).await;
            }
        }
        r
    }

    async fn build_all(
        self: &Arc<Self>,
        mut ctx: Context,
        o: BuildOptions,
        tx: ProgressTx,
    ) -> Result<String> {
        let name = if o.dockerfile.is_empty() {
            "Dockerfile".to_string()
        } else {
            o.dockerfile.clone()
        };
        let text = ctx
            .resolve(&name, true)
            .ok()
            .and_then(|p| ctx.read(&p))
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| Error::invalid(format!("Cannot locate specified Dockerfile: {name}")))?;
        // As dockerd: the Dockerfile and .dockerignore that the context's
        // own .dockerignore excludes are dropped once read.
        if let Some(ignore) = ctx
            .read(std::path::Path::new(".dockerignore"))
            .and_then(|b| String::from_utf8(b).ok())
        {
            let patterns = builder::dockerignore::Patterns::parse(&ignore)
                .map_err(|e| Error::invalid(e.message))?;
            for gone in patterns.removed_after_read(&name) {
                ctx.remove(std::path::Path::new(&gone));
            }
        }
        let ctx = Arc::new(ctx);
        let ctx = &ctx;
        if text.trim().is_empty() {
            return Err(Error::invalid(format!(
                "the Dockerfile ({name}) cannot be empty"
            )));
        }
        let df = parser::parse(&text).map_err(|e| Error::invalid(e.to_string()))?;
        let target = df
            .target_index(o.target.as_deref())
            .map_err(Error::invalid)?;
        let lex = df.lex();
        let target_platform = match &o.platform {
            Some(p) => check_platform(p)?,
            None => distribution::Platform::host(),
        };
        let meta = df
            .meta_scope_with(&o.build_args, &platform_args(&target_platform))
            .map_err(|e| Error::invalid(e.to_string()))?;
        let needed = df
            .needed_stages(target, &meta.meta_visible())
            .map_err(|e| Error::invalid(e.to_string()))?;
        let total: usize = df.meta_args.len()
            + needed
                .iter()
                .map(|i| 1 + df.stages[*i].commands.len())
                .sum::<usize>();
        let stages = Stages::new(df.stages.len(), &needed);
        let run = Run {
            df: &df,
            lex: &lex,
            meta: &meta,
            stages: &stages,
            ctx,
            o: &o,
            total,
        };
        // Independent stages build at once. Each streams into its own
        // channel and the channels go to the client in stage order, so the
        // output reads as dockerd's sequential one.
        let mut first = df.meta_args.len();
        let mut futs = Vec::new();
        let mut outs = Vec::new();
        for &i in &needed {
            let (stx, srx) = tokio::sync::mpsc::channel(4096);
            outs.push(srx);
            let (run, step) = (&run, first + 1);
            first += 1 + df.stages[i].commands.len();
            futs.push(async move {
                let r = self.build_stage(run, i, &stx, step).await;
                if r.is_err() {
                    run.stages.failed.store(true, Ordering::SeqCst);
                }
                run.stages.set(i, r.as_ref().ok().cloned());
                r
            });
        }
        let merge = async {
            for mut rx in outs {
                loop {
                    tokio::select! {
                        m = rx.recv() => match m {
                            Some(b) => {
                                if tx.send(b).await.is_err() {
                                    return;
                                }
                            }
                            None => break,
                        },
                        _ = tx.closed() => return,
                    }
                }
            }
        };
        let (results, ()) = tokio::join!(futures_util::future::join_all(futs), merge);
        // The error to report is the first that is not a stage stopping
        // because another failed.
        let mut errors: Vec<Error> = results
            .iter()
            .filter_map(|r| r.as_ref().err().cloned())
            .collect();
        if !errors.is_empty() {
            let first = errors
                .iter()
                .position(|e| e.message != STOPPED)
                .unwrap_or(0);
            return Err(errors.swap_remove(first));
        }
        drop(results);
        let mut id = stages.get(target).await?;
        if !o.labels.is_empty() {
            let img = self.images.resolve(&id)?;
            let mut cfg = img.config.config.clone();
            cfg.labels.extend(o.labels.clone());
            let images = self.images.clone();
            id = tokio::task::spawn_blocking(move || {
                images.derive(Some(&img), cfg, vec!["LABEL".into()])
            })
            .await
            .map_err(|e| Error::internal(e.to_string()))??;
        }
        let _ = tx
            .send(Bytes::from(format!("{}\r\n", json!({"aux": {"ID": id}}))))
            .await;
        if o.quiet {
            // As dockerd: a quiet build's stream is the image id alone
            // (the docker CLI's `-q` and `--iidfile` read it there).
            let _ = tx.send(stream(format!("{id}\n"))).await;
        } else {
            let _ = tx
                .send(stream(format!("Successfully built {}\n", short(&id))))
                .await;
        }
        for t in &o.tags {
            let r = base::Reference::parse_tagged(t)?;
            self.images.tag_id(&id, &r)?;
            if !o.quiet {
                let _ = tx
                    .send(stream(format!("Successfully tagged {}\n", r.familiar())))
                    .await;
            }
        }
        Ok(id)
    }

    async fn build_stage(
        self: &Arc<Self>,
        run: &Run<'_>,
        index: usize,
        tx: &ProgressTx,
        mut step: usize,
    ) -> Result<String> {
        let Run {
            df,
            lex,
            meta,
            o,
            total,
            ..
        } = *run;
        let stage = &df.stages[index];
        self.say(
            tx,
            o,
            &format!("Step {step}/{total} : {}\n", stage.from_statement.original),
        )
        .await;
        let base = lex
            .process_word(&stage.from.image, &meta.meta_visible())
            .map_err(|e| Error::invalid(e.to_string()))?;
        // The stage's platform: FROM --platform, else the build's.
        let platform = match &stage.from.platform {
            Some(p) => {
                let p = lex
                    .process_word(p, &meta.meta_visible())
                    .map_err(|e| Error::invalid(e.to_string()))?;
                Some(check_platform(&p)?)
            }
            None => o.platform.as_deref().map(check_platform).transpose()?,
        };
        let image = if base == "scratch" {
            None
        } else if let Some(idx) = df.stages[..stage.index]
            .iter()
            .position(|s| s.name() == Some(base.to_ascii_lowercase().as_str()))
        {
            Some(self.images.resolve(&run.stages.get(idx).await?)?)
        } else {
            Some(self.base_image(&base, platform.as_ref(), o, tx).await?)
        };
        let config = image
            .as_ref()
            .map(|i| i.config.config.clone())
            .unwrap_or_default();
        let mut st = StageState {
            shell: config
                .shell
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()]),
            config,
            image,
            args: meta.for_stage(),
        };
        // The base image's ONBUILD triggers run first, and are not inherited.
        let triggers = std::mem::take(&mut st.config.on_build);
        let mut trigger_steps = Vec::new();
        for t in &triggers {
            let s = parser::parse_instruction(t).map_err(|e| Error::invalid(e.to_string()))?;
            match &s.instruction {
                Instruction::Onbuild(_) => {
                    return Err(Error::invalid(
                        "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
                    ))
                }
                Instruction::From(_) | Instruction::Maintainer(_) => {
                    return Err(Error::invalid(format!(
                        "{} isn't allowed as an ONBUILD trigger",
                        s.instruction.name()
                    )))
                }
                _ => trigger_steps.push(s),
            }
        }
        // As dockerd: a stage without PATH gets the default one.
        if !st.config.env.iter().any(|e| e.starts_with("PATH=")) {
            st.config.env.push(crate::spec::DEFAULT_PATH.to_string());
        }
        match &st.image {
            Some(i) => {
                self.say(tx, o, &format!(" ---> {}\n", short(&i.record.id)))
                    .await
            }
            None => self.say(tx, o, " ---> \n").await,
        }
        if !trigger_steps.is_empty() {
            let n = trigger_steps.len();
            self.say(
                tx,
                o,
                &format!(
                    "# Executing {n} build trigger{}\n",
                    if n == 1 { "" } else { "s" }
                ),
            )
            .await;
            for s in &trigger_steps {
                self.build_step(s, run, index, &mut st, tx).await?;
            }
        }
        for s in &stage.commands {
            step += 1;
            if tx.is_closed() {
                return Err(Error::invalid(
                    "the build was cancelled: the client went away",
                ));
            }
            if run.stages.failed.load(Ordering::SeqCst) {
                return Err(Error::invalid(STOPPED));
            }
            self.say(tx, o, &format!("Step {step}/{total} : {}\n", s.original))
                .await;
            self.build_step(s, run, index, &mut st, tx).await?;
        }
        match &st.image {
            Some(i) => Ok(i.record.id.clone()),
            None => {
                let images = self.images.clone();
                let cfg = st.config.clone();
                tokio::task::spawn_blocking(move || {
                    images.derive(None, cfg, vec!["FROM scratch".into()])
                })
                .await
                .map_err(|e| Error::internal(e.to_string()))?
            }
        }
    }

    async fn build_step(
        self: &Arc<Self>,
        s: &Statement,
        run: &Run<'_>,
        stage: usize,
        st: &mut StageState,
        tx: &ProgressTx,
    ) -> Result<()> {
        let Run { lex, ctx, o, .. } = *run;
        let env = st.env();
        let inst = s
            .instruction
            .expand(lex, &env)
            .map_err(|e| Error::invalid(e.to_string()))?;
        let parent = st
            .image
            .as_ref()
            .map(|i| i.record.id.clone())
            .unwrap_or_default();
        let mut cfg = st.config.clone();
        // What the cache key covers besides the parent and the instruction.
        let mut extra = String::new();
        enum Action {
            Config,
            Run(Vec<String>),
            Copy(CopyAction),
        }
        let action = match &inst {
            Instruction::Env(kvs) => {
                for kv in kvs {
                    set_env(&mut cfg.env, &kv.key, &kv.value);
                }
                Action::Config
            }
            Instruction::Label(kvs) => {
                for kv in kvs {
                    cfg.labels.insert(kv.key.clone(), kv.value.clone());
                }
                Action::Config
            }
            Instruction::Maintainer(_) => Action::Config,
            Instruction::Cmd(c) => {
                cfg.cmd = Some(command(c, &st.shell));
                Action::Config
            }
            Instruction::Entrypoint(c) => {
                cfg.entrypoint = Some(command(c, &st.shell));
                // As dockerd: a new ENTRYPOINT resets an inherited CMD.
                cfg.cmd = None;
                Action::Config
            }
            Instruction::Expose(ports) => {
                let m = cfg.exposed_ports.get_or_insert_with(Default::default);
                for p in ports {
                    let key = if p.contains('/') {
                        p.clone()
                    } else {
                        format!("{p}/tcp")
                    };
                    m.insert(key, json!({}));
                }
                Action::Config
            }
            Instruction::User(u) => {
                cfg.user = u.clone();
                Action::Config
            }
            Instruction::Workdir(w) => {
                cfg.working_dir = if w.starts_with('/') {
                    w.clone()
                } else {
                    Path::new(if cfg.working_dir.is_empty() {
                        "/"
                    } else {
                        &cfg.working_dir
                    })
                    .join(w)
                    .display()
                    .to_string()
                };
                Action::Config
            }
            Instruction::Volume(vs) => {
                let m = cfg.volumes.get_or_insert_with(Default::default);
                for v in vs {
                    m.insert(v.clone(), json!({}));
                }
                Action::Config
            }
            Instruction::StopSignal(sig) => {
                cfg.stop_signal = Some(sig.clone());
                Action::Config
            }
            Instruction::Arg(decls) => {
                for d in decls {
                    st.args.declare(d);
                }
                extra = format!("{:?}", st.args.visible());
                Action::Config
            }
            Instruction::Shell(sh) => {
                st.shell = sh.clone();
                cfg.shell = Some(sh.clone());
                Action::Config
            }
            Instruction::Onbuild(t) => {
                cfg.on_build.push(t.expression.clone());
                Action::Config
            }
            Instruction::Healthcheck(h) => {
                if let Some(old) = &cfg.healthcheck {
                    if old.test.first().is_some_and(|t| t != "NONE") {
                        self.say(
                            tx,
                            o,
                            &format!("Note: overriding previous HEALTHCHECK: {:?}\n", old.test),
                        )
                        .await;
                    }
                }
                cfg.healthcheck = Some(health_config(h));
                Action::Config
            }
            Instruction::Run(r) => {
                if !r.mounts.is_empty()
                    || r.network.is_some()
                    || r.security.is_some()
                    || !r.devices.is_empty()
                    || !r.heredocs.is_empty()
                {
                    return Err(Error::invalid(
                        "RUN flags and heredocs are not supported by berth's legacy builder",
                    ));
                }
                // The build args a RUN sees are part of its key, as dockerd's.
                extra = format!("{:?}", st.args.visible());
                Action::Run(command(&r.command, &st.shell))
            }
            Instruction::Copy(c) => {
                if c.link || c.parents || !c.paths.inline.is_empty() {
                    return Err(Error::invalid("COPY --link, --parents and heredocs are not supported by berth's builder yet"));
                }
                let (src, sources) = match &c.from {
                    None => (ctx.clone(), c.paths.sources.clone()),
                    Some(from) => {
                        let image = self.copy_from_image(from, run, stage).await?;
                        let (tmp, sources) = self.fetch_from(&image, &c.paths.sources).await?;
                        (Arc::new(tmp), sources)
                    }
                };
                let items = copy::sources(
                    &src,
                    &sources,
                    &c.paths.dest,
                    &cfg.working_dir,
                    false,
                    "COPY",
                )?;
                extra = copy::digest(&src, &items);
                Action::Copy(CopyAction {
                    src,
                    items,
                    dest: c.paths.dest.clone(),
                    sources: c
                        .paths
                        .sources
                        .iter()
                        .map(|s| {
                            if builder::glob::has_wildcards(s) {
                                2
                            } else {
                                1
                            }
                        })
                        .sum(),
                    chown: c.chown.clone(),
                    chmod: chmod(c.chmod.as_deref())?,
                })
            }
            Instruction::Add(a) => {
                if a.checksum.is_some() || a.keep_git_dir.is_some() {
                    return Err(Error::invalid(
                        "ADD --checksum and --keep-git-dir are not supported by berth's builder yet",
                    ));
                }
                let urls = a.paths.sources.iter().filter(|s| is_url(s)).count();
                if urls > 0 && urls < a.paths.sources.len() {
                    return Err(Error::invalid(
                        "ADD of URLs together with local files in one instruction is not supported by berth's builder yet",
                    ));
                }
                if a.link || !a.paths.inline.is_empty() {
                    return Err(Error::invalid(
                        "ADD --link and heredocs are not supported by berth's builder yet",
                    ));
                }
                // URLs are fetched by the daemon into a context of their
                // own; what they fetch is not extracted (as dockerd).
                let (src, sources) = if urls > 0 {
                    let (dl, names) = self.download(&a.paths.sources, o, tx).await?;
                    (Arc::new(dl), names)
                } else {
                    (ctx.clone(), a.paths.sources.clone())
                };
                let items = copy::sources(
                    &src,
                    &sources,
                    &a.paths.dest,
                    &cfg.working_dir,
                    urls == 0,
                    "ADD",
                )?;
                extra = copy::digest(&src, &items);
                Action::Copy(CopyAction {
                    src,
                    items,
                    dest: a.paths.dest.clone(),
                    sources: a
                        .paths
                        .sources
                        .iter()
                        .map(|s| {
                            if builder::glob::has_wildcards(s) {
                                2
                            } else {
                                1
                            }
                        })
                        .sum(),
                    chown: a.chown.clone(),
                    chmod: chmod(a.chmod.as_deref())?,
                })
            }
            Instruction::From(_) => unreachable!("FROM starts a stage"),
        };
        let step_cmd = match (&action, &inst) {
            (Action::Run(argv), _) => {
                let args: Vec<(String, String)> = st
                    .args
                    .visible()
                    .into_iter()
                    .filter(|(k, _)| {
                        !cfg.env
                            .iter()
                            .any(|e| e.split_once('=').map(|x| x.0) == Some(k))
                    })
                    .collect();
                history::run(argv, &args)
            }
            (Action::Copy(c), Instruction::Copy(_) | Instruction::Add(_)) => {
                let kind = if c.items.len() > 1 && c.sources > 1 {
                    "multi"
                } else if matches!(c.items.first(), Some(Item::Entry { src, .. })
                    if c.src.get(src).is_some_and(|n| matches!(n.kind, context::Kind::Dir)))
                {
                    "dir"
                } else {
                    "file"
                };
                let chown = c
                    .chown
                    .as_deref()
                    .map(|o| format!("--chown={o}"))
                    .unwrap_or_default();
                history::nop1(
                    &st.shell,
                    &format!("{} {chown}{kind}:{extra} in {} ", inst.name(), c.dest),
                )
            }
            (_, Instruction::Workdir(_)) => {
                history::nop1(&st.shell, &format!("WORKDIR {}", cfg.working_dir))
            }
            (_, i) => match history::config_comment(i, &cfg, cfg.healthcheck.as_ref()) {
                Some(c) => history::nop(&st.shell, &c),
                None => history::nop(&st.shell, &s.original),
            },
        };
        let created_by = step_cmd.join(" ");
        let key = {
            let mut h = Sha256::new();
            h.update(parent.as_bytes());
            h.update(b"\n");
            h.update(format!("{inst:?}").as_bytes());
            h.update(b"\n");
            h.update(extra.as_bytes());
            h.update(b"\n");
            h.update(serde_json::to_vec(&cfg).unwrap_or_default());
            hex::encode(h.finalize())
        };
        if !o.no_cache && !o.cache_from.is_empty() {
            if let Some(id) = self.cache_from_hit(st.image.as_ref(), &created_by, &cfg, o)? {
                let img = self.images.resolve(&id)?;
                self.say(tx, o, " ---> Using cache\n").await;
                self.say(tx, o, &format!(" ---> {}\n", short(&id))).await;
                st.config = img.config.config.clone();
                st.image = Some(img);
                return Ok(());
            }
        }
        if !o.no_cache && o.cache_from.is_empty() {
            if let Some(id) = self.cached(&key) {
                if let Ok(img) = self.images.resolve(&id) {
                    self.say(tx, o, " ---> Using cache\n").await;
                    self.say(tx, o, &format!(" ---> {}\n", short(&id))).await;
                    st.config = img.config.config.clone();
                    st.image = Some(img);
                    return Ok(());
                }
            }
        }
        let id = match action {
            Action::Config => {
                let images = self.images.clone();
                let parent_img = st.image.clone();
                let c = cfg.clone();
                tokio::task::spawn_blocking(move || images.derive(parent_img.as_ref(), c, step_cmd))
                    .await
                    .map_err(|e| Error::internal(e.to_string()))??
            }
            Action::Run(argv) => self.run_step(st, &cfg, argv, step_cmd, o, tx).await?,
            Action::Copy(c) => self.copy_step(st, &cfg, c, step_cmd, o, tx).await?,
        };
        self.meta_put_cache(&key, &id)?;
        self.say(tx, o, &format!(" ---> {}\n", short(&id))).await;
        st.image = Some(self.images.resolve(&id)?);
        st.config = cfg;
        Ok(())
    }

    /// A step found in a `--cache-from` image, as dockerd's legacy cache:
    /// an image whose history and layers start with the parent's, and whose
    /// next history entry was made by the same instruction. Its whole
    /// image when that entry is its last, else an image restored from the
    /// prefix.
    fn cache_from_hit(
        &self,
        parent: Option<&Image>,
        created_by: &str,
        cfg: &ImageRunConfig,
        o: &BuildOptions,
    ) -> Result<Option<String>> {
        let (p_hist, p_diffs) = match parent {
            Some(p) => (&p.config.history[..], &p.config.rootfs.diff_ids[..]),
            None => (&[][..], &[][..]),
        };
        for name in &o.cache_from {
            let Ok(t) = self.images.resolve(name) else {
                continue;
            };
            let h = &t.config.history;
            if h.len() <= p_hist.len()
                || t.config.rootfs.diff_ids.len() < p_diffs.len()
                || h[..p_hist.len()] != *p_hist
                || t.config.rootfs.diff_ids[..p_diffs.len()] != *p_diffs
                || h[p_hist.len()].get("created_by").and_then(|c| c.as_str()) != Some(created_by)
            {
                continue;
            }
            if h.len() == p_hist.len() + 1 {
                return Ok(Some(t.record.id.clone()));
            }
            return self
                .images
                .restore_prefix(&t, p_hist.len() + 1, cfg.clone(), parent)
                .map(Some);
        }
        Ok(None)
    }

    /// Fetches ADD's URLs into a context of their own, each file named as
    /// the URL's last path segment, mode 0600 and the server's
    /// Last-Modified time, as dockerd does; returns it and the files' paths.
    async fn download(
        &self,
        urls: &[String],
        o: &BuildOptions,
        tx: &ProgressTx,
    ) -> Result<(Context, Vec<String>)> {
        let mut dl = Some(Context::empty(self.tmp.clone()));
        let mut names = Vec::new();
        for (i, u) in urls.iter().enumerate() {
            let fail =
                |e: &dyn std::fmt::Display| Error::invalid(format!("failed to GET {u}: {e}"));
            let parsed = url::Url::parse(u).map_err(|e| fail(&e))?;
            let name = parsed
                .path_segments()
                .and_then(|mut s| s.next_back())
                .filter(|n| !n.is_empty() && *n != "." && *n != "..")
                .unwrap_or("__unnamed__")
                .to_string();
            self.say(tx, o, &format!("Downloading {u}\n")).await;
            let (headers, body) = self.http_get(parsed, &fail).await?;
            let mtime = headers
                .get(http::header::LAST_MODIFIED)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
                .map(|t| t.timestamp().max(0) as u64)
                .unwrap_or(0);
            let mut ctx = dl.take().expect("the context is put back");
            let rel = format!("{i}/{name}");
            let path = rel.clone();
            let (ctx, r) = tokio::task::spawn_blocking(move || {
                let mut r = tokio_util::io::SyncIoBridge::new(body);
                let added = ctx.add_file(Path::new(&path), &mut r, 0o600, mtime);
                (ctx, added)
            })
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
            dl = Some(ctx);
            r?;
            names.push(rel);
        }
        Ok((dl.expect("the context is put back"), names))
    }

    /// GETs `url` with the daemon's HTTP client (ADD's sources, remote
    /// contexts): its headers and its body as a reader; a failure or a
    /// status other than success goes through `fail`.
    async fn http_get(
        &self,
        url: url::Url,
        fail: &(dyn Fn(&dyn std::fmt::Display) -> Error + Sync),
    ) -> Result<(
        http::HeaderMap,
        impl tokio::io::AsyncRead + Send + Unpin + 'static,
    )> {
        use futures_util::TryStreamExt;
        let resp = self
            .images
            .registry
            .http()
            .get(url)
            .send()
            .await
            .map_err(|e| fail(&e))?;
        if !resp.status().is_success() {
            return Err(fail(&format!("status {}", resp.status())));
        }
        let headers = resp.headers().clone();
        let body =
            tokio_util::io::StreamReader::new(resp.bytes_stream().map_err(std::io::Error::other));
        Ok((headers, body))
    }

    async fn say(&self, tx: &ProgressTx, o: &BuildOptions, s: &str) {
        o.emit(tx, stream(s)).await;
    }

    fn cached(&self, key: &str) -> Option<String> {
        self.meta()
            .get::<String>(Table::BuildCache, key)
            .ok()
            .flatten()
    }

    fn meta_put_cache(&self, key: &str, id: &str) -> Result<()> {
        self.meta()
            .update_lazy(|tx| tx.put(Table::BuildCache, key, &id.to_string()))
    }

    /// A step's container: the stage's image with `argv`, not started.
    async fn step_container(
        &self,
        st: &StageState,
        cfg: &ImageRunConfig,
        argv: Vec<String>,
        env_extra: Vec<String>,
        host: api_types::HostConfig,
    ) -> Result<String> {
        let image = st
            .image
            .as_ref()
            .ok_or_else(|| Error::invalid("a RUN, COPY or ADD needs a base image (FROM scratch has no files to run or copy into)"))?;
        let mut env = cfg.env.clone();
        for e in env_extra {
            let (k, v) = e.split_once('=').unwrap_or((&e, ""));
            if !env
                .iter()
                .any(|x| x.split_once('=').map(|y| y.0) == Some(k))
            {
                set_env(&mut env, k, v);
            }
        }
        let req = ContainerCreateRequest {
            config: ContainerConfig {
                image: image.record.id.clone(),
                cmd: Some(argv),
                entrypoint: Some(vec![]),
                env,
                working_dir: cfg.working_dir.clone(),
                user: cfg.user.clone(),
                attach_stdout: true,
                attach_stderr: true,
                ..Default::default()
            },
            host_config: host,
            ..Default::default()
        };
        let r = self.containers.create(None, req)?;
        Ok(r.id)
    }

    async fn finish_step(&self, cid: &str, ok: bool, o: &BuildOptions, tx: &ProgressTx) {
        if (ok && o.remove) || (!ok && o.force_remove) {
            self.say(
                tx,
                o,
                &format!("Removing intermediate container {}\n", &cid[..12]),
            )
            .await;
            let _ = self.containers.remove(cid, true, false).await;
        }
    }

    /// Commits a step's container: the image's run config `cfg`, its
    /// history entry and `container_config` from the step's command.
    async fn commit_step(
        &self,
        cid: &str,
        cfg: &ImageRunConfig,
        step_cmd: Vec<String>,
    ) -> Result<String> {
        self.containers
            .commit(
                cid,
                CommitOptions {
                    image_config: Some(cfg.clone()),
                    created_by: step_cmd.join(" "),
                    container_config: Some(ImageRunConfig {
                        cmd: Some(step_cmd),
                        ..cfg.clone()
                    }),
                    ..Default::default()
                },
            )
            .await
    }

    async fn run_step(
        self: &Arc<Self>,
        st: &StageState,
        cfg: &ImageRunConfig,
        argv: Vec<String>,
        step_cmd: Vec<String>,
        o: &BuildOptions,
        tx: &ProgressTx,
    ) -> Result<String> {
        let args: Vec<String> = st
            .args
            .visible()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let cid = self
            .step_container(st, cfg, argv.clone(), args, o.host.clone())
            .await?;
        self.say(tx, o, &format!(" ---> Running in {}\n", &cid[..12]))
            .await;
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        self.containers
            .attach(
                &cid,
                AttachClient {
                    detach_keys: None,
                    io: Box::new(theirs),
                    stdin: false,
                    stdout: true,
                    stderr: true,
                },
                false,
                true,
            )
            .await?;
        let exit = self.containers.wait(&cid, "next-exit")?;
        let relay = {
            let (tx, o) = (tx.clone(), o.clone());
            tokio::spawn(async move {
                let mut r = ours;
                while let Ok(Some((kind, buf))) = crate::shim_client::read_frame(&mut r).await {
                    let text = String::from_utf8_lossy(&buf);
                    // The step's stderr in red, as dockerd's builder sends it.
                    let text = if kind == shim::frame::STDERR {
                        format!("\x1b[91m{text}\x1b[0m")
                    } else {
                        text.into_owned()
                    };
                    o.emit(&tx, stream(text)).await;
                }
            })
        };
        if let Err(e) = self.containers.start(&cid).await {
            relay.abort();
            self.finish_step(&cid, false, o, tx).await;
            return Err(e);
        }
        // A client that goes away cancels the build: the step's process is
        // killed (and its container removed below).
        let code = tokio::select! {
            code = exit => code,
            _ = tx.closed() => {
                let _ = self.containers.kill(&cid, Some("KILL")).await;
                relay.abort();
                self.finish_step(&cid, false, &BuildOptions { force_remove: true, ..o.clone() }, tx).await;
                return Err(Error::invalid("the build was cancelled: the client went away"));
            }
        };
        let _ = relay.await;
        if code != 0 {
            self.finish_step(&cid, false, o, tx).await;
            let shown = match argv.as_slice() {
                [sh, c, rest @ ..] if *sh == st.shell[0] && *c == "-c" => {
                    format!("{sh} -c {}", rest.join(" "))
                }
                _ => format!("{argv:?}"),
            };
            return Err(Error {
                kind: base::ErrorKind::Internal,
                message: format!("The command '{shown}' returned a non-zero code: {code}"),
            });
        }
        let id = self.commit_step(&cid, cfg, step_cmd).await;
        self.finish_step(&cid, id.is_ok(), o, tx).await;
        id
    }

    async fn copy_step(
        self: &Arc<Self>,
        st: &StageState,
        cfg: &ImageRunConfig,
        c: CopyAction,
        step_cmd: Vec<String>,
        o: &BuildOptions,
        tx: &ProgressTx,
    ) -> Result<String> {
        let cid = self
            .step_container(st, cfg, vec!["/bin/sh".into()], vec![], Default::default())
            .await?;
        let put = async {
            let owner = match &c.chown {
                Some(spec) => Some(self.chown_ids(&cid, spec).await?),
                None => None,
            };
            let mut items = c.items;
            // As dockerd: one file copied to an existing directory goes
            // inside it.
            if let [Item::Entry { src, dst }] = items.as_mut_slice() {
                let is_file = c
                    .src
                    .get(src)
                    .is_some_and(|n| !matches!(n.kind, context::Kind::Dir));
                if is_file && !c.dest.ends_with('/') {
                    let lease = self
                        .containers
                        .copy_lease(&cid, false, LeaseView::Rootfs)
                        .await?;
                    let path = dst.clone();
                    let st = tokio::task::spawn_blocking(move || lease.stat(&path))
                        .await
                        .map_err(|e| Error::internal(e.to_string()))?;
                    if st.is_ok_and(|st| st.mode & (1 << 31) != 0) {
                        let name = src
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        *dst = format!("{}/{name}", dst.trim_end_matches('/'));
                    }
                }
            }
            let lease = self
                .containers
                .copy_lease(&cid, true, LeaseView::Rootfs)
                .await?;
            let (src, mode) = (c.src.clone(), c.chmod);
            tokio::task::spawn_blocking(move || -> Result<()> {
                let (mut rd, wr) = std::io::pipe().map_err(|e| Error::io("pipe", e))?;
                let writer =
                    std::thread::spawn(move || copy::write_tar(&src, &items, owner, mode, wr));
                let r = lease.put(
                    "/",
                    &mut rd,
                    PutOptions {
                        copy_uid_gid: true,
                        no_overwrite_dir_non_dir: false,
                    },
                );
                drop(rd);
                let w = writer
                    .join()
                    .map_err(|_| Error::internal("copy writer panicked"))?;
                // The writer's error first: it says why the stream broke.
                w?;
                r
            })
            .await
            .map_err(|e| Error::internal(e.to_string()))?
        };
        if let Err(e) = put.await {
            self.finish_step(&cid, false, o, tx).await;
            let _ = self.containers.remove(&cid, true, false).await;
            return Err(e);
        }
        let id = self.commit_step(&cid, cfg, step_cmd).await;
        // The container never ran: it goes regardless of `rm`.
        let _ = self.containers.remove(&cid, true, false).await;
        id
    }

    /// `--chown user[:group]` as ids: numbers as they are, names looked up
    /// in the container's `/etc/passwd` and `/etc/group`, as dockerd does.
    /// A user alone gives its uid as the gid too.
    async fn chown_ids(&self, cid: &str, spec: &str) -> Result<(u32, u32)> {
        let (user, group) = match spec.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (spec, None),
        };
        let needs_names =
            user.parse::<u32>().is_err() || group.is_some_and(|g| g.parse::<u32>().is_err());
        let (passwd, groups) = if needs_names {
            (
                self.read_container_file(cid, "/etc/passwd").await,
                self.read_container_file(cid, "/etc/group").await,
            )
        } else {
            (None, None)
        };
        let lookup = |file: &Option<String>, name: &str, what: &str| -> Result<u32> {
            if let Ok(n) = name.parse::<u32>() {
                return Ok(n);
            }
            file.as_deref()
                .unwrap_or_default()
                .lines()
                .filter_map(|l| {
                    let f: Vec<&str> = l.split(':').collect();
                    (f.len() > 2 && f[0] == name).then(|| f[2].parse::<u32>().ok())?
                })
                .next()
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "unable to convert uid/gid chown string to host mapping: can't find {what} for {} {name}: no such {}: {name}",
                        if what == "uid" { "user" } else { "group" },
                        if what == "uid" { "user" } else { "group" },
                    ))
                })
        };
        let uid = lookup(&passwd, user, "uid")?;
        let gid = match group {
            Some(g) => lookup(&groups, g, "gid")?,
            None => uid,
        };
        Ok((uid, gid))
    }

    /// A small file of a container's filesystem, if it is there.
    async fn read_container_file(&self, cid: &str, path: &str) -> Option<String> {
        let lease = self
            .containers
            .copy_lease(cid, false, LeaseView::Rootfs)
            .await
            .ok()?;
        let path = path.to_string();
        tokio::task::spawn_blocking(move || {
            let (_, stream) = lease.get(&path).ok()?;
            let mut tar = Vec::new();
            stream.copy_to(&mut tar).ok()?;
            let mut ar = tar::Archive::new(tar.as_slice());
            let mut e = ar.entries().ok()?.next()?.ok()?;
            let mut s = String::new();
            e.read_to_string(&mut s).ok()?;
            Some(s)
        })
        .await
        .ok()?
    }

    /// The image `COPY --from` names: an earlier stage (by name or index) or
    /// an image.
    async fn copy_from_image(&self, from: &str, run: &Run<'_>, current: usize) -> Result<Image> {
        let idx = from.parse::<usize>().ok().or_else(|| {
            run.df.stages[..current]
                .iter()
                .position(|s| s.name() == Some(from.to_ascii_lowercase().as_str()))
        });
        match idx {
            Some(i) => {
                if i >= current || !run.stages.needed[i] {
                    return Err(Error::invalid(format!(
                        "invalid from flag value {from}: refers to a stage not built before it"
                    )));
                }
                self.images.resolve(&run.stages.get(i).await?)
            }
            None => self.images.resolve(from).map_err(|_| {
                Error::not_found(format!(
                    "invalid from flag value {from}: pull access denied for {from}, repository does not exist or may require 'docker login'"
                ))
            }),
        }
    }

    /// Unpacks `sources` of `image` (through a created container and
    /// `berth-shim archive-get`, chrooted into its rootfs) into a
    /// temporary directory; returns it and the sources' paths in it.
    async fn fetch_from(
        &self,
        image: &Image,
        sources: &[String],
    ) -> Result<(Context, Vec<String>)> {
        let req = ContainerCreateRequest {
            config: ContainerConfig {
                image: image.record.id.clone(),
                cmd: Some(vec!["true".into()]),
                entrypoint: Some(vec![]),
                ..Default::default()
            },
            ..Default::default()
        };
        let cid = self.containers.create(None, req)?.id;
        let mut fetched = Some(Context::empty(self.tmp.clone()));
        let mut local = Vec::new();
        let r = async {
            for (i, s) in sources.iter().enumerate() {
                // A wildcard source: its directory is fetched and the
                // pattern matched in it.
                let abs = if s.starts_with('/') {
                    s.clone()
                } else {
                    format!("/{s}")
                };
                let comps: Vec<&str> = abs.split('/').filter(|c| !c.is_empty()).collect();
                let lit = comps
                    .iter()
                    .position(|c| builder::glob::has_wildcards(c))
                    .unwrap_or(comps.len());
                let path = format!("/{}", comps[..lit].join("/"));
                let rest = comps[lit..].join("/");
                let lease = self
                    .containers
                    .copy_lease(&cid, false, LeaseView::Rootfs)
                    .await?;
                let mut ctx = fetched.take().expect("the context is put back");
                let (ctx, name) = tokio::task::spawn_blocking(move || {
                    let r = (|| -> Result<String> {
                        let (st, stream) = lease.get(&path)?;
                        let (mut rd, wr) = std::io::pipe().map_err(|e| Error::io("pipe", e))?;
                        let w = std::thread::spawn(move || stream.copy_to(wr));
                        let added = ctx.add_tar(&mut rd, std::path::Path::new(&i.to_string()));
                        // The tar reader stops at the end marker: the rest
                        // (padding) is read so the writer finishes.
                        let _ = std::io::copy(&mut rd, &mut std::io::sink());
                        drop(rd);
                        w.join()
                            .map_err(|_| Error::internal("copy reader panicked"))??;
                        added?;
                        Ok(st.name)
                    })();
                    (ctx, r)
                })
                .await
                .map_err(|e| Error::internal(e.to_string()))?;
                fetched = Some(ctx);
                let name = name.map_err(|e| match e.kind {
                    base::ErrorKind::NotFound => {
                        Error::invalid(format!("COPY failed: stat {s}: file does not exist"))
                    }
                    _ => e,
                })?;
                let name = name.trim_matches('/');
                local.push(
                    [i.to_string().as_str(), name, rest.as_str()]
                        .iter()
                        .filter(|p| !p.is_empty())
                        .copied()
                        .collect::<Vec<_>>()
                        .join("/"),
                );
            }
            Ok::<(), Error>(())
        }
        .await;
        let _ = self.containers.remove(&cid, true, false).await;
        r?;
        Ok((fetched.expect("the context is put back"), local))
    }

    fn meta(&self) -> &store::metadata::Metadata {
        &self.meta
    }
}

/// A CMD/ENTRYPOINT/RUN as argv: exec form as is, shell form through SHELL.
fn command(c: &CommandLine, shell: &[String]) -> Vec<String> {
    match c {
        CommandLine::Exec(v) => v.clone(),
        CommandLine::Shell(s) => shell
            .iter()
            .cloned()
            .chain(std::iter::once(s.clone()))
            .collect(),
    }
}

/// Turns an error into the stream's last line.
pub fn error_line(e: &Error) -> Bytes {
    let mut detail = json!({"message": e.message});
    if let Some(code) = e
        .message
        .rsplit_once("returned a non-zero code: ")
        .and_then(|(_, c)| c.parse::<i64>().ok())
    {
        detail["code"] = Value::from(code);
    }
    Bytes::from(format!(
        "{}\r\n",
        json!({"errorDetail": detail, "error": e.message})
    ))
}
