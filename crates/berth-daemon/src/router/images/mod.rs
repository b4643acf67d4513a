//! `/images/*`: list, inspect, history, tag, delete, prune, import (`create?fromSrc=-`),
//! save (`get`) and load.

pub mod backend;
pub mod engine_backend;
mod routes;

use axum::routing::{get, post};
use axum::Router;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/images/json", get(routes::list))
        .route("/images/create", post(routes::create))
        .route("/images/get", get(routes::save_many))
        .route("/images/load", post(routes::load))
        .route("/images/prune", post(routes::prune))
        // Names may contain `/` and `:`: the action is the last path segment.
        .route(
            "/images/{*rest}",
            get(routes::get_named)
                .post(routes::post_named)
                .delete(routes::remove),
        )
}
