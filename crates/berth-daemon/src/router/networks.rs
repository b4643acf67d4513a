//! `/networks/*`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use berth_api::models::{EndpointSettings, NetworkCreateRequest};
use berth_engine::networks::{self, NetworkRecord};
use berth_engine::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::AppState;
use crate::http::{ApiError, Params};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/networks", get(list))
        .route("/networks/create", post(create))
        .route("/networks/prune", post(prune))
        .route("/networks/{id}", get(inspect).delete(remove))
        .route("/networks/{id}/connect", post(connect))
        .route("/networks/{id}/disconnect", post(disconnect))
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))
}

/// The API's Network object, with its containers' live endpoints.
fn view(engine: &Engine, rec: &NetworkRecord, verbose: bool) -> Value {
    let mut containers = Map::new();
    for (id, name, ep) in engine.networks.endpoints_of(engine, &rec.id) {
        containers.insert(
            id,
            json!({
                "Name": name,
                "EndpointID": ep.endpoint_id,
                "MacAddress": ep.mac,
                "IPv4Address": format!("{}/{}", ep.ip, ep.prefix_len),
                "IPv6Address": "",
            }),
        );
    }
    let mut ipam_config = Vec::new();
    if !rec.subnet.is_empty() {
        let mut c = json!({"Subnet": rec.subnet, "Gateway": rec.gateway});
        if !rec.ip_range.is_empty() {
            c["IPRange"] = json!(rec.ip_range);
        }
        if !rec.aux_addresses.is_empty() {
            c["AuxiliaryAddresses"] = json!(rec.aux_addresses);
        }
        ipam_config.push(c);
    }
    let mut v = json!({
        "Name": rec.name,
        "Id": rec.id,
        "Created": rec.created,
        "Scope": "local",
        "Driver": rec.driver,
        "EnableIPv4": true,
        "EnableIPv6": rec.enable_ipv6,
        "IPAM": {
            "Driver": rec.ipam_driver,
            "Options": if rec.ipam_options.is_empty() { Value::Null } else { json!(rec.ipam_options) },
            "Config": ipam_config,
        },
        "Internal": rec.internal,
        "Attachable": rec.attachable,
        "Ingress": false,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": false,
        "Containers": containers,
        "Options": rec.options,
        "Labels": rec.labels,
    });
    if verbose {
        v["Services"] = json!({});
    }
    v
}

fn matches(engine: &Engine, rec: &NetworkRecord, f: &berth_api::filters::Filters) -> bool {
    if f.contains("name") && !f.get("name").any(|n| rec.name.contains(n)) {
        return false;
    }
    if f.contains("id") && !f.get("id").any(|i| rec.id.starts_with(i)) {
        return false;
    }
    if f.contains("driver") && !f.get("driver").any(|d| d == rec.driver) {
        return false;
    }
    if f.contains("scope") && !f.get("scope").any(|s| s == "local") {
        return false;
    }
    if f.contains("type") {
        let t = if rec.predefined { "builtin" } else { "custom" };
        if !f.get("type").any(|x| x == t) {
            return false;
        }
    }
    if !f.match_kv_list("label", |k| rec.labels.get(k).map(String::as_str)) {
        return false;
    }
    if f.contains("dangling") {
        let want = f.get("dangling").any(|d| d == "true" || d == "1");
        let dangling = !rec.predefined && engine.networks.endpoints_of(engine, &rec.id).is_empty();
        if want != dangling {
            return false;
        }
    }
    true
}

async fn list(State(s): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let filters = p.filters()?;
    filters.validate(&["name", "id", "driver", "scope", "type", "label", "dangling"])?;
    for t in filters.get("type") {
        if t != "custom" && t != "builtin" {
            return Err(ApiError::bad_request(format!(
                "invalid filter: 'type'='{t}'"
            )));
        }
    }
    let engine = &s.engine;
    let out: Vec<Value> = engine
        .networks
        .list()
        .iter()
        .filter(|r| matches(engine, r, &filters))
        .map(|r| view(engine, r, false))
        .collect();
    Ok(Json(out).into_response())
}

async fn inspect(
    State(s): State<AppState>,
    Path(id): Path<String>,
    p: Params,
) -> Result<Response, ApiError> {
    let rec = s.engine.networks.get(&id)?;
    if let Some(scope) = p.get("scope").filter(|x| !x.is_empty()) {
        if scope != "local" {
            return Err(ApiError::new(
                berth_core::ErrorKind::NotFound,
                format!("network {id} not found"),
            ));
        }
    }
    Ok(Json(view(&s.engine, &rec, p.bool("verbose"))).into_response())
}

async fn create(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let req: NetworkCreateRequest = parse_json(&body)?;
    let (id, warning) = s.engine.networks.create(&s.engine, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"Id": id, "Warning": warning})),
    )
        .into_response())
}

async fn remove(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    s.engine.networks.remove(&s.engine, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn prune(State(s): State<AppState>, p: Params) -> Result<Response, ApiError> {
    let filter = super::prune::PruneFilter::from_params(&p)?;
    let deleted = s
        .engine
        .networks
        .prune(&s.engine, |rec| {
            filter.selects(&rec.created, |k| rec.labels.get(k).map(String::as_str))
        })
        .await?;
    Ok(Json(json!({"NetworksDeleted": deleted})).into_response())
}

#[derive(Deserialize)]
struct ConnectBody {
    #[serde(rename = "Container")]
    container: String,
    #[serde(rename = "EndpointConfig", default)]
    endpoint_config: Option<EndpointSettings>,
}

#[derive(Deserialize)]
struct DisconnectBody {
    #[serde(rename = "Container")]
    container: String,
    #[serde(rename = "Force", default)]
    force: bool,
}

async fn connect(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: ConnectBody = parse_json(&body)?;
    networks::connect(
        &s.engine,
        &id,
        &b.container,
        b.endpoint_config.unwrap_or_default(),
    )
    .await?;
    Ok(StatusCode::OK.into_response())
}

async fn disconnect(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let b: DisconnectBody = parse_json(&body)?;
    networks::disconnect(&s.engine, &id, &b.container, b.force).await?;
    Ok(StatusCode::OK.into_response())
}
