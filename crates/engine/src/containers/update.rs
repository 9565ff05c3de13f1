//! `docker update` (`POST /containers/{id}/update`): memory, swap,
//! reservation, CPU shares, quota and period (or `--cpus`), cpusets, the
//! pids limit, the blkio weight and the restart policy. The record takes the new values (a
//! stopped container starts with them); a running one gets them written to
//! its cgroup, v1 or v2. What update cannot change is refused by name, as
//! at create.

use super::stats::{locate, Cgroup};
use super::{options, restart, ContainerService};
use api_types::HostConfig;
use base::{Error, Result};
use serde_json::Value;
use std::path::Path;

/// What one update changes, read from the body.
#[derive(Debug, Default, Clone)]
struct Change {
    memory: Option<i64>,
    memory_swap: Option<i64>,
    memory_reservation: Option<i64>,
    cpu_shares: Option<i64>,
    cpu_period: Option<i64>,
    cpu_quota: Option<i64>,
    nano_cpus: Option<i64>,
    cpuset_cpus: Option<String>,
    cpuset_mems: Option<String>,
    pids_limit: Option<i64>,
    blkio_weight: Option<i64>,
    restart_policy: Option<Value>,
}

fn int(b: &Value, k: &str) -> Option<i64> {
    b.get(k).and_then(|v| v.as_i64()).filter(|v| *v != 0)
}

fn text(b: &Value, k: &str) -> Option<String> {
    b.get(k)
        .and_then(|v| v.as_str())
        .filter(|v| !v.is_empty())
        .map(String::from)
}

impl Change {
    fn of(b: &Value) -> Change {
        Change {
            memory: int(b, "Memory"),
            memory_swap: int(b, "MemorySwap"),
            memory_reservation: int(b, "MemoryReservation"),
            cpu_shares: int(b, "CpuShares"),
            cpu_period: int(b, "CpuPeriod"),
            cpu_quota: int(b, "CpuQuota"),
            nano_cpus: int(b, "NanoCpus"),
            cpuset_cpus: text(b, "CpusetCpus"),
            cpuset_mems: text(b, "CpusetMems"),
            pids_limit: int(b, "PidsLimit"),
            blkio_weight: int(b, "BlkioWeight"),
            restart_policy: b
                .get("RestartPolicy")
                .filter(|p| {
                    p.get("Name")
                        .and_then(|n| n.as_str())
                        .is_some_and(|n| !n.is_empty())
                })
                .cloned(),
        }
    }

    /// The host config with the change made.
    fn apply_to(&self, h: &HostConfig) -> HostConfig {
        let mut n = h.clone();
        if let Some(m) = self.memory {
            n.memory = m;
        }
        if let Some(s) = self.memory_swap {
            n.memory_swap = s;
        }
        if let Some(r) = self.memory_reservation {
            n.memory_reservation = r;
        }
        if let Some(s) = self.cpu_shares {
            n.cpu_shares = s;
        }
        if let Some(c) = self.nano_cpus {
            n.nano_cpus = c;
            n.cpu_period = 0;
            n.cpu_quota = 0;
        }
        if let Some(p) = self.cpu_period {
            n.cpu_period = p;
            n.nano_cpus = 0;
        }
        if let Some(q) = self.cpu_quota {
            n.cpu_quota = q;
            n.nano_cpus = 0;
        }
        if let Some(c) = &self.cpuset_cpus {
            n.extra.insert("CpusetCpus".into(), Value::from(c.clone()));
        }
        if let Some(m) = &self.cpuset_mems {
            n.extra.insert("CpusetMems".into(), Value::from(m.clone()));
        }
        if let Some(p) = self.pids_limit {
            n.pids_limit = Some(p);
        }
        if let Some(w) = self.blkio_weight {
            n.extra.insert("BlkioWeight".into(), Value::from(w));
        }
        if let Some(r) = &self.restart_policy {
            n.restart_policy = Some(r.clone());
        }
        n
    }
}

/// A cgroup file of the container: (v1 controller, v1 file, v2 file).
fn write(cg: &Cgroup, v1: (&str, &str), v2: &str, value: &str) -> Result<()> {
    let path = match cg {
        Cgroup::V1(rel) => Path::new("/sys/fs/cgroup").join(v1.0).join(rel).join(v1.1),
        Cgroup::V2(dir) => dir.join(v2),
    };
    std::fs::write(&path, value)
        .map_err(|e| Error::internal(format!("updating {}: {e}", path.display())))
}

/// Writes the new limits into a running container's cgroup.
fn write_cgroup(cg: &Cgroup, c: &Change, old: &HostConfig, new: &HostConfig) -> Result<()> {
    let v2 = matches!(cg, Cgroup::V2(_));
    let max = |n: i64| {
        if n <= 0 {
            "max".to_string()
        } else {
            n.to_string()
        }
    };
    if c.memory.is_some() || c.memory_swap.is_some() {
        let swap_total = match new.memory_swap {
            0 => new.memory * 2,
            s => s,
        };
        if v2 {
            write(
                cg,
                ("memory", "memory.limit_in_bytes"),
                "memory.max",
                &max(new.memory),
            )?;
            let swap = if swap_total < 0 {
                -1
            } else {
                swap_total - new.memory
            };
            write(cg, ("memory", ""), "memory.swap.max", &max(swap)).ok();
        } else {
            let memsw = Path::new("memory.memsw.limit_in_bytes");
            let swap_on = matches!(cg, Cgroup::V1(rel) if Path::new("/sys/fs/cgroup/memory").join(rel).join(memsw).exists());
            let limit = |n: i64| {
                if n <= 0 {
                    "-1".to_string()
                } else {
                    n.to_string()
                }
            };
            // The kernel wants memory <= memsw at every step: raise memsw
            // first when the limit grows, lower it last when it shrinks.
            // (No limit before is the largest limit: the new one is lower.)
            let growing = old.memory > 0 && (new.memory > old.memory || new.memory <= 0);
            if swap_on && growing {
                write(
                    cg,
                    ("memory", "memory.memsw.limit_in_bytes"),
                    "",
                    &limit(swap_total),
                )?;
            }
            write(
                cg,
                ("memory", "memory.limit_in_bytes"),
                "",
                &limit(new.memory),
            )?;
            if swap_on && !growing {
                write(
                    cg,
                    ("memory", "memory.memsw.limit_in_bytes"),
                    "",
                    &limit(swap_total),
                )?;
            }
        }
    }
    if let Some(r) = c.memory_reservation {
        write(
            cg,
            ("memory", "memory.soft_limit_in_bytes"),
            "memory.low",
            &r.to_string(),
        )?;
    }
    if let Some(s) = c.cpu_shares {
        if v2 {
            let weight = 1 + ((s.clamp(2, 262_144) - 2) * 9999) / 262_142;
            write(cg, ("", ""), "cpu.weight", &weight.to_string())?;
        } else {
            write(cg, ("cpu", "cpu.shares"), "", &s.to_string())?;
        }
    }
    if c.nano_cpus.is_some() || c.cpu_period.is_some() || c.cpu_quota.is_some() {
        let (period, quota) = if new.nano_cpus > 0 {
            (100_000, new.nano_cpus * 100_000 / 1_000_000_000)
        } else {
            (
                if new.cpu_period > 0 {
                    new.cpu_period
                } else {
                    100_000
                },
                if new.cpu_quota > 0 { new.cpu_quota } else { -1 },
            )
        };
        if v2 {
            write(cg, ("", ""), "cpu.max", &format!("{} {period}", max(quota)))?;
        } else {
            write(cg, ("cpu", "cpu.cfs_period_us"), "", &period.to_string())?;
            write(cg, ("cpu", "cpu.cfs_quota_us"), "", &quota.to_string())?;
        }
    }
    if let Some(cpus) = &c.cpuset_cpus {
        write(cg, ("cpuset", "cpuset.cpus"), "cpuset.cpus", cpus)?;
    }
    if let Some(mems) = &c.cpuset_mems {
        write(cg, ("cpuset", "cpuset.mems"), "cpuset.mems", mems)?;
    }
    if let Some(p) = c.pids_limit {
        write(cg, ("pids", "pids.max"), "pids.max", &max(p))?;
    }
    // Unless `adapt` discarded it (the host has no weight to set).
    let weight = new.extra.get("BlkioWeight").and_then(Value::as_i64);
    if let Some(w) = c.blkio_weight.and(weight).filter(|w| *w > 0) {
        let bfq = match cg {
            Cgroup::V1(rel) => !Path::new("/sys/fs/cgroup/blkio")
                .join(rel)
                .join("blkio.weight")
                .exists(),
            Cgroup::V2(dir) => !dir.join("io.weight").exists(),
        };
        let (v1, v2, v2_value) = if bfq {
            ("blkio.bfq.weight", "io.bfq.weight", w.to_string())
        } else {
            ("blkio.weight", "io.weight", format!("default {w}"))
        };
        match cg {
            Cgroup::V1(_) => write(cg, ("blkio", v1), "", &w.to_string())?,
            Cgroup::V2(_) => write(cg, ("", ""), v2, &v2_value)?,
        }
    }
    Ok(())
}

impl ContainerService {
    /// `POST /containers/{id}/update`; returns dockerd's warnings.
    pub async fn update(&self, name: &str, body: Value) -> Result<Vec<String>> {
        options::check_update(&body)?;
        let h = self.find(name)?;
        let _op = h.op.lock().await;
        let change = Change::of(&body);
        let (old, running, id) = {
            let r = h.rec.lock().unwrap();
            (r.host_config.clone(), h.running(), r.id.clone())
        };
        let mut new = change.apply_to(&old);
        if change.memory.is_some()
            && change.memory_swap.is_none()
            && old.memory_swap > 0
            && new.memory > old.memory_swap
        {
            return Err(Error::invalid(
                "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time",
            ));
        }
        crate::spec::validate_host_config(&new)?;
        let warnings =
            crate::kernel_opts::adapt(&mut new, crate::kernel_opts::CgroupSupport::host())?;
        restart::policy(&new)?;
        if running {
            if let Some(cg) = locate(&self.cgroups_path(&id, &old)) {
                write_cgroup(&cg, &change, &old, &new)?;
            } else {
                return Err(Error::internal(format!(
                    "cannot update container {id}: its cgroup is not there"
                )));
            }
        }
        let mut r = h.rec.lock().unwrap();
        r.host_config = new;
        self.save(&r)?;
        let rec = r.clone();
        drop(r);
        self.event(&rec, "update", &[]);
        Ok(warnings)
    }
}
