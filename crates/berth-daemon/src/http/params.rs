//! Query parameters read the way moby reads its forms: repeated keys kept in order,
//! booleans lenient (`1`, `true`, `yes` are true; empty, `0`, `no`, `false`, `none` false).

use axum::extract::FromRequestParts;
use http::request::Parts;

use super::ApiError;

#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: &str) -> Self {
        Self(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The first value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated `key`.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn bool(&self, key: &str) -> bool {
        self.get(key).is_some_and(|v| {
            let v = v.trim().to_ascii_lowercase();
            !matches!(v.as_str(), "" | "0" | "no" | "false" | "none")
        })
    }

    /// The `filters` parameter, parsed in either wire shape.
    pub fn filters(&self) -> Result<berth_api::Filters, ApiError> {
        Ok(berth_api::Filters::from_json(
            self.get("filters").unwrap_or(""),
        )?)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::parse(parts.uri.query().unwrap_or("")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_and_lenient_booleans() {
        let p = Params::parse("names=a&names=b%3A1&all=1&quiet=False&x=yes&e=");
        assert_eq!(p.get_all("names").collect::<Vec<_>>(), ["a", "b:1"]);
        assert!(p.bool("all"));
        assert!(!p.bool("quiet"));
        assert!(p.bool("x"));
        assert!(!p.bool("e"));
        assert!(!p.bool("missing"));
    }
}
