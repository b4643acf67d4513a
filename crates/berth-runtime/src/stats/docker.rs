//! The `GET /containers/{id}/stats` body, shaped as moby's `StatsResponse` encodes it
//! (`api/types/container/stats.go`): struct-valued fields are always present (Go's
//! `omitempty` does not apply to structs), `omitempty` numbers are left out when zero,
//! blkio lists are `null` when unset.

use std::time::SystemTime;

use serde_json::{json, Map, Value};

use super::{BlkioEntry, BlkioStats, CgroupStats, CpuStats};

/// Go's zero `time.Time`.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The stats body for sample `current`, with `previous` (the sample before, in a stream)
/// as `precpu_stats`/`preread`; `name` (`/name`) and `id` are set when streaming.
pub fn to_docker(
    current: &CgroupStats,
    previous: Option<&CgroupStats>,
    name: Option<&str>,
    id: Option<&str>,
) -> Value {
    let mut body = identity(name, id);
    body.insert("read".into(), go_time(current.read).into());
    body.insert(
        "preread".into(),
        previous
            .map_or(ZERO_TIME.to_string(), |p| go_time(p.read))
            .into(),
    );
    body.insert("pids_stats".into(), pids_json(current));
    body.insert("blkio_stats".into(), blkio_json(current.blkio.as_ref()));
    body.insert("num_procs".into(), 0.into());
    body.insert("storage_stats".into(), json!({}));
    body.insert("cpu_stats".into(), cpu_json(Some(current)));
    body.insert("precpu_stats".into(), cpu_json(previous));
    body.insert("memory_stats".into(), memory_json(current));
    Value::Object(body)
}

/// What Docker answers for a container that is not running.
pub fn docker_empty(name: Option<&str>, id: Option<&str>) -> Value {
    let mut body = identity(name, id);
    body.insert("read".into(), ZERO_TIME.into());
    body.insert("preread".into(), ZERO_TIME.into());
    body.insert("pids_stats".into(), json!({}));
    body.insert("blkio_stats".into(), blkio_json(None));
    body.insert("num_procs".into(), 0.into());
    body.insert("storage_stats".into(), json!({}));
    body.insert("cpu_stats".into(), cpu_json(None));
    body.insert("precpu_stats".into(), cpu_json(None));
    body.insert("memory_stats".into(), json!({}));
    Value::Object(body)
}

fn identity(name: Option<&str>, id: Option<&str>) -> Map<String, Value> {
    let mut body = Map::new();
    if let Some(name) = name.filter(|n| !n.is_empty()) {
        body.insert("name".into(), name.into());
    }
    if let Some(id) = id.filter(|i| !i.is_empty()) {
        body.insert("id".into(), id.into());
    }
    body
}

/// Inserts `key: value` unless zero (Go's `omitempty`).
fn insert_nonzero(map: &mut Map<String, Value>, key: &str, value: u64) {
    if value != 0 {
        map.insert(key.into(), value.into());
    }
}

fn pids_json(stats: &CgroupStats) -> Value {
    let mut pids = Map::new();
    if let Some(p) = &stats.pids {
        insert_nonzero(&mut pids, "current", p.current);
        insert_nonzero(&mut pids, "limit", p.limit);
    }
    Value::Object(pids)
}

fn blkio_json(blkio: Option<&BlkioStats>) -> Value {
    let empty = BlkioStats::default();
    let b = blkio.unwrap_or(&empty);
    let list = |entries: &Option<Vec<BlkioEntry>>| match entries {
        None => Value::Null,
        Some(entries) => entries
            .iter()
            .map(|e| json!({"major": e.major, "minor": e.minor, "op": e.op, "value": e.value}))
            .collect(),
    };
    json!({
        "io_service_bytes_recursive": list(&b.io_service_bytes_recursive),
        "io_serviced_recursive": list(&b.io_serviced_recursive),
        "io_queue_recursive": list(&b.io_queue_recursive),
        "io_service_time_recursive": list(&b.io_service_time_recursive),
        "io_wait_time_recursive": list(&b.io_wait_time_recursive),
        "io_merged_recursive": list(&b.io_merged_recursive),
        "io_time_recursive": list(&b.io_time_recursive),
        "sectors_recursive": list(&b.sectors_recursive),
    })
}

fn cpu_json(stats: Option<&CgroupStats>) -> Value {
    let zero = CpuStats::default();
    let cpu = stats.and_then(|s| s.cpu.as_ref()).unwrap_or(&zero);
    let mut usage = Map::new();
    usage.insert("total_usage".into(), cpu.total_usage.into());
    if !cpu.percpu_usage.is_empty() {
        usage.insert("percpu_usage".into(), json!(cpu.percpu_usage));
    }
    usage.insert("usage_in_kernelmode".into(), cpu.usage_in_kernelmode.into());
    usage.insert("usage_in_usermode".into(), cpu.usage_in_usermode.into());
    let mut out = Map::new();
    out.insert("cpu_usage".into(), Value::Object(usage));
    if let Some(s) = stats {
        insert_nonzero(&mut out, "system_cpu_usage", s.system_cpu_usage);
        insert_nonzero(&mut out, "online_cpus", s.online_cpus.into());
    }
    out.insert(
        "throttling_data".into(),
        json!({
            "periods": cpu.throttling.periods,
            "throttled_periods": cpu.throttling.throttled_periods,
            "throttled_time": cpu.throttling.throttled_time,
        }),
    );
    Value::Object(out)
}

fn memory_json(stats: &CgroupStats) -> Value {
    let mut out = Map::new();
    let Some(m) = &stats.memory else {
        return Value::Object(out);
    };
    // Unlimited (or above the host's size) shows as the host's memory, as moby does.
    let limit = if stats.machine_memory > 0 && m.limit > stats.machine_memory {
        stats.machine_memory
    } else {
        m.limit
    };
    insert_nonzero(&mut out, "usage", m.usage);
    insert_nonzero(&mut out, "max_usage", m.max_usage);
    if !m.stats.is_empty() {
        out.insert("stats".into(), json!(m.stats));
    }
    insert_nonzero(&mut out, "failcnt", m.failcnt);
    insert_nonzero(&mut out, "limit", limit);
    Value::Object(out)
}

/// Go's `time.Time` JSON (RFC 3339 with trailing-zero-trimmed nanoseconds) in UTC.
fn go_time(time: SystemTime) -> String {
    let d = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let (y, mo, da) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    let mut out = format!(
        "{y:04}-{mo:02}-{da:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    if d.subsec_nanos() != 0 {
        let frac = format!("{:09}", d.subsec_nanos());
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{MemoryStats, PidsStats, Throttling};
    use std::time::Duration;

    fn sample(total: u64, system: u64, at: u64) -> CgroupStats {
        CgroupStats {
            read: SystemTime::UNIX_EPOCH + Duration::new(1_795_428_000 + at, 500_000_000),
            cpu: Some(CpuStats {
                total_usage: total,
                percpu_usage: vec![total / 2, total - total / 2],
                usage_in_kernelmode: 10,
                usage_in_usermode: total - 10,
                throttling: Throttling::default(),
            }),
            memory: Some(MemoryStats {
                usage: 50 << 20,
                max_usage: 60 << 20,
                limit: 9_223_372_036_854_771_712,
                failcnt: 0,
                stats: [("total_inactive_file".to_string(), 10 << 20)].into(),
            }),
            pids: Some(PidsStats {
                current: 3,
                limit: 0,
            }),
            blkio: Some(BlkioStats {
                io_service_bytes_recursive: Some(vec![BlkioEntry {
                    major: 254,
                    minor: 0,
                    op: "Read".into(),
                    value: 4096,
                }]),
                ..BlkioStats::default()
            }),
            system_cpu_usage: system,
            online_cpus: 2,
            machine_memory: 1 << 30,
        }
    }

    #[test]
    fn body_has_dockers_shape_and_cli_math_works() {
        let before = sample(1_000_000_000, 100_000_000_000, 0);
        let now = sample(1_500_000_000, 101_000_000_000, 1);
        let v = to_docker(&now, Some(&before), Some("/web"), Some("abc"));
        assert_eq!(v["name"], "/web");
        assert_eq!(v["read"], "2026-11-23T10:00:01.5Z");
        assert_eq!(v["preread"], "2026-11-23T10:00:00.5Z");
        assert_eq!(v["num_procs"], 0);
        assert_eq!(v["storage_stats"], json!({}));
        assert_eq!(v["pids_stats"], json!({"current": 3}));
        assert_eq!(
            v["blkio_stats"]["io_service_bytes_recursive"][0]["op"],
            "Read"
        );
        assert!(v["blkio_stats"]["io_serviced_recursive"].is_null());
        assert_eq!(
            v["memory_stats"]["limit"],
            1u64 << 30,
            "unlimited shows host memory"
        );
        assert_eq!(
            v["memory_stats"]["stats"]["total_inactive_file"],
            10u64 << 20
        );
        assert!(v["memory_stats"].get("failcnt").is_none());
        // docker stats' CPU %: delta container / delta system * online CPUs * 100.
        let cpu = |k: &str| v[k]["cpu_usage"]["total_usage"].as_u64().unwrap() as f64;
        let sys = |k: &str| v[k]["system_cpu_usage"].as_u64().unwrap() as f64;
        let percent = (cpu("cpu_stats") - cpu("precpu_stats"))
            / (sys("cpu_stats") - sys("precpu_stats"))
            * v["cpu_stats"]["online_cpus"].as_f64().unwrap()
            * 100.0;
        assert!((percent - 100.0).abs() < 1e-9, "{percent}");
        assert_eq!(
            v["cpu_stats"]["cpu_usage"]["percpu_usage"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn first_sample_and_stopped_container_use_zero_values() {
        let v = to_docker(&sample(5_000, 7, 0), None, None, None);
        assert_eq!(v["preread"], ZERO_TIME);
        assert!(v.get("name").is_none());
        assert_eq!(
            v["precpu_stats"],
            json!({"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
                   "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}})
        );
        let empty = docker_empty(Some("/x"), Some("id"));
        assert_eq!(empty["read"], ZERO_TIME);
        assert_eq!(empty["memory_stats"], json!({}));
        assert!(empty["blkio_stats"]["sectors_recursive"].is_null());
    }

    #[test]
    fn go_time_trims_fraction() {
        let t = |s, n| go_time(SystemTime::UNIX_EPOCH + Duration::new(s, n));
        assert_eq!(t(1_795_428_000, 0), "2026-11-23T10:00:00Z");
        assert_eq!(t(951_782_400, 120_000_000), "2000-02-29T00:00:00.12Z");
    }
}
