//! Headers every response carries (moby's version and experimental middlewares).

use axum::response::Response;
use http::HeaderValue;

use berth_api::API_VERSION;

pub const SERVER: &str = concat!("Docker/", env!("CARGO_PKG_VERSION"), " (linux)");

pub fn add_common(mut res: Response, experimental: bool) -> Response {
    let h = res.headers_mut();
    h.insert(http::header::SERVER, HeaderValue::from_static(SERVER));
    if let Ok(v) = HeaderValue::from_str(&API_VERSION.to_string()) {
        h.insert("Api-Version", v);
    }
    h.insert("Ostype", HeaderValue::from_static("linux"));
    h.insert(
        "Docker-Experimental",
        HeaderValue::from_static(if experimental { "true" } else { "false" }),
    );
    res
}
