//! The container's filesystem against its image: `GET /containers/{id}/changes`
//! (`docker diff`), `GET /containers/{id}/export` and `POST /commit`, as moby's
//! `router/container` serves them.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use berth_api::models::ContainerConfig;
use berth_engine::containers::{self as ctr, CommitRequest};
use serde_json::{json, Value};

use super::super::AppState;
use crate::http::stream::channel_body;
use crate::http::{ApiError, Params};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/containers/{id}/changes", get(changes))
        .route("/containers/{id}/export", get(export))
        .route("/commit", post(commit))
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

/// `[{"Path": "/etc", "Kind": 0}, …]`, or `null` when nothing changed (a nil Go slice).
async fn changes(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let engine = s.engine.clone();
    let list = blocking(move || ctr::changes(&engine, &id)).await?;
    let body = if list.is_empty() {
        Value::Null
    } else {
        list.iter()
            .map(|c| json!({"Path": c.path, "Kind": c.kind.api_code()}))
            .collect()
    };
    Ok(Json(body).into_response())
}

/// The tar streams as it is read; errors known before the first byte are real answers.
async fn export(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    ctr::export::check(&s.engine, &id)?;
    let (out, body) = channel_body();
    let engine = s.engine.clone();
    tokio::task::spawn_blocking(move || {
        // Mid-stream, the only way to signal failure is to cut the archive short.
        if let Err(e) = ctr::export::export(&engine, &id, out) {
            tracing::warn!(container = %id, error = %e, "export failed");
        }
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/x-tar")
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}

/// `POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=`, body: an
/// optional container config (`null` or empty: the container's own).
async fn commit(State(s): State<AppState>, p: Params, body: Bytes) -> Result<Response, ApiError> {
    let config: Option<ContainerConfig> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))?
    };
    let text = |k: &str| p.get(k).unwrap_or_default().to_owned();
    let req = CommitRequest {
        container: text("container"),
        repo: text("repo"),
        tag: text("tag"),
        comment: text("comment"),
        author: text("author"),
        // moby: only an explicit false value turns the pause off.
        pause: p.get("pause").is_none() || p.bool("pause"),
        changes: p.get_all("changes").map(str::to_owned).collect(),
        config,
    };
    let id = ctr::commit(&s.engine, req).await?;
    Ok((StatusCode::CREATED, Json(json!({"Id": id}))).into_response())
}
