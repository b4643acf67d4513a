//! `/containers/*` and `/exec/*`.

mod archive;
mod filesystem;
mod hijack;
mod log_details;
pub mod views;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use berth_api::models::{ContainerCreateBody, ExecConfig, HostConfig};
use berth_core::ErrorKind;
use berth_engine::containers::{
    self as ctr, logs::LogStream, AttachOptions, CreateOptions, ListOptions, RemoveOptions,
    WaitCondition,
};
use berth_engine::Engine;
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::io::ReaderStream;

use super::AppState;
use crate::http::{ApiError, Params};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/containers/create", post(create))
        .route("/containers/json", get(list))
        .route("/containers/prune", post(prune))
        .route("/containers/{id}/json", get(inspect))
        .route("/containers/{id}/start", post(start))
        .route("/containers/{id}/stop", post(stop))
        .route("/containers/{id}/kill", post(kill))
        .route("/containers/{id}/restart", post(restart))
        .route("/containers/{id}/pause", post(pause))
        .route("/containers/{id}/unpause", post(unpause))
        .route("/containers/{id}/wait", post(wait))
        .route("/containers/{id}/attach", post(attach))
        .route("/containers/{id}/logs", get(logs))
        .route("/containers/{id}/top", get(top))
        .route("/containers/{id}/stats", get(stats))
        .route("/containers/{id}/resize", post(resize))
        .route("/containers/{id}/rename", post(rename))
        .route("/containers/{id}/update", post(update))
        .route("/containers/{id}/exec", post(exec_create))
        .route("/containers/{id}", delete(remove))
        .route("/exec/{id}/start", post(exec_start))
        .route("/exec/{id}/resize", post(exec_resize))
        .route("/exec/{id}/json", get(exec_inspect))
        .merge(archive::routes())
        .merge(filesystem::routes())
}

fn parse_json<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> Result<T, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn not_modified() -> Response {
    StatusCode::NOT_MODIFIED.into_response()
}

fn int_param(p: &Params, key: &str) -> Result<Option<i64>, ApiError> {
    match p.get(key).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("invalid value for {key}: {v}"))),
    }
}

async fn create(State(s): State<AppState>, p: Params, body: Bytes) -> Result<Response, ApiError> {
    let body: ContainerCreateBody = parse_json(&body)?;
    let created = ctr::create(
        &s.engine,
        CreateOptions {
            name: p.get("name").map(str::to_owned),
            body,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"Id": created.id, "Warnings": created.warnings})),
    )
        .into_response())
}

pub(crate) fn sizes(engine: &Engine, rec: &ctr::ContainerRecord) -> views::Sizes {
    let s = ctr::disk_usage::sizes(engine, rec);
    views::Sizes {
        rw: s.rw as i64,
        root_fs: s.root_fs as i64,
    }
}

async fn list(State(s): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let filters = p.filters()?;
    let limit = int_param(&p, "limit")?.unwrap_or(-1);
    let with_size = p.bool("size");
    let engine = s.engine.clone();
    let rows = tokio::task::spawn_blocking(move || -> Result<Vec<Value>, ApiError> {
        let recs = ctr::list(
            &engine,
            ListOptions {
                all: p.bool("all"),
                limit,
                filters: &filters,
            },
        )?;
        let nets = engine.networks.list();
        Ok(recs
            .iter()
            .map(|r| views::summary(r, with_size.then(|| sizes(&engine, r)), &nets))
            .collect())
    })
    .await
    .map_err(|e| ApiError::new(ErrorKind::Internal, e.to_string()))??;
    Ok(Json(rows).into_response())
}

async fn inspect(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let c = s.engine.containers.get(&id)?;
    let rec = c.snapshot();
    let graph = graph_driver(&s.engine, &rec);
    let exec_ids = s.engine.containers.exec_ids(&rec.id);
    let size = p.bool("size").then(|| sizes(&s.engine, &rec));
    let nets = s.engine.networks.list();
    Ok(Json(views::inspect(
        &rec,
        &c.paths.data,
        graph,
        exec_ids,
        size,
        &nets,
    ))
    .into_response())
}

fn graph_driver(engine: &Engine, rec: &ctr::ContainerRecord) -> Value {
    let mut data = serde_json::Map::new();
    if let Ok(mounts) = engine.images.layers().mounts(&rec.id) {
        for m in mounts {
            for (opt, key) in [
                ("lowerdir", "LowerDir"),
                ("upperdir", "UpperDir"),
                ("workdir", "WorkDir"),
            ] {
                if let Some(v) = m.option(opt) {
                    data.insert(key.into(), json!(v));
                }
            }
        }
    }
    if data.contains_key("UpperDir") {
        data.insert(
            "MergedDir".into(),
            json!(engine
                .containers
                .settings()
                .exec_root
                .join("containers")
                .join(&rec.id)
                .join("rootfs")),
        );
    }
    json!({"Name": rec.driver, "Data": data})
}

async fn start(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    if ctr::start(&s.engine, &id).await? {
        Ok(no_content())
    } else {
        Ok(not_modified())
    }
}

async fn stop(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let t = int_param(&p, "t")?;
    if ctr::stop(&s.engine, &id, p.get("signal"), t).await? {
        Ok(no_content())
    } else {
        Ok(not_modified())
    }
}

async fn kill(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    ctr::kill(&s.engine, &id, p.get("signal")).await?;
    Ok(no_content())
}

async fn restart(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let t = int_param(&p, "t")?;
    ctr::restart(&s.engine, &id, p.get("signal"), t).await?;
    Ok(no_content())
}

async fn pause(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    ctr::pause(&s.engine, &id).await?;
    Ok(no_content())
}

async fn unpause(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    ctr::unpause(&s.engine, &id).await?;
    Ok(no_content())
}

/// The 200 and its headers go out at once; the body follows when the condition is met
/// (the CLI waits for the headers before it starts the container).
async fn wait(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let cond: WaitCondition = p.get("condition").unwrap_or("").parse()?;
    let fut = ctr::wait(&s.engine, &id, cond)?;
    let body = futures_util::stream::once(async move {
        let w = fut.await;
        let err = match &w.error {
            Some(m) if !m.is_empty() => json!({"Message": m}),
            _ => Value::Null,
        };
        let mut bytes = serde_json::to_vec(&json!({"Error": err, "StatusCode": w.exit_code}))
            .unwrap_or_default();
        bytes.push(b'\n');
        Ok::<_, std::convert::Infallible>(Bytes::from(bytes))
    });
    let mut res = Response::new(Body::from_stream(body));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(res)
}

async fn attach(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
    req: Request,
) -> Result<Response, ApiError> {
    let detach_keys = hijack::parse_detach_keys(p.get("detachKeys").unwrap_or(""))?;
    let opts = AttachOptions {
        stdin: p.bool("stdin"),
        stdout: p.bool("stdout"),
        stderr: p.bool("stderr"),
    };
    if !p.bool("stream") && !p.bool("logs") {
        return Err(ApiError::bad_request(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    let (c, fut) = ctr::attach(&s.engine, &id, opts)?;
    let rec = c.snapshot();
    let tty = rec.tty();
    let stdin = opts.stdin && rec.config.open_stdin.unwrap_or(false);
    if !hijack::wants_upgrade(&req) {
        // No upgrade asked: stream the output as the body.
        let output = futures_util::stream::once(fut)
            .filter_map(|r| std::future::ready(r.ok()))
            .flat_map(ReaderStream::new);
        return Ok(raw_stream_response(output, tty));
    }
    Ok(hijack::upgrade(req, tty, move |client| async move {
        match fut.await {
            Ok(shim) => {
                hijack::splice(
                    client,
                    shim,
                    stdin,
                    tty,
                    detach_keys,
                    None::<std::future::Ready<()>>,
                )
                .await
            }
            Err(e) => tracing::debug!(error = %e, "attach ended before the container started"),
        }
    }))
}

/// A streaming answer of raw or multiplexed container output (attach and exec start
/// without an upgrade).
fn raw_stream_response<S>(output: S, tty: bool) -> Response
where
    S: futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static,
{
    let mut res = Response::new(Body::from_stream(output));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(hijack::content_type(tty)),
    );
    res
}

fn parse_time_param(p: &Params, key: &str) -> Result<Option<SystemTime>, ApiError> {
    let Some(v) = p.get(key).filter(|v| !v.is_empty() && *v != "0") else {
        return Ok(None);
    };
    let (secs, nanos) = v.split_once('.').unwrap_or((v, "0"));
    let secs: u64 = secs
        .parse()
        .map_err(|_| ApiError::bad_request(format!("invalid value for {key}: {v}")))?;
    let mut nano_str = nanos.to_owned();
    nano_str.truncate(9);
    while nano_str.len() < 9 {
        nano_str.push('0');
    }
    let nanos: u32 = nano_str.parse().unwrap_or(0);
    Ok(Some(UNIX_EPOCH + Duration::new(secs, nanos)))
}

async fn logs(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let stdout = p.bool("stdout");
    let stderr = p.bool("stderr");
    if !stdout && !stderr {
        return Err(ApiError::bad_request(
            "Bad parameters: you must choose at least one stream",
        ));
    }
    let tail = match p.get("tail").unwrap_or("all") {
        "all" | "" => None,
        n => Some(
            n.parse::<i64>()
                .map(|n| n.max(0) as usize)
                .map_err(|_| ApiError::bad_request(format!("invalid value for tail: {n}")))?,
        ),
    };
    let opts = ctr::logs::ReadOptions {
        since: parse_time_param(&p, "since")?,
        until: parse_time_param(&p, "until")?,
        tail,
        follow: p.bool("follow"),
    };
    let timestamps = p.bool("timestamps");
    let details = p.bool("details");
    let c = s.engine.containers.get(&id)?;
    let tty = c.snapshot().tty();
    let entries = ctr::logs::logs(&s.engine, &id, opts)?;
    let mut shutdown = s.shutdown.clone();
    let body = entries
        .take_until(async move {
            let _ = shutdown.wait_for(|v| *v).await;
        })
        .filter_map(move |e| async move {
            let e = e.ok()?;
            let is_out = matches!(e.stream, LogStream::Stdout);
            if (is_out && !stdout) || (!is_out && !stderr) {
                return None;
            }
            let mut payload = Vec::with_capacity(e.line.len() + 40);
            if timestamps {
                payload.extend_from_slice(ctr::rfc3339(e.time).as_bytes());
                payload.push(b' ');
            }
            if details {
                log_details::write_prefix(&mut payload, &e.attrs);
            }
            payload.extend_from_slice(&e.line);
            if tty {
                return Some(Ok::<_, std::convert::Infallible>(Bytes::from(payload)));
            }
            let mut framed = Vec::with_capacity(payload.len() + 8);
            framed.push(if is_out { 1 } else { 2 });
            framed.extend_from_slice(&[0, 0, 0]);
            framed.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            framed.extend_from_slice(&payload);
            Some(Ok(Bytes::from(framed)))
        });
    let mut res = Response::new(Body::from_stream(body));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(hijack::content_type(tty)),
    );
    Ok(res)
}

fn size_params(p: &Params) -> Result<(u16, u16), ApiError> {
    let h = int_param(p, "h")?.unwrap_or(0);
    let w = int_param(p, "w")?.unwrap_or(0);
    if !(0..=u16::MAX as i64).contains(&h) || !(0..=u16::MAX as i64).contains(&w) {
        return Err(ApiError::bad_request("invalid terminal size"));
    }
    Ok((h as u16, w as u16))
}

async fn resize(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let (h, w) = size_params(&p)?;
    ctr::resize(&s.engine, &id, h, w).await?;
    Ok(StatusCode::OK.into_response())
}

async fn rename(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let name = p.get("name").unwrap_or("");
    ctr::rename(&s.engine, &id, name).await?;
    Ok(no_content())
}

async fn update(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let change: HostConfig = parse_json(&body)?;
    let warnings = ctr::update(&s.engine, &id, change).await?;
    Ok(Json(json!({"Warnings": warnings})).into_response())
}

async fn remove(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    if p.bool("link") {
        return Err(ApiError::bad_request("Legacy links are not supported"));
    }
    ctr::remove(
        &s.engine,
        &id,
        RemoveOptions {
            force: p.bool("force"),
            volumes: p.bool("v"),
        },
    )
    .await?;
    Ok(no_content())
}

async fn prune(State(s): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let filter = super::prune::PruneFilter::from_params(&p)?;
    let mut deleted = Vec::new();
    let mut reclaimed: u64 = 0;
    for c in s.engine.containers.all() {
        let rec = c.snapshot();
        if rec.state.running() || rec.state.status == ctr::Status::Restarting {
            continue;
        }
        let labels = rec.config.labels.clone().unwrap_or_default();
        if !filter.selects(&rec.created, |k| labels.get(k).map(String::as_str)) {
            continue;
        }
        let size = ctr::disk_usage::sizes(&s.engine, &rec).rw;
        if ctr::remove(&s.engine, &rec.id, RemoveOptions::default())
            .await
            .is_ok()
        {
            deleted.push(rec.id.clone());
            reclaimed += size;
        }
    }
    s.engine.events.publish(
        berth_api::events::event_type::CONTAINER,
        "prune",
        "",
        [("reclaimed".to_string(), reclaimed.to_string())].into(),
    );
    Ok(Json(json!({"ContainersDeleted": if deleted.is_empty() { Value::Null } else { json!(deleted) }, "SpaceReclaimed": reclaimed})).into_response())
}

async fn exec_create(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let cfg: ExecConfig = parse_json(&body)?;
    let exec_id = ctr::exec_create(&s.engine, &id, cfg)?;
    Ok((StatusCode::CREATED, Json(json!({"Id": exec_id}))).into_response())
}

#[derive(serde::Deserialize, Default)]
struct ExecStartBody {
    #[serde(rename = "Detach", default)]
    detach: bool,
}

async fn exec_start(
    State(s): State<AppState>,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let upgrade = hijack::wants_upgrade(&req);
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let start: ExecStartBody = parse_json(&bytes)?;
    let record = ctr::exec_inspect(&s.engine, &id)?;
    let stdin = record.config.attach_stdin.unwrap_or(false);
    let started = ctr::exec_start(&s.engine, &id, start.detach).await?;
    if start.detach {
        return Ok(StatusCode::OK.into_response());
    }
    let tty = started.tty;
    let Some(stream) = started.stream else {
        return Ok(StatusCode::OK.into_response());
    };
    let exited = started.exited;
    if !upgrade {
        // The body ends only after the exit code is recorded, as with the hijack.
        let after = futures_util::stream::once(exited).filter_map(|_| std::future::ready(None));
        return Ok(raw_stream_response(
            ReaderStream::new(stream).chain(after),
            tty,
        ));
    }
    let req = Request::from_parts(parts, Body::empty());
    Ok(hijack::upgrade(req, tty, move |client| async move {
        hijack::splice(
            client,
            stream,
            stdin,
            tty,
            hijack::DEFAULT_DETACH_KEYS.to_vec(),
            Some(async move {
                exited.await;
            }),
        )
        .await
    }))
}

async fn exec_resize(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let (h, w) = size_params(&p)?;
    ctr::exec_resize(&s.engine, &id, h, w).await?;
    Ok(StatusCode::OK.into_response())
}

async fn exec_inspect(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let r = ctr::exec_inspect(&s.engine, &id)?;
    let cmd = r.config.cmd.clone().unwrap_or_default();
    Ok(Json(json!({
        "ID": r.id,
        "Running": r.running,
        "ExitCode": r.exit_code,
        "ProcessConfig": {
            "tty": r.config.tty.unwrap_or(false),
            "entrypoint": cmd.first().cloned().unwrap_or_default(),
            "arguments": cmd.get(1..).unwrap_or(&[]),
            "privileged": r.config.privileged.unwrap_or(false),
            "user": r.config.user.clone().unwrap_or_default(),
        },
        "OpenStdin": r.config.attach_stdin.unwrap_or(false),
        "OpenStderr": r.config.attach_stderr.unwrap_or(false),
        "OpenStdout": r.config.attach_stdout.unwrap_or(false),
        "CanRemove": false,
        "ContainerID": r.container_id,
        "DetachKeys": r.config.detach_keys.clone().unwrap_or_default(),
        "Pid": r.pid,
    }))
    .into_response())
}

async fn top(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let c = s.engine.containers.get(&id)?;
    let rec = c.snapshot();
    if !rec.state.running() {
        return Err(ApiError::new(
            ErrorKind::Conflict,
            format!("container {} is not running", rec.id),
        ));
    }
    let ps_args = p.get("ps_args").unwrap_or("").to_owned();
    let cgroups = rec.cgroups_path.clone();
    let (titles, processes) = tokio::task::spawn_blocking(move || {
        let pids = berth_runtime::stats::pids(&cgroups)
            .map_err(|e| ApiError::new(ErrorKind::Internal, e.to_string()))?;
        berth_runtime::top::top(&pids, &ps_args)
            .map_err(|e| ApiError::new(ErrorKind::Internal, e.to_string()))
    })
    .await
    .map_err(|e| ApiError::new(ErrorKind::Internal, e.to_string()))??;
    Ok(Json(json!({"Titles": titles, "Processes": processes})).into_response())
}

/// One stats sample; `None` when the container is not running.
fn sample(rec: &ctr::ContainerRecord) -> Option<berth_runtime::stats::CgroupStats> {
    if !rec.state.running() {
        return None;
    }
    berth_runtime::stats::read(&rec.cgroups_path).ok()
}

fn stats_body(
    rec: &ctr::ContainerRecord,
    cur: Option<&berth_runtime::stats::CgroupStats>,
    prev: Option<&berth_runtime::stats::CgroupStats>,
) -> Bytes {
    let name = format!("/{}", rec.name);
    let v = match cur {
        Some(c) => berth_runtime::stats::to_docker(c, prev, Some(&name), Some(&rec.id)),
        None => berth_runtime::stats::docker_empty(Some(&name), Some(&rec.id)),
    };
    let mut bytes = serde_json::to_vec(&v).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// `GET /containers/{id}/stats`: a sample per second while streaming; one sample (after a
/// second, so precpu_stats is filled, unless `one-shot`) otherwise.
async fn stats(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let c = s.engine.containers.get(&id)?;
    let stream = p.get("stream").is_none_or(|v| v != "0" && v != "false");
    let one_shot = p.bool("one-shot");
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::convert::Infallible>>(4);
    let mut shutdown = s.shutdown.clone();
    tokio::spawn(async move {
        let mut prev: Option<berth_runtime::stats::CgroupStats> = None;
        if !stream && !one_shot {
            prev = sample(&c.snapshot());
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        loop {
            let rec = c.snapshot();
            let cur = sample(&rec);
            if tx
                .send(Ok(stats_body(&rec, cur.as_ref(), prev.as_ref())))
                .await
                .is_err()
                || !stream
            {
                return;
            }
            prev = cur;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.wait_for(|v| *v) => return,
            }
        }
    });
    let mut res = Response::new(Body::from_stream(ReceiverStream::new(rx)));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(res)
}
