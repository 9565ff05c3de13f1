//! Health checks (`HEALTHCHECK` and `--health-*`): run by the daemon as
//! execs in the container, every `interval` (every `start-interval` during
//! the start period until the first success), each cut off after
//! `timeout`. Results go to `State.Health` (status, failing streak, the
//! last five results), `ps` shows `(healthy)`, `(unhealthy)` or
//! `(health: starting)`, and each change of status is a `health_status`
//! event. A check runs while its container runs, and again after a daemon
//! restart for the containers still running.

use super::{AttachClient, ContainerService, Handle};
use api_types::{ExecConfig, HealthConfig, HealthcheckResult};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
const DEFAULT_RETRIES: i64 = 3;
/// As dockerd: the output kept per result.
const MAX_OUTPUT: usize = 4096;
const KEEP_RESULTS: usize = 5;

fn dur(ns: i64, default: Duration) -> Duration {
    if ns > 0 {
        Duration::from_nanos(ns as u64)
    } else {
        default
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// The container's health check, if it has one that is not disabled.
pub(super) fn config_of(
    extra: &serde_json::Map<String, serde_json::Value>,
) -> Option<HealthConfig> {
    let h: HealthConfig = serde_json::from_value(extra.get("Healthcheck")?.clone()).ok()?;
    match h.test.first().map(String::as_str) {
        Some("CMD") | Some("CMD-SHELL") => Some(h),
        _ => None,
    }
}

/// The health state a container shows: its own, when it has a check.
pub(super) fn shown(r: &super::ContainerRecord) -> Option<&api_types::Health> {
    config_of(&r.config.extra).and(r.health.as_ref())
}

/// The status and a failing streak after one result, as dockerd counts:
/// a failure in the start period, before any success, does not count.
pub fn next_status(
    status: &str,
    streak: i64,
    ok: bool,
    in_start_period: bool,
    retries: i64,
) -> (String, i64) {
    if ok {
        return ("healthy".into(), 0);
    }
    if in_start_period && status == "starting" {
        return (status.into(), streak);
    }
    let streak = streak + 1;
    if streak >= retries {
        ("unhealthy".into(), streak)
    } else {
        (status.into(), streak)
    }
}

impl ContainerService {
    /// Starts the health check loop of a running container (at start, and
    /// for running containers when the daemon starts again).
    pub(super) fn start_health(self: &Arc<Self>, h: Arc<Handle>, fresh: bool) {
        let Some(cfg) = config_of(&h.rec.lock().unwrap().config.extra) else {
            return;
        };
        let svc = self.clone();
        let generation = h.life.borrow().exits;
        {
            let mut rec = h.rec.lock().unwrap();
            if fresh || rec.health.is_none() {
                rec.health = Some(api_types::Health {
                    status: "starting".into(),
                    ..Default::default()
                });
            }
        }
        tokio::spawn(async move {
            let began = Instant::now();
            let interval = dur(cfg.interval, DEFAULT_INTERVAL);
            let timeout = dur(cfg.timeout, DEFAULT_TIMEOUT);
            let start_period = dur(cfg.start_period, Duration::ZERO);
            let start_interval = dur(cfg.start_interval, DEFAULT_START_INTERVAL);
            let retries = if cfg.retries > 0 {
                cfg.retries
            } else {
                DEFAULT_RETRIES
            };
            let shell = {
                let rec = h.rec.lock().unwrap();
                rec.config
                    .extra
                    .get("Shell")
                    .and_then(|s| serde_json::from_value::<Vec<String>>(s.clone()).ok())
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
            };
            let argv: Vec<String> = match cfg.test[0].as_str() {
                "CMD-SHELL" => shell.into_iter().chain(cfg.test.get(1).cloned()).collect(),
                _ => cfg.test[1..].to_vec(),
            };
            let mut life = h.life.subscribe();
            loop {
                let in_start = began.elapsed() < start_period;
                let starting = h
                    .rec
                    .lock()
                    .unwrap()
                    .health
                    .as_ref()
                    .is_some_and(|x| x.status == "starting");
                let wait = if in_start && starting {
                    start_interval
                } else {
                    interval
                };
                let gone = |l: &super::Life| !l.running || l.removed || l.exits != generation;
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = life.wait_for(gone) => return,
                }
                if gone(&h.life.borrow()) {
                    return;
                }
                // No result (a paused container refuses execs): next round.
                let Some(result) = svc.probe(&h, argv.clone(), timeout).await else {
                    continue;
                };
                let in_start = began.elapsed() < start_period;
                let changed = {
                    let mut rec = h.rec.lock().unwrap();
                    let health = rec.health.get_or_insert_with(Default::default);
                    let (status, streak) = next_status(
                        &health.status,
                        health.failing_streak,
                        result.exit_code == 0,
                        in_start,
                        retries,
                    );
                    let changed = (health.status != status).then(|| status.clone());
                    health.status = status;
                    health.failing_streak = streak;
                    health.log.push(result);
                    if health.log.len() > KEEP_RESULTS {
                        let n = health.log.len() - KEEP_RESULTS;
                        health.log.drain(..n);
                    }
                    let _ = svc.save_state(&rec);
                    changed.map(|s| (rec.clone(), s))
                };
                if let Some((rec, status)) = changed {
                    svc.event(&rec, &format!("health_status: {status}"), &[]);
                }
            }
        });
    }

    /// Runs one check as an exec; None when no exec could be made.
    async fn probe(
        &self,
        h: &Handle,
        argv: Vec<String>,
        timeout: Duration,
    ) -> Option<HealthcheckResult> {
        let id = h.id();
        let start = now();
        let exec = self
            .exec_create(
                &id,
                ExecConfig {
                    attach_stdout: true,
                    attach_stderr: true,
                    cmd: Some(argv),
                    ..Default::default()
                },
            )
            .ok()?;
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let client = AttachClient {
            detach_keys: None,
            io: Box::new(theirs),
            stdin: false,
            stdout: true,
            stderr: true,
        };
        let collect = tokio::spawn(async move {
            let mut r = ours;
            let mut out = Vec::new();
            while let Ok(Some((_, buf))) = crate::shim_client::read_frame(&mut r).await {
                if out.len() < MAX_OUTPUT {
                    out.extend_from_slice(&buf[..buf.len().min(MAX_OUTPUT - out.len())]);
                }
            }
            out
        });
        let ran = tokio::time::timeout(timeout, self.exec_start(&exec, Some(client), None)).await;
        let (exit_code, output) = match ran {
            Ok(r) => {
                let code = self
                    .exec_exit_code(&exec)
                    .unwrap_or(if r.is_ok() { -1 } else { 126 });
                let out = collect.await.unwrap_or_default();
                (code, String::from_utf8_lossy(&out).into_owned())
            }
            Err(_) => {
                self.exec_kill(&exec);
                collect.abort();
                (
                    -1,
                    format!(
                        "Health check exceeded timeout ({})",
                        crate::build::go_duration(timeout.as_nanos() as i64)
                    ),
                )
            }
        };
        self.exec_forget(&exec);
        Some(HealthcheckResult {
            start,
            end: now(),
            exit_code,
            output,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_as_dockerd() {
        assert_eq!(
            next_status("starting", 0, true, true, 3),
            ("healthy".into(), 0)
        );
        // Failures in the start period do not count until healthy.
        assert_eq!(
            next_status("starting", 0, false, true, 3),
            ("starting".into(), 0)
        );
        assert_eq!(
            next_status("starting", 0, false, false, 3),
            ("starting".into(), 1)
        );
        assert_eq!(
            next_status("starting", 2, false, false, 3),
            ("unhealthy".into(), 3)
        );
        assert_eq!(
            next_status("healthy", 0, false, true, 1),
            ("unhealthy".into(), 1)
        );
        assert_eq!(
            next_status("unhealthy", 5, true, false, 3),
            ("healthy".into(), 0)
        );
    }
}
