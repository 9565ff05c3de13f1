//! Request counters and durations in the Prometheus text format.

use http::{Method, StatusCode};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Counters served at `/metrics`.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), (u64, f64)>>,
    received: Arc<AtomicU64>,
    sent: AtomicU64,
}

impl Metrics {
    /// Counts one finished request.
    pub fn observe(&self, method: &Method, status: StatusCode, took: Duration) {
        let mut m = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let e = m.entry((method.to_string(), status.as_u16())).or_default();
        e.0 += 1;
        e.1 += took.as_secs_f64();
    }

    /// The counter of body bytes received.
    pub fn received_counter(&self) -> Arc<AtomicU64> {
        self.received.clone()
    }

    /// Counts blob bytes sent.
    pub fn add_sent(&self, n: u64) {
        self.sent.fetch_add(n, Ordering::Relaxed);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let m = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        out.push_str("# TYPE berth_registry_requests_total counter\n");
        for ((method, status), (n, _)) in m.iter() {
            let _ = writeln!(
                out,
                "berth_registry_requests_total{{method=\"{method}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# TYPE berth_registry_request_duration_seconds_sum counter\n");
        for ((method, status), (_, secs)) in m.iter() {
            let _ = writeln!(
                out,
                "berth_registry_request_duration_seconds_sum{{method=\"{method}\",status=\"{status}\"}} {secs:.6}"
            );
        }
        let _ = writeln!(
            out,
            "# TYPE berth_registry_bytes_received_total counter\nberth_registry_bytes_received_total {}",
            self.received.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# TYPE berth_registry_bytes_sent_total counter\nberth_registry_bytes_sent_total {}",
            self.sent.load(Ordering::Relaxed)
        );
        out
    }
}
