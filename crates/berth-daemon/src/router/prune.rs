//! The filters every `POST /<resource>/prune` shares: `until`, `label`, `label!`.

use berth_api::Filters;

use crate::http::{ApiError, Params};

pub struct PruneFilter {
    filters: Filters,
    /// Unix seconds; objects created at or after it are kept.
    until: Option<i64>,
}

impl PruneFilter {
    pub fn from_params(p: &Params) -> Result<Self, ApiError> {
        let filters = p.filters()?;
        filters.validate(&["until", "label", "label!"])?;
        let until = match filters.get("until").next() {
            Some(v) => {
                Some(berth_engine::containers::parse_until(v).map_err(ApiError::bad_request)?)
            }
            None => None,
        };
        Ok(Self { filters, until })
    }

    /// Whether an object created at `created` (RFC 3339) with these labels may be pruned.
    pub fn selects<'a>(&self, created: &str, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        if let Some(u) = self.until {
            let created = chrono::DateTime::parse_from_rfc3339(created)
                .map(|t| t.timestamp())
                .unwrap_or(0);
            if created >= u {
                return false;
            }
        }
        if !self.filters.match_kv_list("label", &label) {
            return false;
        }
        !self.filters.get("label!").any(|l| match l.split_once('=') {
            Some((k, v)) => label(k) == Some(v),
            None => label(l).is_some(),
        })
    }
}
