//! `stats`: live resource usage, computed from the daemon's stats JSON as docker/cli
//! computes it (CPU % from the deltas to the previous sample, memory without the page
//! cache, summed network and block I/O), redrawn every half second in place, or printed
//! once with `--no-stream`. Without names it follows containers starting and dying.

use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use berth_api::Filters;
use berth_client::{Client, JsonLines};
use berth_format::{Format, RowContext};
use clap::ArgAction;
use http::Method;
use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::list::truncate_id;
use super::status::StatusError;
use super::{encode_id, values};
use crate::cli::query::Query;
use crate::cli::units::{bytes_size, human_size};
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub all: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Disable streaming stats and only pull the first result
    #[arg(long = "no-stream", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub no_stream: bool,
    /// Do not truncate output
    #[arg(long = "no-trunc", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub no_trunc: bool,
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

const TABLE: &str =
    "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";
const HEADERS: &[(&str, &str)] = &[
    ("Container", "CONTAINER"),
    ("Name", "NAME"),
    ("ID", "CONTAINER ID"),
    ("CPUPerc", "CPU %"),
    ("MemUsage", "MEM USAGE / LIMIT"),
    ("MemPerc", "MEM %"),
    ("NetIO", "NET I/O"),
    ("BlockIO", "BLOCK I/O"),
    ("PIDs", "PIDS"),
];

/// One container's latest figures (docker's `StatsEntry`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// The name or ID it was asked for (or the short ID when listing all).
    pub container: String,
    pub name: String,
    pub id: String,
    pub cpu_percent: f64,
    pub memory: f64,
    pub memory_limit: f64,
    pub memory_percent: f64,
    pub net_rx: f64,
    pub net_tx: f64,
    pub block_read: f64,
    pub block_write: f64,
    pub pids: u64,
    pub invalid: bool,
    pub error: Option<String>,
}

fn u64_at(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// docker's `calculateCPUPercentUnix`.
fn cpu_percent(v: &Value) -> f64 {
    let cpu = &v["cpu_stats"];
    let pre = &v["precpu_stats"];
    let cpu_delta = u64_at(&cpu["cpu_usage"]["total_usage"]) as f64
        - u64_at(&pre["cpu_usage"]["total_usage"]) as f64;
    let system_delta =
        u64_at(&cpu["system_cpu_usage"]) as f64 - u64_at(&pre["system_cpu_usage"]) as f64;
    let mut online = u64_at(&cpu["online_cpus"]) as f64;
    if online == 0.0 {
        online = cpu["cpu_usage"]["percpu_usage"]
            .as_array()
            .map_or(0, Vec::len) as f64;
    }
    if system_delta > 0.0 && cpu_delta > 0.0 {
        cpu_delta / system_delta * online * 100.0
    } else {
        0.0
    }
}

/// docker's `calculateMemUsageUnixNoCache`: usage minus inactive file pages.
fn memory_usage(mem: &Value) -> f64 {
    let usage = u64_at(&mem["usage"]);
    if let Some(v) = mem["stats"]["total_inactive_file"].as_u64() {
        if v < usage {
            return (usage - v) as f64;
        }
    }
    let inactive = u64_at(&mem["stats"]["inactive_file"]);
    if inactive < usage {
        return (usage - inactive) as f64;
    }
    usage as f64
}

/// The figures from one stats document.
pub fn entry_from_stats(container: &str, v: &Value) -> Entry {
    let memory = memory_usage(&v["memory_stats"]);
    let limit = u64_at(&v["memory_stats"]["limit"]) as f64;
    let (mut block_read, mut block_write) = (0u64, 0u64);
    for e in v["blkio_stats"]["io_service_bytes_recursive"]
        .as_array()
        .into_iter()
        .flatten()
    {
        match e["op"].as_str().and_then(|op| op.chars().next()) {
            Some('r' | 'R') => block_read += u64_at(&e["value"]),
            Some('w' | 'W') => block_write += u64_at(&e["value"]),
            _ => {}
        }
    }
    let (mut rx, mut tx) = (0.0, 0.0);
    for n in v["networks"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
    {
        rx += u64_at(&n["rx_bytes"]) as f64;
        tx += u64_at(&n["tx_bytes"]) as f64;
    }
    Entry {
        container: container.to_owned(),
        name: v["name"].as_str().unwrap_or_default().to_owned(),
        id: v["id"].as_str().unwrap_or_default().to_owned(),
        cpu_percent: cpu_percent(v),
        memory,
        memory_limit: limit,
        memory_percent: if limit != 0.0 {
            memory / limit * 100.0
        } else {
            0.0
        },
        net_rx: rx,
        net_tx: tx,
        block_read: block_read as f64,
        block_write: block_write as f64,
        pids: u64_at(&v["pids_stats"]["current"]),
        invalid: false,
        error: None,
    }
}

/// One row as docker's `statsContext` shows it; keys sorted as its JSON.
pub fn row(e: &Entry, trunc: bool) -> Value {
    let dash = |s: String| if e.invalid { "--".to_owned() } else { s };
    let name = if e.name.chars().count() > 1 {
        e.name.chars().skip(1).collect()
    } else {
        "--".to_owned()
    };
    json!({
        "BlockIO": dash(format!("{} / {}", human_size(e.block_read), human_size(e.block_write))),
        "CPUPerc": dash(format!("{:.2}%", e.cpu_percent)),
        "Container": e.container,
        "ID": if trunc { truncate_id(&e.id) } else { e.id.clone() },
        "MemPerc": dash(format!("{:.2}%", e.memory_percent)),
        "MemUsage": if e.invalid { "-- / --".to_owned() } else { format!("{} / {}", bytes_size(e.memory), bytes_size(e.memory_limit)) },
        "Name": name,
        "NetIO": dash(format!("{} / {}", human_size(e.net_rx), human_size(e.net_tx))),
        "PIDs": dash(e.pids.to_string()),
    })
}

/// Renders one frame; when streaming, wrapped in the cursor-home and erase codes docker
/// writes (including its second, line-by-line copy of the frame).
pub fn frame(entries: &[Entry], format: &Format, trunc: bool, streaming: bool) -> Result<Vec<u8>> {
    let rows: Vec<Value> = entries.iter().map(|e| row(e, trunc)).collect();
    let ctx = RowContext {
        headers: HEADERS,
        type_name: Some("*container.statsContext"),
        methods: &[],
    };
    let mut buf = Vec::new();
    if streaming {
        buf.extend_from_slice(b"\x1b[H");
    }
    format.render_rows(&rows, &ctx, &mut buf)?;
    if streaming {
        let text = String::from_utf8_lossy(&buf).into_owned();
        for line in text.split('\n') {
            buf.extend_from_slice(line.as_bytes());
            buf.extend_from_slice(b" \x1b[K\n");
        }
        buf.extend_from_slice(b"\x1b[J");
    }
    Ok(buf)
}

type Entries = Arc<Mutex<Vec<Entry>>>;

fn update(entries: &Entries, container: &str, f: impl FnOnce(&mut Entry)) {
    let mut list = entries.lock().expect("stats lock");
    if let Some(e) = list.iter_mut().find(|e| e.container == container) {
        f(e);
    }
}

/// Adds a container unless known; true when added.
fn add(entries: &Entries, container: &str) -> bool {
    let mut list = entries.lock().expect("stats lock");
    if list.iter().any(|e| e.container == container) {
        return false;
    }
    list.push(Entry {
        container: container.to_owned(),
        ..Entry::default()
    });
    true
}

/// Follows one container's stats (docker's `collect`); `first` fires once the first
/// sample, error or timeout is in.
async fn collect(
    mut client: Client,
    entries: Entries,
    container: String,
    streaming: bool,
    first: oneshot::Sender<()>,
) {
    let mut first = Some(first);
    let mut signal_first = || {
        if let Some(f) = first.take() {
            let _ = f.send(());
        }
    };
    let path = format!(
        "/containers/{}/stats?stream={}",
        encode_id(&container),
        if streaming { 1 } else { 0 }
    );
    let res = match client.request(Method::GET, &path, None).await {
        Ok(r) => r,
        Err(e) => {
            update(&entries, &container, |s| {
                s.error = Some(e.to_string());
                s.invalid = true;
            });
            signal_first();
            return;
        }
    };
    let mut lines = JsonLines::new(res);
    loop {
        match tokio::time::timeout(Duration::from_secs(2), lines.next::<Value>()).await {
            Err(_) => {
                update(&entries, &container, |s| {
                    let keep = (s.container.clone(), s.name.clone(), s.id.clone());
                    *s = Entry {
                        container: keep.0,
                        name: keep.1,
                        id: keep.2,
                        invalid: true,
                        error: Some("timeout waiting for stats".into()),
                        ..Entry::default()
                    };
                });
                signal_first();
            }
            Ok(Ok(Some(v))) => {
                update(&entries, &container, |s| {
                    *s = entry_from_stats(&container, &v)
                });
                signal_first();
            }
            Ok(Ok(None)) | Ok(Err(_)) => {
                update(&entries, &container, |s| s.invalid = true);
                signal_first();
                return;
            }
        }
        if !streaming {
            return;
        }
    }
}

fn spawn_collector(
    client: &Client,
    entries: &Entries,
    container: &str,
    streaming: bool,
) -> oneshot::Receiver<()> {
    let (tx, rx) = oneshot::channel();
    tokio::spawn(collect(
        client.clone(),
        entries.clone(),
        container.to_owned(),
        streaming,
        tx,
    ));
    rx
}

/// Watches container events: started ones are added (created ones too with `--all`),
/// dead ones dropped (unless `--all`).
async fn watch_events(
    mut client: Client,
    entries: Entries,
    all: bool,
    streaming: bool,
) -> Result<tokio::task::JoinHandle<Option<String>>> {
    let mut filters = Filters::default();
    filters.add("type", "container");
    let mut q = Query::new();
    q.push("filters", &filters.to_json());
    let res = client
        .request(Method::GET, &q.path("/events"), None)
        .await?;
    Ok(tokio::spawn(async move {
        let mut lines = JsonLines::new(res);
        loop {
            let event: Value = match lines.next().await {
                Ok(Some(e)) => e,
                Ok(None) => return None,
                Err(e) => return Some(e.to_string()),
            };
            let action = event["Action"]
                .as_str()
                .or_else(|| event["status"].as_str())
                .unwrap_or_default();
            let id = event["Actor"]["ID"]
                .as_str()
                .or_else(|| event["id"].as_str())
                .unwrap_or_default();
            let short: String = id.chars().take(12).collect();
            match action {
                "start" | "create" if (action == "start" || all) && add(&entries, &short) => {
                    spawn_collector(&client, &entries, &short, streaming);
                }
                "die" if !all => entries
                    .lock()
                    .expect("stats lock")
                    .retain(|e| e.container != short),
                _ => {}
            }
        }
    }))
}

pub async fn stats(g: &GlobalOptions, args: StatsArgs) -> Result<ExitCode> {
    let client = g.client()?;
    let streaming = !args.no_stream;
    let entries: Entries = Arc::default();
    let show_all = args.containers.is_empty();
    let mut events = None;
    let mut firsts = Vec::new();
    if show_all {
        if streaming {
            events =
                Some(watch_events(client.clone(), entries.clone(), args.all, streaming).await?);
        }
        let mut q = Query::new();
        if args.all {
            q.push("all", "1");
        }
        let list: Vec<Value> = client.clone().get_json(&q.path("/containers/json")).await?;
        for c in &list {
            let short: String = c["Id"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(12)
                .collect();
            if add(&entries, &short) {
                firsts.push(spawn_collector(&client, &entries, &short, streaming));
            }
        }
        futures_util::future::join_all(firsts).await;
    } else {
        for c in &args.containers {
            if add(&entries, c) {
                firsts.push(spawn_collector(&client, &entries, c, streaming));
            }
        }
        futures_util::future::join_all(firsts).await;
        let errors: Vec<String> = entries
            .lock()
            .expect("stats lock")
            .iter()
            .filter_map(|e| e.error.clone())
            .collect();
        if !errors.is_empty() {
            return Err(StatusError::new(errors.join("\n"), 1).into());
        }
    }

    let format = Format::parse(args.format.as_deref().unwrap_or(""), TABLE);
    let mut ticker = tokio::time::interval(Duration::from_millis(500));
    ticker.tick().await;
    loop {
        ticker.tick().await;
        let snapshot = entries.lock().expect("stats lock").clone();
        let out = frame(&snapshot, &format, !args.no_trunc, streaming)?;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&out)?;
        stdout.flush()?;
        if snapshot.is_empty() && !show_all {
            break;
        }
        if !streaming {
            break;
        }
        if let Some(task) = events.as_mut() {
            if task.is_finished() {
                if let Ok(Some(e)) = task.await {
                    anyhow::bail!(e);
                }
                events = None;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A trimmed cgroup v2 stats document.
    fn sample() -> Value {
        json!({
            "name": "/sleeper",
            "id": "7541f4600b770bac4b3a396c03977a80b862920dc0f75987e94841fc3bb87651",
            "pids_stats": {"current": 3},
            "blkio_stats": {"io_service_bytes_recursive": [
                {"major": 8, "minor": 0, "op": "read", "value": 4096},
                {"major": 8, "minor": 0, "op": "write", "value": 1_000_000},
                {"major": 8, "minor": 0, "op": "Read", "value": 4096},
            ]},
            "cpu_stats": {"cpu_usage": {"total_usage": 2_000_000_000u64}, "system_cpu_usage": 110_000_000_000u64, "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": 1_000_000_000u64}, "system_cpu_usage": 100_000_000_000u64},
            "memory_stats": {"usage": 10_485_760, "limit": 104_857_600, "stats": {"inactive_file": 2_097_152}},
            "networks": {"eth0": {"rx_bytes": 1500, "tx_bytes": 500}, "eth1": {"rx_bytes": 500, "tx_bytes": 0}},
        })
    }

    #[test]
    fn figures_follow_docker_cli() {
        let e = entry_from_stats("sleeper", &sample());
        // (1e9 / 1e10) × 2 CPUs × 100
        assert!((e.cpu_percent - 20.0).abs() < 1e-9);
        assert_eq!(e.memory, 8_388_608.0);
        assert!((e.memory_percent - 8.0).abs() < 1e-9);
        assert_eq!((e.net_rx, e.net_tx), (2000.0, 500.0));
        assert_eq!((e.block_read, e.block_write), (8192.0, 1_000_000.0));
        assert_eq!(e.pids, 3);
        let r = row(&e, true);
        assert_eq!(
            r,
            json!({"BlockIO": "8.19kB / 1MB", "CPUPerc": "20.00%", "Container": "sleeper",
                   "ID": "7541f4600b77", "MemPerc": "8.00%", "MemUsage": "8MiB / 100MiB",
                   "Name": "sleeper", "NetIO": "2kB / 500B", "PIDs": "3"})
        );
    }

    #[test]
    fn cgroup_v1_cache_and_percpu_fallback() {
        let mut v = sample();
        v["memory_stats"]["stats"] =
            json!({"total_inactive_file": 1_048_576, "inactive_file": 2_097_152});
        v["cpu_stats"]["online_cpus"] = json!(0);
        v["cpu_stats"]["cpu_usage"]["percpu_usage"] = json!([1, 2, 3, 4]);
        let e = entry_from_stats("x", &v);
        assert_eq!(e.memory, 9_437_184.0);
        assert!((e.cpu_percent - 40.0).abs() < 1e-9);
    }

    #[test]
    fn invalid_entries_show_dashes() {
        let e = Entry {
            container: "c".into(),
            invalid: true,
            ..Entry::default()
        };
        let r = row(&e, true);
        assert_eq!(r["CPUPerc"], "--");
        assert_eq!(r["MemUsage"], "-- / --");
        assert_eq!(r["Name"], "--");
        assert_eq!(r["ID"], "");
    }

    #[test]
    fn table_frame_matches_docker() {
        let mut e = entry_from_stats("sleeper", &sample());
        e.memory = 385_024.0;
        e.memory_limit = 25_275_940_864.0;
        e.memory_percent = 0.0;
        e.cpu_percent = 0.0;
        e.block_read = 0.0;
        e.block_write = 0.0;
        e.net_rx = 0.0;
        e.net_tx = 0.0;
        e.pids = 1;
        let format = Format::parse("", TABLE);
        let text = String::from_utf8(frame(&[e.clone()], &format, true, false).unwrap()).unwrap();
        assert_eq!(
            text,
            "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O   BLOCK I/O   PIDS\n\
             7541f4600b77   sleeper   0.00%     376KiB / 23.54GiB   0.00%     0B / 0B   0B / 0B     1\n"
        );
        let live = String::from_utf8(frame(&[e], &format, true, true).unwrap()).unwrap();
        assert!(live.starts_with("\x1b[HCONTAINER ID"));
        assert!(live.contains("PIDS\n7541f4600b77"));
        assert!(live.contains("\x1b[HCONTAINER ID   NAME"));
        assert!(live.ends_with("   1 \x1b[K\n \x1b[K\n\x1b[J"));
    }
}
