//! The `/vX.Y` prefix: every route is served under each version from the minimum to the
//! maximum and unversioned. The prefix is checked and stripped before routing, and the
//! version the client asked for travels with the request.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use berth_api::{ApiVersion, API_VERSION, MIN_API_VERSION};
use http::{StatusCode, Uri};

use super::ApiError;

/// Splits `/v1.41/containers/json` into (`1.41`, `/containers/json`). Only a prefix of
/// digits and dots counts as a version (moby's `v{version:[0-9.]+}`).
fn split_version(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/v")?;
    let end = rest.find('/').unwrap_or(rest.len());
    let (version, tail) = rest.split_at(end);
    let looks_like_version = !version.is_empty()
        && version.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && version.as_bytes()[0].is_ascii_digit();
    looks_like_version.then_some((version, if tail.is_empty() { "/" } else { tail }))
}

/// Why a version prefix was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum VersionError {
    /// Digits and dots, but not a version (`1.2.3`): no such route.
    Malformed,
    TooOld(String),
    TooNew(String),
}

impl IntoResponse for VersionError {
    fn into_response(self) -> Response {
        match self {
            Self::Malformed => ApiError::page_not_found().into_response(),
            // moby answers versions below 1.24 in plain text: those clients predate JSON errors.
            Self::TooOld(v) => (
                StatusCode::BAD_REQUEST,
                format!("client version {v} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version\n"),
            )
                .into_response(),
            Self::TooNew(v) => ApiError::bad_request(format!(
                "client version {v} is too new. Maximum supported API version is {API_VERSION}"
            ))
            .into_response(),
        }
    }
}

/// Checks a requested version against the supported range.
pub fn check(requested: &str) -> Result<ApiVersion, VersionError> {
    let version = requested
        .parse::<ApiVersion>()
        .map_err(|_| VersionError::Malformed)?;
    if version < MIN_API_VERSION {
        return Err(VersionError::TooOld(requested.to_owned()));
    }
    if version > API_VERSION {
        return Err(VersionError::TooNew(requested.to_owned()));
    }
    Ok(version)
}

pub async fn strip_prefix(mut req: Request, next: Next) -> Response {
    let version = match split_version(req.uri().path()) {
        None => API_VERSION,
        Some((requested, tail)) => match check(requested) {
            Err(e) => return e.into_response(),
            Ok(v) => {
                let new_uri = match req.uri().query() {
                    Some(q) => format!("{tail}?{q}"),
                    None => tail.to_owned(),
                };
                match new_uri.parse::<Uri>() {
                    Ok(uri) => *req.uri_mut() = uri,
                    Err(_) => return ApiError::page_not_found().into_response(),
                }
                v
            }
        },
    };
    req.extensions_mut().insert(version);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_split_only_on_numeric_versions() {
        assert_eq!(split_version("/v1.41/_ping"), Some(("1.41", "/_ping")));
        assert_eq!(
            split_version("/v1.50/containers/x/json"),
            Some(("1.50", "/containers/x/json"))
        );
        assert_eq!(split_version("/v1.41"), Some(("1.41", "/")));
        assert_eq!(split_version("/_ping"), None);
        assert_eq!(split_version("/volumes"), None);
        assert_eq!(split_version("/vabc/_ping"), None);
    }

    #[test]
    fn range_checks_use_moby_wording() {
        assert!(check("1.24").is_ok() && check("1.50").is_ok());
        assert_eq!(check("1.4"), Err(VersionError::TooOld("1.4".into())));
        assert_eq!(check("1.51"), Err(VersionError::TooNew("1.51".into())));
        assert_eq!(check("1.2.3"), Err(VersionError::Malformed));
        let res = VersionError::TooNew("1.51".into()).into_response();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            VersionError::Malformed.into_response().status(),
            StatusCode::NOT_FOUND
        );
    }
}
