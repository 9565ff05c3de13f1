//! `docker stats`: one sample of a container's cgroup counters in the
//! Engine API's shape, from cgroup v1 controllers or the v2 hierarchy,
//! whichever holds the container.

use super::ContainerService;
use base::{Error, Result};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

fn read(p: &Path) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
}

fn read_u64(p: &Path) -> Option<u64> {
    read(p).and_then(|s| s.parse().ok())
}

/// `key value` lines (memory.stat, cpu.stat, cpuacct.stat).
fn read_kv(p: &Path) -> Map<String, Value> {
    let mut m = Map::new();
    for line in read(p).unwrap_or_default().lines() {
        if let Some((k, v)) = line.split_once(' ') {
            if let Ok(n) = v.trim().parse::<u64>() {
                m.insert(k.to_string(), json!(n));
            }
        }
    }
    m
}

fn num(m: &Map<String, Value>, k: &str) -> u64 {
    m.get(k).and_then(Value::as_u64).unwrap_or(0)
}

/// The host's CPU time (all CPUs, nanoseconds), as Docker's
/// `system_cpu_usage`: /proc/stat's first line in clock ticks of 10 ms.
fn system_cpu_usage() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: u64 = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    // USER_HZ is 100 on Linux.
    ticks * 10_000_000
}

fn online_cpus() -> u64 {
    std::thread::available_parallelism()
        .map(|n| n.get() as u64)
        .unwrap_or(1)
}

/// Where the container's cgroup lives (also for `docker update`).
pub(super) enum Cgroup {
    V1(String),
    V2(PathBuf),
}

pub(super) fn locate(cgroups_path: &str) -> Option<Cgroup> {
    let rel = cgroups_path.trim_start_matches('/');
    if Path::new("/sys/fs/cgroup/memory").join(rel).is_dir()
        || Path::new("/sys/fs/cgroup/cpuacct").join(rel).is_dir()
    {
        return Some(Cgroup::V1(rel.to_string()));
    }
    for base in ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] {
        let p = Path::new(base).join(rel);
        if p.join("cgroup.procs").exists() && p.join("cpu.stat").exists() {
            return Some(Cgroup::V2(p));
        }
    }
    None
}

/// cpu_stats, memory_stats and pids_stats of one sample.
fn sample(cg: &Cgroup) -> (Value, Value, Value) {
    let throttling = |m: &Map<String, Value>| {
        json!({
            "periods": num(m, "nr_periods"),
            "throttled_periods": num(m, "nr_throttled"),
            "throttled_time": num(m, "throttled_time") + num(m, "throttled_usec") * 1000,
        })
    };
    match cg {
        Cgroup::V1(rel) => {
            let c = |ctl: &str, f: &str| Path::new("/sys/fs/cgroup").join(ctl).join(rel).join(f);
            let percpu: Vec<u64> = read(&c("cpuacct", "cpuacct.usage_percpu"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect();
            let ticks = read_kv(&c("cpuacct", "cpuacct.stat"));
            let cpu = json!({
                "cpu_usage": {
                    "total_usage": read_u64(&c("cpuacct", "cpuacct.usage")).unwrap_or(0),
                    "percpu_usage": percpu,
                    "usage_in_kernelmode": num(&ticks, "system") * 10_000_000,
                    "usage_in_usermode": num(&ticks, "user") * 10_000_000,
                },
                "system_cpu_usage": system_cpu_usage(),
                "online_cpus": online_cpus(),
                "throttling_data": throttling(&read_kv(&c("cpu", "cpu.stat"))),
            });
            let memory = json!({
                "usage": read_u64(&c("memory", "memory.usage_in_bytes")).unwrap_or(0),
                "max_usage": read_u64(&c("memory", "memory.max_usage_in_bytes")).unwrap_or(0),
                "stats": Value::Object(read_kv(&c("memory", "memory.stat"))),
                "limit": read_u64(&c("memory", "memory.limit_in_bytes")).unwrap_or(0),
            });
            let pids = json!({
                "current": read_u64(&c("pids", "pids.current")).unwrap_or(0),
                "limit": read_u64(&c("pids", "pids.max")).unwrap_or(0),
            });
            (cpu, memory, pids)
        }
        Cgroup::V2(dir) => {
            let s = read_kv(&dir.join("cpu.stat"));
            let cpu = json!({
                "cpu_usage": {
                    "total_usage": num(&s, "usage_usec") * 1000,
                    "usage_in_kernelmode": num(&s, "system_usec") * 1000,
                    "usage_in_usermode": num(&s, "user_usec") * 1000,
                },
                "system_cpu_usage": system_cpu_usage(),
                "online_cpus": online_cpus(),
                "throttling_data": throttling(&s),
            });
            // "max" means no limit: Docker reports the host's memory then.
            let limit = read_u64(&dir.join("memory.max")).unwrap_or_else(host_memory);
            let memory = json!({
                "usage": read_u64(&dir.join("memory.current")).unwrap_or(0),
                "stats": Value::Object(read_kv(&dir.join("memory.stat"))),
                "limit": limit,
            });
            let pids = json!({
                "current": read_u64(&dir.join("pids.current")).unwrap_or(0),
                "limit": read_u64(&dir.join("pids.max")).unwrap_or(0),
            });
            (cpu, memory, pids)
        }
    }
}

fn host_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// A stats object with every counter zero, as Docker sends for a container
/// that is not running.
fn zero_cpu() -> Value {
    json!({"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
           "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}})
}

impl ContainerService {
    /// One `GET /containers/{id}/stats` object. `pre` is the previous
    /// sample's `(read, cpu_stats)`, shown as `preread`/`precpu_stats`.
    /// Blocking (reads cgroup files).
    pub fn stats_sample(&self, name: &str, pre: Option<(String, Value)>) -> Result<Value> {
        let h = self.find(name)?;
        let (id, cname, pid, host_net) = {
            let r = h.rec.lock().unwrap();
            (
                r.id.clone(),
                r.name.clone(),
                r.state.pid,
                r.host_config.network_mode == "host",
            )
        };
        let cgroups_path = self.cgroups_path_of(&h);
        let (preread, precpu) = pre.unwrap_or_else(|| ("0001-01-01T00:00:00Z".into(), zero_cpu()));
        let (cpu, memory, pids) = match locate(&cgroups_path).filter(|_| h.running()) {
            Some(cg) => sample(&cg),
            None => (zero_cpu(), json!({}), json!({})),
        };
        // The container's interfaces, seen through its init's /proc (the
        // host's are not the container's: none with `--network host`).
        let networks = (h.running() && pid > 0 && !host_net)
            .then(|| std::fs::read_to_string(format!("/proc/{pid}/net/dev")).ok())
            .flatten()
            .map(|t| net_dev(&t))
            .filter(|n| !n.is_empty());
        let mut out = json!({
            "name": format!("/{cname}"),
            "id": id,
            "read": now(),
            "preread": preread,
            "pids_stats": pids,
            "blkio_stats": {
                "io_service_bytes_recursive": null, "io_serviced_recursive": null,
                "io_queue_recursive": null, "io_service_time_recursive": null,
                "io_wait_time_recursive": null, "io_merged_recursive": null,
                "io_time_recursive": null, "sectors_recursive": null,
            },
            "num_procs": 0,
            "storage_stats": {},
            "cpu_stats": cpu,
            "precpu_stats": precpu,
            "memory_stats": memory,
        });
        if let Some(n) = networks {
            out["networks"] =
                serde_json::to_value(n).map_err(|e| Error::internal(e.to_string()))?;
        }
        Ok(out)
    }

    /// Whether the container runs (a stats stream ends when it stops).
    pub fn is_running(&self, name: &str) -> Result<bool> {
        Ok(self.find(name)?.running())
    }
}

/// `/proc/<pid>/net/dev`'s interfaces but loopback, as dockerd reports them.
fn net_dev(text: &str) -> std::collections::BTreeMap<String, api_types::ContainerNetworkStats> {
    let mut out = std::collections::BTreeMap::new();
    for line in text.lines().skip(2) {
        let Some((name, counters)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        let n: Vec<u64> = counters
            .split_whitespace()
            .map(|v| v.parse().unwrap_or(0))
            .collect();
        if name == "lo" || n.len() < 16 {
            continue;
        }
        out.insert(
            name.to_string(),
            api_types::ContainerNetworkStats {
                rx_bytes: n[0],
                rx_packets: n[1],
                rx_errors: n[2],
                rx_dropped: n[3],
                tx_bytes: n[8],
                tx_packets: n[9],
                tx_errors: n[10],
                tx_dropped: n[11],
            },
        );
    }
    out
}

/// Splits a sample into what the next one shows as `preread`/`precpu_stats`.
pub fn as_previous(sample: &Value) -> Result<(String, Value)> {
    Ok((
        sample["read"]
            .as_str()
            .ok_or_else(|| Error::internal("stats sample without a read time"))?
            .to_string(),
        sample["cpu_stats"].clone(),
    ))
}

#[cfg(test)]
mod net_tests {
    #[test]
    fn interfaces_but_loopback() {
        let text = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0
  eth0:    5338      36    1    2    0     0          0         0      648       8    3    4    0     0       0          0
";
        let n = super::net_dev(text);
        assert_eq!(n.len(), 1);
        let e = &n["eth0"];
        assert_eq!(
            (e.rx_bytes, e.rx_packets, e.rx_errors, e.rx_dropped),
            (5338, 36, 1, 2)
        );
        assert_eq!(
            (e.tx_bytes, e.tx_packets, e.tx_errors, e.tx_dropped),
            (648, 8, 3, 4)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_value_files_and_host_counters() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("memory.stat");
        std::fs::write(
            &p,
            "cache 4096\nrss 8192\ntotal_inactive_file 100\nbogus x\n",
        )
        .unwrap();
        let m = read_kv(&p);
        assert_eq!(num(&m, "rss"), 8192);
        assert_eq!(num(&m, "total_inactive_file"), 100);
        assert!(!m.contains_key("bogus"));
        assert!(system_cpu_usage() > 0);
        assert!(online_cpus() >= 1);
        assert!(host_memory() > 0);
    }
}
