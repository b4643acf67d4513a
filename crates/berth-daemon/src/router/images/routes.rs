use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_core::ErrorKind;
use serde_json::json;

use super::backend::{BackendError, ImageBackend, ImportOptions, ListOptions};
use crate::http::stream::{body_reader, channel_body, JsonMessage, ProgressReader};
use crate::http::{ApiError, Params};
use crate::router::AppState;

const LIST_FILTERS: &[&str] = &["before", "dangling", "label", "reference", "since", "until"];
const PRUNE_FILTERS: &[&str] = &["dangling", "label", "label!", "until"];

impl From<BackendError> for ApiError {
    fn from(e: BackendError) -> Self {
        ApiError::new(e.kind, e.message)
    }
}

/// Runs blocking backend work off the async threads.
async fn blocking<T: Send + 'static>(
    backend: &Arc<dyn ImageBackend>,
    f: impl FnOnce(&dyn ImageBackend) -> Result<T, BackendError> + Send + 'static,
) -> Result<T, ApiError> {
    let backend = backend.clone();
    tokio::task::spawn_blocking(move || f(backend.as_ref()))
        .await
        .map_err(|e| ApiError::new(ErrorKind::Internal, e.to_string()))?
        .map_err(ApiError::from)
}

pub async fn list(State(s): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let filters = p.filters()?;
    filters.validate(LIST_FILTERS)?;
    let opts = ListOptions {
        all: p.bool("all"),
        digests: p.bool("digests"),
        shared_size: p.bool("shared-size"),
        filters,
    };
    let images = blocking(&s.images, move |b| b.list(&opts)).await?;
    Ok(Json(images).into_response())
}

pub async fn get_named(
    State(s): State<AppState>,
    Path(rest): Path<String>,
) -> Result<Response, ApiError> {
    if let Some(name) = rest.strip_suffix("/json") {
        let name = name.to_owned();
        return Ok(Json(blocking(&s.images, move |b| b.inspect(&name)).await?).into_response());
    }
    if let Some(name) = rest.strip_suffix("/history") {
        let name = name.to_owned();
        return Ok(Json(blocking(&s.images, move |b| b.history(&name)).await?).into_response());
    }
    if let Some(name) = rest.strip_suffix("/get") {
        return save(s, vec![name.to_owned()]).await;
    }
    Err(ApiError::page_not_found())
}

pub async fn post_named(
    State(s): State<AppState>,
    Path(rest): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    if let Some(name) = rest.strip_suffix("/tag") {
        let name = name.to_owned();
        let repo = p.get("repo").unwrap_or_default().to_owned();
        if repo.is_empty() {
            return Err(ApiError::bad_request(
                "repository name must have at least one component",
            ));
        }
        let tag = p
            .get("tag")
            .filter(|t| !t.is_empty())
            .unwrap_or("latest")
            .to_owned();
        blocking(&s.images, move |b| b.tag(&name, &repo, &tag)).await?;
        return Ok(StatusCode::CREATED.into_response());
    }
    if rest.ends_with("/push") {
        return Err(ApiError::new(
            ErrorKind::NotImplemented,
            "pushing images is not supported yet",
        ));
    }
    Err(ApiError::page_not_found())
}

pub async fn remove(
    State(s): State<AppState>,
    Path(name): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let (force, prune) = (p.bool("force"), !p.bool("noprune"));
    let items = blocking(&s.images, move |b| b.remove(&name, force, prune)).await?;
    Ok(Json(items).into_response())
}

pub async fn prune(State(s): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let filters = p.filters()?;
    filters.validate(PRUNE_FILTERS)?;
    let report = blocking(&s.images, move |b| b.prune(&filters)).await?;
    Ok(Json(json!({
        "ImagesDeleted": if report.deleted.is_empty() { serde_json::Value::Null } else { json!(report.deleted) },
        "SpaceReclaimed": report.space_reclaimed,
    }))
    .into_response())
}

fn json_stream(body: Body) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// `POST /images/create`: `fromSrc=-` imports the request body; pulling comes with the
/// registry client.
pub async fn create(
    State(s): State<AppState>,
    p: Params,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let total = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match (p.get("fromSrc"), p.get("fromImage")) {
        (Some("-"), _) => {}
        (Some(_), _) => {
            return Err(ApiError::new(
                ErrorKind::NotImplemented,
                "importing from a URL is not supported yet: use fromSrc=-",
            ));
        }
        (None, Some(image)) => {
            return Err(ApiError::new(
                ErrorKind::NotFound,
                format!("pull access denied for {image}, repository does not exist or may require 'docker login': no registry client yet"),
            ));
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "either fromSrc or fromImage must be given",
            ))
        }
    }
    let opts = ImportOptions {
        repo: p.get("repo").filter(|r| !r.is_empty()).map(str::to_owned),
        tag: p.get("tag").filter(|t| !t.is_empty()).map(str::to_owned),
        message: p.get("message").map(str::to_owned),
        changes: p.get_all("changes").map(str::to_owned).collect(),
        platform: p
            .get("platform")
            .filter(|t| !t.is_empty())
            .map(str::to_owned),
    };
    let (mut out, response_body) = channel_body();
    let backend = s.images.clone();
    tokio::task::spawn_blocking(move || {
        let mut src = ProgressReader::new(body_reader(body), out.clone(), "Importing", total);
        let msg = match backend.import(&mut src, &opts) {
            Ok(id) => JsonMessage::status(id),
            Err(e) => JsonMessage::error(e.message),
        };
        let _ = msg.write_to(&mut out);
    });
    Ok(json_stream(response_body))
}

pub async fn save_many(State(s): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let names: Vec<String> = p.get_all("names").map(str::to_owned).collect();
    if names.is_empty() {
        return Err(ApiError::bad_request("no images named: use names=<image>"));
    }
    save(s, names).await
}

async fn save(s: AppState, names: Vec<String>) -> Result<Response, ApiError> {
    // Refuse unknown names with a real 404 before the first byte of the archive.
    let check = names.clone();
    blocking(&s.images, move |b| b.check_exist(&check)).await?;
    let (mut out, body) = channel_body();
    let backend = s.images.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = backend.save(&names, &mut out) {
            // Mid-stream, the only way to signal failure is to cut the archive short.
            tracing::warn!(error = %e, "image save failed");
        }
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/x-tar")
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()))
}

pub async fn load(State(s): State<AppState>, p: Params, body: Body) -> Result<Response, ApiError> {
    let quiet = p.bool("quiet");
    let (mut out, response_body) = channel_body();
    let backend = s.images.clone();
    tokio::task::spawn_blocking(move || {
        let mut src = body_reader(body);
        match backend.load(&mut src, quiet) {
            Ok(lines) => {
                for line in lines {
                    let _ = JsonMessage::stream(format!("{line}\n")).write_to(&mut out);
                }
            }
            Err(e) => {
                let _ = JsonMessage::error(e.message).write_to(&mut out);
            }
        }
    });
    Ok(json_stream(response_body))
}
