//! `HEAD`, `GET` and `PUT /containers/{id}/archive` (`docker cp`), moby's
//! `router/container/copy.go`. The file work is blocking and runs off the async runtime;
//! archives cross through `http::stream` (a request body read as `Read`, a response fed
//! by a `Write`).

use std::io::Read;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use berth_engine::containers::{self as ctr, archive::ExtractOptions};
use berth_rootfs::PathStat;
use serde_json::json;

use super::super::AppState;
use crate::http::stream::{body_reader, channel_body};
use crate::http::{ApiError, Params};

/// How much of a refused upload is still read before answering (net/http's 256 KiB).
const DRAIN_LIMIT: u64 = 256 * 1024;

/// The header the docker CLI reads a path's stat from.
const STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/containers/{id}/archive",
        get(get_archive).head(head_archive).put(put_archive),
    )
}

/// moby's `ArchiveFormValues`: `path` is required.
fn path_param(p: &Params) -> Result<String, ApiError> {
    match p.get("path").filter(|v| !v.is_empty()) {
        Some(v) => Ok(v.to_owned()),
        None => Err(ApiError::bad_request("bad parameter: path cannot be empty")),
    }
}

/// The stat as moby encodes it: base64 (standard alphabet) of `ContainerPathStat` JSON.
fn stat_header(stat: &PathStat) -> HeaderValue {
    let (secs, nanos) = stat.mtime;
    let mtime = std::time::UNIX_EPOCH
        .checked_add(std::time::Duration::new(secs.max(0) as u64, nanos))
        .unwrap_or(std::time::UNIX_EPOCH);
    let doc = json!({
        "name": stat.name,
        "size": stat.size,
        "mode": stat.mode,
        "mtime": ctr::rfc3339(mtime),
        "linkTarget": stat.link_target,
    });
    let encoded = base64::engine::general_purpose::STANDARD.encode(doc.to_string());
    HeaderValue::from_str(&encoded).unwrap_or_else(|_| HeaderValue::from_static(""))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, berth_engine::EngineError> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(ApiError::from),
        Err(e) => Err(ApiError::new(
            berth_core::ErrorKind::Internal,
            e.to_string(),
        )),
    }
}

async fn head_archive(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let path = path_param(&p)?;
    let engine = s.engine.clone();
    let stat = blocking(move || ctr::archive::stat_path(&engine, &id, &path)).await?;
    let mut res = StatusCode::OK.into_response();
    res.headers_mut().insert(STAT_HEADER, stat_header(&stat));
    Ok(res)
}

async fn get_archive(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let path = path_param(&p)?;
    let engine = s.engine.clone();
    let (stat_tx, stat_rx) = tokio::sync::oneshot::channel::<PathStat>();
    let (out, body) = channel_body();
    let work = tokio::task::spawn_blocking(move || {
        ctr::archive::archive_path(&engine, &id, &path, move |stat| {
            let _ = stat_tx.send(stat.clone());
            Ok(out)
        })
    });
    match stat_rx.await {
        Ok(stat) => {
            // The head goes now; the tar follows as the blocking side writes it. A failure
            // from here on can only cut the archive short.
            tokio::spawn(async move {
                match work.await {
                    Ok(Err(e)) => tracing::warn!(error = %e, "archive stream failed"),
                    Err(e) => tracing::warn!(error = %e, "archive stream panicked"),
                    Ok(Ok(())) => {}
                }
            });
            let mut res = Response::new(body);
            res.headers_mut().insert(STAT_HEADER, stat_header(&stat));
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-tar"),
            );
            Ok(res)
        }
        // The stat never came: the error is the whole answer.
        Err(_) => match work.await {
            Ok(Err(e)) => Err(e.into()),
            Ok(Ok(())) => Err(ApiError::new(
                berth_core::ErrorKind::Internal,
                "archive ended before it started",
            )),
            Err(e) => Err(ApiError::new(
                berth_core::ErrorKind::Internal,
                e.to_string(),
            )),
        },
    }
}

async fn put_archive(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
    body: Body,
) -> Result<Response, ApiError> {
    let path = path_param(&p)?;
    let opts = ExtractOptions {
        no_overwrite_dir_non_dir: p.bool("noOverwriteDirNonDir"),
        copy_uid_gid: p.bool("copyUIDGID"),
    };
    let engine = s.engine.clone();
    let mut reader = body_reader(body);
    blocking(move || {
        let done = ctr::archive::extract_to_dir(&engine, &id, &path, opts, &mut reader);
        if done.is_err() {
            // Read (a bounded part of) what the client is still sending, as Go's server
            // does, so it gets our answer instead of a broken pipe.
            let _ = std::io::copy(&mut reader.take(DRAIN_LIMIT), &mut std::io::sink());
        }
        done
    })
    .await?;
    Ok(StatusCode::OK.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stat_header_is_base64_json_with_go_fields() {
        let stat = PathStat {
            name: "f".into(),
            size: 5,
            mode: (1 << 27) | 0o777,
            mtime: (1_700_000_000, 500_000_000),
            link_target: "/etc".into(),
        };
        let v = stat_header(&stat);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(v.to_str().unwrap())
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(doc["name"], "f");
        assert_eq!(doc["size"], 5);
        assert_eq!(doc["mode"], 134218239u64);
        assert_eq!(doc["mtime"], "2023-11-14T22:13:20.5Z");
        assert_eq!(doc["linkTarget"], "/etc");
        let keys: Vec<_> = doc.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["name", "size", "mode", "mtime", "linkTarget"]);
    }
}
