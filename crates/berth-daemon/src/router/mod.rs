//! The Engine API routes, one module per resource. Each handler parses the request,
//! calls the engine, and converts the result to the wire model.

pub mod containers;
pub mod images;
mod networks;
mod prune;
mod system;
mod volumes;

use std::sync::Arc;

use axum::middleware::{from_fn, map_response};
use axum::routing::get;
use axum::Router;
use berth_engine::Engine;
use tokio::sync::watch;

use crate::http::{headers, version, ApiError};

/// What every handler can reach: the engine, plus the few daemon-level facts the engine
/// does not own (how the daemon listens).
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub daemon: Arc<DaemonFacts>,
    /// The image store, behind the narrow interface the image routes need.
    pub images: Arc<dyn images::backend::ImageBackend>,
    /// Flips to true when the daemon shuts down, so endless streams end.
    pub shutdown: watch::Receiver<bool>,
}

#[derive(Debug, Default)]
pub struct DaemonFacts {
    /// Warnings `info` reports (e.g. an unencrypted TCP listener).
    pub warnings: Vec<String>,
}

/// The whole API: version prefixes stripped first, common headers added last.
pub fn app(state: AppState) -> Router {
    let experimental = state.engine.config().experimental;
    let routes = Router::new()
        .route("/_ping", get(system::ping).head(system::ping))
        .route("/version", get(system::version))
        .route("/info", get(system::info))
        .route("/events", get(system::events))
        .route("/system/df", get(system::df))
        .route("/build/prune", axum::routing::post(system::build_prune))
        .merge(images::routes())
        .merge(containers::routes())
        .merge(networks::routes())
        .merge(volumes::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .with_state(state);
    // The prefix must be stripped before routing, so the middleware wraps the routed
    // service instead of being layered on the routes.
    Router::new()
        .fallback_service(routes)
        .layer(from_fn(version::strip_prefix))
        .layer(map_response(move |res| async move {
            headers::add_common(res, experimental)
        }))
}

async fn not_found() -> ApiError {
    ApiError::page_not_found()
}
