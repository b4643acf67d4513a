//! `/volumes/*`: create, list, inspect, remove and prune local volumes.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use berth_api::ApiVersion;
use berth_engine::volumes::{Volume, VolumeCreate, VolumeUsage};
use serde::Deserialize;
use serde_json::{json, Value};

use super::AppState;
use crate::http::{ApiError, Params};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/volumes", get(list))
        .route("/volumes/create", post(create))
        .route("/volumes/prune", post(prune))
        // moby's `{name:.*}`: a name with slashes is looked up (and not found), not a 404.
        .route("/volumes/{*name}", get(inspect).delete(remove).put(update))
}

/// Updates exist for swarm cluster volumes only.
async fn update() -> ApiError {
    ApiError::new(
        berth_core::ErrorKind::Unavailable,
        "volume update only valid for cluster volumes, but swarm is unavailable",
    )
}

/// Empty maps go out as `null`, as moby sends the maps a client did not give.
fn map_or_null(m: &BTreeMap<String, String>) -> Value {
    if m.is_empty() {
        Value::Null
    } else {
        json!(m)
    }
}

/// The API's Volume object, fields in moby's order.
pub fn view(v: &Volume) -> Value {
    json!({
        "CreatedAt": v.created_at,
        "Driver": v.driver,
        "Labels": map_or_null(&v.labels),
        "Mountpoint": v.mountpoint.display().to_string(),
        "Name": v.name,
        "Options": map_or_null(&v.options),
        "Scope": "local",
    })
}

/// A `system df` row: the volume with its `UsageData`.
pub fn usage_view(u: &VolumeUsage) -> Value {
    let mut v = view(&u.volume);
    v["UsageData"] = json!({"RefCount": u.ref_count, "Size": u.size});
    v
}

fn internal(e: tokio::task::JoinError) -> ApiError {
    ApiError::new(berth_core::ErrorKind::Internal, e.to_string())
}

/// Runs blocking volume work (fsync, mount, deleting trees) off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, berth_engine::EngineError> + Send + 'static,
) -> Result<T, ApiError> {
    Ok(tokio::task::spawn_blocking(f).await.map_err(internal)??)
}

#[derive(Debug, Deserialize, Default)]
struct CreateBody {
    #[serde(rename = "Name", default)]
    name: Option<String>,
    #[serde(rename = "Driver", default)]
    driver: Option<String>,
    #[serde(rename = "DriverOpts", default)]
    driver_opts: Option<BTreeMap<String, String>>,
    #[serde(rename = "Labels", default)]
    labels: Option<BTreeMap<String, String>>,
}

/// moby's `ReadJSON`: an empty body is an empty request.
fn parse_body(body: &Bytes) -> Result<CreateBody, ApiError> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(CreateBody::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))
}

async fn create(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let b = parse_body(&body)?;
    let req = VolumeCreate {
        name: b.name,
        driver: b.driver,
        driver_opts: b.driver_opts.unwrap_or_default(),
        labels: b.labels.unwrap_or_default(),
    };
    let engine = s.engine.clone();
    let v = blocking(move || engine.volumes.create(req, &engine.events)).await?;
    Ok((StatusCode::CREATED, Json(view(&v))).into_response())
}

async fn list(State(s): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let filters = p.filters()?;
    let volumes = s.engine.volumes.list(&filters)?;
    let out: Vec<Value> = volumes.iter().map(view).collect();
    // No driver failed to list: moby's Warnings stay nil.
    Ok(Json(json!({"Volumes": out, "Warnings": null})).into_response())
}

async fn inspect(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let v = s.engine.volumes.get(&name)?;
    Ok(Json(view(&v)).into_response())
}

async fn remove(
    State(s): State<AppState>,
    Path(name): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let force = p.bool("force");
    let engine = s.engine.clone();
    blocking(move || engine.volumes.remove(&name, force, &engine.events)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Before API 1.42 prune took every unused volume, named ones too.
const ANONYMOUS_ONLY_SINCE: ApiVersion = ApiVersion::new(1, 42);

async fn prune(
    State(s): State<AppState>,
    version: Option<Extension<ApiVersion>>,
    p: Params,
) -> Result<Response, ApiError> {
    let mut filters = p.filters()?;
    if version.is_some_and(|Extension(v)| v < ANONYMOUS_ONLY_SINCE) {
        filters.add("all", "true");
    }
    let engine = s.engine.clone();
    let (deleted, reclaimed) =
        blocking(move || engine.volumes.prune(&filters, &engine.events)).await?;
    Ok(Json(json!({"VolumesDeleted": deleted, "SpaceReclaimed": reclaimed})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volume(labels: &[(&str, &str)]) -> Volume {
        Volume {
            name: "v1".into(),
            driver: "local".into(),
            mountpoint: "/data/volumes/v1/_data".into(),
            created_at: "2026-01-02T03:04:05Z".into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            options: BTreeMap::new(),
        }
    }

    #[test]
    fn volumes_serialise_as_moby_does() {
        assert_eq!(
            view(&volume(&[])).to_string(),
            r#"{"CreatedAt":"2026-01-02T03:04:05Z","Driver":"local","Labels":null,"Mountpoint":"/data/volumes/v1/_data","Name":"v1","Options":null,"Scope":"local"}"#
        );
        let u = usage_view(&VolumeUsage {
            volume: volume(&[("a", "b")]),
            size: 12,
            ref_count: 2,
        });
        assert_eq!(u["Labels"], json!({"a": "b"}));
        assert_eq!(u["UsageData"], json!({"RefCount": 2, "Size": 12}));
    }

    #[test]
    fn create_bodies_parse_like_read_json() {
        assert!(parse_body(&Bytes::from_static(b"")).unwrap().name.is_none());
        let b = parse_body(&Bytes::from_static(
            br#"{"Name":"v","Driver":"local","DriverOpts":null,"Labels":{"a":"b"}}"#,
        ))
        .unwrap();
        assert_eq!(b.name.as_deref(), Some("v"));
        assert_eq!(b.labels.unwrap()["a"], "b");
        let err = parse_body(&Bytes::from_static(b"{bad")).unwrap_err();
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.starts_with("invalid JSON"), "{}", err.message);
    }
}
