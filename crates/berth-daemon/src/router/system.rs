//! `/_ping`, `/version`, `/info` and `/events`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_api::models::{
    Commit, IndexInfo, LocalNodeState, PluginsInfo, RegistryServiceConfig, SwarmInfo, SystemInfo,
    SystemInfoCgroupDriverEnum, SystemInfoCgroupVersionEnum, SystemVersion,
    SystemVersionComponents, SystemVersionPlatform,
};
use berth_api::{API_VERSION, MIN_API_VERSION};
use berth_engine::events::{matches, unix_nanos_now, validate_filters};
use bytes::Bytes;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::AppState;
use crate::http::{ApiError, Params};

pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");
const GIT_COMMIT: &str = env!("BERTH_GIT_COMMIT");
const RUSTC_VERSION: &str = env!("BERTH_RUSTC_VERSION");
const BUILD_TIME: &str = env!("BERTH_BUILD_TIME");

pub async fn ping(method: Method) -> Response {
    let mut res = if method == Method::HEAD {
        let mut r = StatusCode::OK.into_response();
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        r
    } else {
        (StatusCode::OK, "OK").into_response()
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    // "1": the classic builder (the Dockerfile builder berth implements), not BuildKit.
    h.insert("Builder-Version", HeaderValue::from_static("1"));
    h.insert("Swarm", HeaderValue::from_static("inactive"));
    res
}

/// Go's GOARCH names, which `version` reports.
fn go_arch(machine: &str) -> &str {
    match machine {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "i686" | "i386" => "386",
        "armv7l" => "arm",
        other => other,
    }
}

pub async fn version(State(s): State<AppState>) -> Json<SystemVersion> {
    let host = s.engine.host();
    let arch = go_arch(&host.architecture).to_owned();
    let build_time = BUILD_TIME.to_owned();
    let details: HashMap<String, String> = [
        ("ApiVersion", API_VERSION.to_string()),
        ("MinAPIVersion", MIN_API_VERSION.to_string()),
        ("GitCommit", GIT_COMMIT.to_owned()),
        ("GoVersion", format!("rustc {RUSTC_VERSION}")),
        ("Os", "linux".to_owned()),
        ("Arch", arch.clone()),
        ("KernelVersion", host.kernel_version.clone()),
        ("BuildTime", build_time.clone()),
        ("Experimental", s.engine.config().experimental.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    Json(SystemVersion {
        platform: Some(SystemVersionPlatform {
            name: "Berth Engine".to_owned(),
        }),
        components: Some(vec![SystemVersionComponents {
            name: "Engine".to_owned(),
            version: ENGINE_VERSION.to_owned(),
            details: Some(details),
        }]),
        version: Some(ENGINE_VERSION.to_owned()),
        api_version: Some(API_VERSION.to_string()),
        min_api_version: Some(MIN_API_VERSION.to_string()),
        git_commit: Some(GIT_COMMIT.to_owned()),
        go_version: Some(format!("rustc {RUSTC_VERSION}")),
        os: Some("linux".to_owned()),
        arch: Some(arch),
        kernel_version: Some(host.kernel_version.clone()),
        experimental: Some(s.engine.config().experimental),
        build_time: Some(build_time),
    })
}

fn count_dir(path: &str) -> i64 {
    std::fs::read_dir(path).map_or(0, |d| d.count() as i64)
}

fn thread_count() -> i64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

pub async fn info(State(s): State<AppState>) -> Json<SystemInfo> {
    let engine = &s.engine;
    let host = engine.host();
    let config = engine.config();
    let settings = engine.settings();
    let driver = engine.images.driver();
    let driver_status = berth_engine::storage::driver_status(&config.data_root, driver);
    let cg = &host.cgroup;
    let mut warnings = s.daemon.warnings.clone();
    warnings.extend(cg.warnings());
    warnings.extend(s.engine.networks.warnings());
    let mut security = vec!["name=seccomp,profile=builtin".to_owned()];
    // moby's order: apparmor, seccomp, selinux, userns, rootless, cgroupns.
    if engine.remapped_root().is_some() {
        security.push("name=userns".to_owned());
    }
    if cg.version == 2 {
        security.push("name=cgroupns".to_owned());
    }
    let index = IndexInfo {
        name: Some("docker.io".to_owned()),
        mirrors: Some(vec![]),
        secure: Some(true),
        official: Some(true),
    };
    let (mut running, mut paused, mut stopped) = (0i64, 0i64, 0i64);
    for c in engine.containers.all() {
        match c.snapshot().state.status {
            berth_engine::containers::Status::Running => running += 1,
            berth_engine::containers::Status::Paused => paused += 1,
            _ => stopped += 1,
        }
    }
    Json(SystemInfo {
        id: Some(engine.id().to_owned()),
        containers: Some(running + paused + stopped),
        containers_running: Some(running),
        containers_paused: Some(paused),
        containers_stopped: Some(stopped),
        images: Some(engine.images.count() as i64),
        driver: Some(driver.to_owned()),
        driver_status: Some(driver_status.into_iter().map(|(k, v)| vec![k, v]).collect()),
        docker_root_dir: Some(config.data_root.display().to_string()),
        plugins: Some(PluginsInfo {
            volume: Some(vec!["local".into()]),
            network: Some(vec!["bridge".into(), "host".into(), "null".into()]),
            authorization: None,
            log: Some(vec!["json-file".into(), "local".into()]),
        }),
        memory_limit: Some(cg.memory_limit),
        swap_limit: Some(cg.swap_limit),
        cpu_cfs_period: Some(cg.cpu_cfs),
        cpu_cfs_quota: Some(cg.cpu_cfs),
        cpu_shares: Some(cg.cpu_shares),
        cpu_set: Some(cg.cpuset),
        pids_limit: Some(cg.pids_limit),
        oom_kill_disable: Some(cg.version == 1 && cg.memory_limit),
        ipv4_forwarding: Some(host.ipv4_forwarding),
        debug: Some(settings.debug),
        nfd: Some(count_dir("/proc/self/fd")),
        n_goroutines: Some(thread_count()),
        system_time: Some(
            chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, false),
        ),
        logging_driver: Some("json-file".to_owned()),
        cgroup_driver: Some(SystemInfoCgroupDriverEnum::CGROUPFS),
        cgroup_version: Some(if cg.version == 2 {
            SystemInfoCgroupVersionEnum::_2
        } else {
            SystemInfoCgroupVersionEnum::_1
        }),
        n_events_listener: Some(engine.events.listeners() as i64),
        kernel_version: Some(host.kernel_version.clone()),
        operating_system: Some(host.operating_system.clone()),
        os_version: Some(host.os_version.clone()),
        os_type: Some("linux".to_owned()),
        architecture: Some(host.architecture.clone()),
        ncpu: Some(host.ncpu as i64),
        mem_total: Some(host.mem_total as i64),
        index_server_address: Some("https://index.docker.io/v1/".to_owned()),
        registry_config: Some(RegistryServiceConfig {
            insecure_registry_cidrs: Some(vec!["::1/128".to_owned(), "127.0.0.0/8".to_owned()]),
            index_configs: Some(HashMap::from([("docker.io".to_owned(), index)])),
            mirrors: Some(vec![]),
        }),
        name: Some(host.hostname.clone()),
        labels: Some(settings.labels),
        experimental_build: Some(s.engine.config().experimental),
        server_version: Some(ENGINE_VERSION.to_owned()),
        swarm: Some(SwarmInfo {
            node_id: Some(String::new()),
            node_addr: Some(String::new()),
            local_node_state: Some(LocalNodeState::INACTIVE),
            control_available: Some(false),
            error: Some(String::new()),
            remote_managers: None,
            ..Default::default()
        }),
        live_restore_enabled: Some(config.live_restore),
        containerd_commit: Some(Commit {
            id: Some(String::new()),
        }),
        runc_commit: Some(Commit {
            id: Some(String::new()),
        }),
        init_commit: Some(Commit {
            id: Some(String::new()),
        }),
        security_options: Some(security),
        warnings: (!warnings.is_empty()).then_some(warnings),
        ..Default::default()
    })
}

/// moby's `timetypes.ParseTimestamps`: `SECONDS[.FRACTION]` → nanoseconds since the epoch.
fn parse_timestamp(value: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad = || ApiError::bad_request(format!("invalid timestamp {value:?}"));
    let (secs, frac) = value.split_once('.').unwrap_or((value, ""));
    let secs: i64 = secs.parse().map_err(|_| bad())?;
    let nanos = if frac.is_empty() {
        0
    } else {
        if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        format!("{frac:0<9}").parse::<i64>().map_err(|_| bad())?
    };
    secs.checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(nanos))
        .map(Some)
        .ok_or_else(bad)
}

pub async fn events(State(s): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let filters = params.filters()?;
    validate_filters(&filters)?;
    let since = parse_timestamp(params.get("since"))?;
    let until = parse_timestamp(params.get("until"))?;
    if let (Some(since), Some(until)) = (since, until) {
        if until < since {
            return Err(ApiError::bad_request(format!(
                "`since` time ({}) cannot be after `until` time ({})",
                params.get("since").unwrap_or_default(),
                params.get("until").unwrap_or_default()
            )));
        }
    }
    let now = unix_nanos_now();
    // As moby: past events are replayed when either bound is given.
    let backlog_from = (since.is_some() || until.is_some()).then(|| since.unwrap_or(0));
    let sub = s.engine.events.subscribe(backlog_from);
    let mut shutdown = s.shutdown.clone();
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(64);
    tokio::spawn(async move {
        let line = |ev: &berth_api::events::EventMessage| {
            let mut v = serde_json::to_vec(ev).unwrap_or_default();
            v.push(b'\n');
            Ok(Bytes::from(v))
        };
        let in_window = |t: i64| until.is_none_or(|u| t <= u);
        for ev in &sub.backlog {
            if in_window(ev.time_nano) && matches(&filters, ev) && tx.send(line(ev)).await.is_err()
            {
                return;
            }
        }
        if until.is_some_and(|u| u <= now) {
            return;
        }
        let deadline = until.map(|u| {
            tokio::time::Instant::now() + Duration::from_nanos(u.saturating_sub(now) as u64)
        });
        let mut live = sub.live;
        loop {
            let expired = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                ev = live.recv() => match ev {
                    Ok(ev) => {
                        if in_window(ev.time_nano) && matches(&filters, &ev) && tx.send(line(&ev)).await.is_err() {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "events subscriber fell behind");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                () = expired => return,
                () = tx.closed() => return,
                _ = shutdown.changed() => return,
            }
        }
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(ReceiverStream::new(rx)))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}

/// `GET /system/df`: disk usage by images (containers, volumes and build cache arrive with
/// their stores). `type` narrows the answer, as in API 1.42+.
pub async fn df(State(s): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let types: Vec<&str> = params.get_all("type").collect();
    for t in &types {
        if !["image", "container", "volume", "build-cache"].contains(t) {
            return Err(ApiError::bad_request(format!("unknown object type: {t}")));
        }
    }
    let want = |t: &str| types.is_empty() || types.contains(&t);
    let engine = s.engine.clone();
    let records: Vec<_> = engine
        .containers
        .all()
        .iter()
        .map(|c| c.snapshot())
        .collect();
    let usage = tokio::task::spawn_blocking(move || engine.images.disk_usage())
        .await
        .map_err(|e| ApiError::new(berth_core::ErrorKind::Internal, e.to_string()))??;
    let (layers_size, images) = usage;
    let mut body = serde_json::Map::new();
    if want("image") {
        body.insert("LayersSize".into(), serde_json::json!(layers_size));
        let list: Vec<serde_json::Value> = images
            .into_iter()
            .map(|(r, shared)| {
                serde_json::json!({
                    "Id": r.image.id.to_string(),
                    "ParentId": "",
                    "RepoTags": r.repo_tags,
                    "RepoDigests": r.repo_digests,
                    "Created": r.created_unix,
                    "Size": r.image.size,
                    "SharedSize": shared,
                    "Labels": r.image.config.labels(),
                    "Containers": records.iter().filter(|c| c.image == r.image.id.to_string()).count(),
                })
            })
            .collect();
        body.insert("Images".into(), serde_json::Value::Array(list));
    }
    if want("container") {
        let engine = s.engine.clone();
        let rows = tokio::task::spawn_blocking(move || {
            let nets = engine.networks.list();
            records
                .iter()
                .map(|r| {
                    super::containers::views::summary(
                        r,
                        Some(super::containers::sizes(&engine, r)),
                        &nets,
                    )
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| ApiError::new(berth_core::ErrorKind::Internal, e.to_string()))?;
        body.insert("Containers".into(), serde_json::Value::Array(rows));
    }
    if want("volume") {
        let engine = s.engine.clone();
        let rows = tokio::task::spawn_blocking(move || engine.volumes.disk_usage())
            .await
            .map_err(|e| ApiError::new(berth_core::ErrorKind::Internal, e.to_string()))?;
        let rows: Vec<serde_json::Value> = rows.iter().map(super::volumes::usage_view).collect();
        body.insert("Volumes".into(), serde_json::Value::Array(rows));
    }
    if want("build-cache") {
        body.insert("BuildCache".into(), serde_json::json!([]));
    }
    Ok(Json(serde_json::Value::Object(body)).into_response())
}

/// `POST /build/prune`: Berth keeps no build cache yet, so there is never anything to
/// remove; answering lets `docker system prune` (which always calls it) finish.
pub async fn build_prune() -> Json<serde_json::Value> {
    Json(serde_json::json!({"CachesDeleted": null, "SpaceReclaimed": 0}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_like_moby() {
        assert_eq!(parse_timestamp(None).unwrap(), None);
        assert_eq!(parse_timestamp(Some("")).unwrap(), None);
        assert_eq!(parse_timestamp(Some("12")).unwrap(), Some(12_000_000_000));
        assert_eq!(parse_timestamp(Some("12.5")).unwrap(), Some(12_500_000_000));
        assert_eq!(
            parse_timestamp(Some("12.000000001")).unwrap(),
            Some(12_000_000_001)
        );
        assert!(parse_timestamp(Some("1h")).is_err());
        assert!(parse_timestamp(Some("1.x")).is_err());
    }

    #[test]
    fn go_arch_names() {
        assert_eq!(go_arch("x86_64"), "amd64");
        assert_eq!(go_arch("aarch64"), "arm64");
        assert_eq!(go_arch("riscv64"), "riscv64");
    }
}
