//! Restart policies (`--restart no|always|unless-stopped|on-failure[:N]`):
//! one supervisor for every container. When a container's process exits
//! the monitor asks [`ContainerService::after_exit`], which decides as
//! dockerd does and starts the container again after dockerd's back-off
//! (100 ms, doubling, back to 100 ms after a run of 10 s, at most a
//! minute). A `docker stop`, `kill`, `rm` or `start` meanwhile cancels the
//! pending restart; `stop` and `kill` also mark the container manually
//! stopped, which `unless-stopped` honours across daemon restarts. When the
//! daemon starts, containers whose policy wants them running are started.

use super::{ContainerRecord, ContainerService, Handle};
use api_types::HostConfig;
use base::{Error, Result};
use std::sync::Arc;
use std::time::Duration;

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(60);
/// A run at least this long resets the back-off.
const RESET_AFTER: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    No,
    Always,
    UnlessStopped,
    OnFailure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub kind: Kind,
    /// `on-failure:N`; 0 means no limit.
    pub max_retries: i64,
}

/// The restart policy of a host config, validated with dockerd's messages.
pub fn policy(h: &HostConfig) -> Result<Policy> {
    let v = h.restart_policy.clone().unwrap_or_default();
    let name = v.get("Name").and_then(|n| n.as_str()).unwrap_or("");
    let max = v
        .get("MaximumRetryCount")
        .and_then(|n| n.as_i64())
        .unwrap_or(0);
    let kind = match name {
        "" | "no" => Kind::No,
        "always" => Kind::Always,
        "unless-stopped" => Kind::UnlessStopped,
        "on-failure" => Kind::OnFailure,
        other => {
            return Err(Error::invalid(format!(
                "invalid restart policy: unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
            )))
        }
    };
    if max < 0 {
        return Err(Error::invalid(
            "invalid restart policy: maximum retry count must be a positive integer",
        ));
    }
    if max > 0 && kind != Kind::OnFailure {
        return Err(Error::invalid(
            "invalid restart policy: maximum retry count can only be used with 'on-failure'",
        ));
    }
    if h.auto_remove && kind != Kind::No {
        return Err(Error::invalid(
            "can't create 'AutoRemove' container with restart policy",
        ));
    }
    Ok(Policy {
        kind,
        max_retries: max,
    })
}

impl Policy {
    /// Whether a container that exited with `code` is started again. As
    /// dockerd: `always` brings back even a manually stopped container
    /// when the daemon starts, `unless-stopped` does not.
    pub fn wants_restart(
        &self,
        code: i64,
        restarts: i64,
        manually_stopped: bool,
        daemon_start: bool,
    ) -> bool {
        match self.kind {
            Kind::No => false,
            Kind::Always => daemon_start || !manually_stopped,
            Kind::UnlessStopped => !manually_stopped,
            Kind::OnFailure => {
                !manually_stopped
                    && code != 0
                    && (self.max_retries == 0 || restarts < self.max_retries)
            }
        }
    }
}

/// The back-off before the next restart, given how long the last run took.
pub fn next_delay(last: Option<Duration>, ran: Duration) -> Duration {
    match last {
        _ if ran >= RESET_AFTER => FIRST_DELAY,
        None => FIRST_DELAY,
        Some(d) => (d * 2).min(MAX_DELAY),
    }
}

fn ran_for(rec: &ContainerRecord) -> Duration {
    let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    match (t(&rec.state.started_at), t(&rec.state.finished_at)) {
        (Some(a), Some(b)) if b > a => (b - a).to_std().unwrap_or_default(),
        _ => Duration::ZERO,
    }
}

impl ContainerService {
    /// After a container's process exited (or a policy start failed):
    /// restarts it if its policy says so, after the back-off.
    pub(super) fn after_exit(self: &Arc<Self>, h: Arc<Handle>, daemon_start: bool) {
        let svc = self.clone();
        let mut daemon_start = daemon_start;
        tokio::spawn(async move {
            loop {
                let (id, delay, gen) = {
                    let mut rec = h.rec.lock().unwrap();
                    let Ok(p) = policy(&rec.host_config) else {
                        return;
                    };
                    if !matches!(rec.state.status.as_str(), "exited" | "restarting")
                        || !p.wants_restart(
                            rec.state.exit_code,
                            rec.restart_count,
                            rec.manually_stopped,
                            daemon_start,
                        )
                    {
                        return;
                    }
                    let mut r = h.restart.lock().unwrap();
                    let delay = next_delay(r.delay, ran_for(&rec));
                    r.delay = Some(delay);
                    rec.state.status = "restarting".into();
                    let _ = svc.save_state(&rec);
                    (rec.id.clone(), delay, r.gen)
                };
                tokio::time::sleep(delay).await;
                {
                    let r = h.restart.lock().unwrap();
                    if r.gen != gen || h.life.borrow().removed {
                        return;
                    }
                }
                {
                    let mut rec = h.rec.lock().unwrap();
                    rec.restart_count += 1;
                }
                // Later decisions (after a failed start) are ordinary ones.
                daemon_start = false;
                match svc.start_by_policy(&h).await {
                    // The monitor calls again at the next exit.
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(container = %id, error = %e, "restart failed");
                        let mut rec = h.rec.lock().unwrap();
                        if rec.state.status == "restarting" {
                            rec.state.status = "exited".into();
                        }
                        let _ = svc.save_state(&rec);
                    }
                }
            }
        });
    }

    /// A start by the restart policy: under the op lock, not resetting the
    /// restart count.
    async fn start_by_policy(self: &Arc<Self>, h: &Arc<Handle>) -> Result<()> {
        let _op = h.op.lock().await;
        if h.running() || h.life.borrow().removed {
            return Ok(());
        }
        // The status stays "restarting" until the start succeeds (then
        // "running") or fails (then "exited", by the caller).
        let id = h.id();
        self.start_unlocked(h, &id).await
    }

    /// Cancels a pending restart; `manual` marks the container stopped by
    /// the user (`stop`, `kill`), which `unless-stopped` and `always` honour.
    pub(super) fn cancel_restart(&self, h: &Handle, manual: Option<bool>) {
        h.restart.lock().unwrap().gen += 1;
        let mut rec = h.rec.lock().unwrap();
        let mut changed = false;
        if rec.state.status == "restarting" {
            rec.state.status = "exited".into();
            changed = true;
        }
        if let Some(m) = manual {
            if rec.manually_stopped != m {
                rec.manually_stopped = m;
                changed = true;
            }
        }
        if changed {
            let _ = self.save(&rec);
        }
    }

    /// At daemon start: starts the containers whose policy wants them
    /// running (a run that ended while the daemon was away included).
    pub(super) fn start_by_policies(self: &Arc<Self>) {
        let handles: Vec<Arc<Handle>> = self.by_id.read().unwrap().values().cloned().collect();
        for h in handles {
            if h.running() {
                continue;
            }
            {
                let mut rec = h.rec.lock().unwrap();
                if rec.state.status == "restarting" {
                    rec.state.status = "exited".into();
                }
                if rec.state.status != "exited" {
                    continue;
                }
            }
            self.after_exit(h, true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hc(name: &str, max: i64) -> HostConfig {
        HostConfig {
            restart_policy: Some(serde_json::json!({"Name": name, "MaximumRetryCount": max})),
            ..Default::default()
        }
    }

    #[test]
    fn policies_as_dockerd() {
        assert_eq!(policy(&HostConfig::default()).unwrap().kind, Kind::No);
        let p = policy(&hc("on-failure", 2)).unwrap();
        assert!(p.wants_restart(1, 0, false, false));
        assert!(p.wants_restart(1, 1, false, false));
        assert!(!p.wants_restart(1, 2, false, false));
        assert!(!p.wants_restart(0, 0, false, false));
        let a = policy(&hc("always", 0)).unwrap();
        assert!(a.wants_restart(0, 100, false, false));
        assert!(!a.wants_restart(0, 0, true, false));
        assert!(a.wants_restart(0, 0, true, true));
        let u = policy(&hc("unless-stopped", 0)).unwrap();
        assert!(!u.wants_restart(0, 0, true, true));
        assert!(policy(&hc("sometimes", 0))
            .unwrap_err()
            .message
            .contains("unknown policy 'sometimes'"));
        assert!(policy(&hc("always", 3))
            .unwrap_err()
            .message
            .contains("only be used with 'on-failure'"));
        assert!(policy(&hc("on-failure", -1)).is_err());
        let mut rm = hc("always", 0);
        rm.auto_remove = true;
        assert!(policy(&rm).is_err());
    }

    #[test]
    fn back_off_doubles_and_resets() {
        let short = Duration::from_millis(5);
        let d1 = next_delay(None, short);
        assert_eq!(d1, Duration::from_millis(100));
        let d2 = next_delay(Some(d1), short);
        assert_eq!(d2, Duration::from_millis(200));
        assert_eq!(next_delay(Some(d2), Duration::from_secs(11)), d1);
        assert_eq!(next_delay(Some(Duration::from_secs(50)), short), MAX_DELAY);
    }
}
