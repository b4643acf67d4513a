//! `GET /images/json` filters: `dangling`, `label`, `reference`, `before`, `since`.

use std::collections::BTreeMap;

use crate::glob::path_match;
use crate::{Image, ImageError, ImageStore, Result};
use berth_core::Reference;

/// Parsed list filters (the API's `filters` JSON decoded to key → values).
#[derive(Debug, Clone, Default)]
pub struct ListFilters {
    pub dangling: Option<bool>,
    /// `key` or `key=value`; all must match.
    pub labels: Vec<String>,
    /// Glob patterns; any may match.
    pub references: Vec<String>,
    pub before: Option<String>,
    pub since: Option<String>,
}

impl ListFilters {
    /// Validates keys and values like Docker (`invalid filter 'x'`, bad booleans).
    pub fn from_args(args: &BTreeMap<String, Vec<String>>) -> Result<Self> {
        let mut f = Self::default();
        for (key, values) in args {
            match key.as_str() {
                "dangling" => {
                    for v in values {
                        f.dangling = Some(match v.to_ascii_lowercase().as_str() {
                            "true" | "1" => true,
                            "false" | "0" => false,
                            _ => {
                                return Err(ImageError::InvalidParameter(format!(
                                    "Invalid filter 'dangling={v}'"
                                )))
                            }
                        });
                    }
                }
                "label" => f.labels.extend(values.iter().cloned()),
                "reference" => {
                    for v in values {
                        path_match(v, "").map_err(|()| {
                            ImageError::InvalidParameter(format!("syntax error in pattern: {v}"))
                        })?;
                    }
                    f.references.extend(values.iter().cloned())
                }
                "before" => f.before = values.last().cloned(),
                "since" => f.since = values.last().cloned(),
                other => {
                    return Err(ImageError::InvalidParameter(format!(
                        "invalid filter '{other}'"
                    )))
                }
            }
        }
        Ok(f)
    }
}

/// A row of `GET /images/json`.
#[derive(Debug, Clone)]
pub struct ImageSummary {
    pub image: Image,
    /// The tags shown (only those matching a `reference` filter, if one is given).
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub created_unix: i64,
}

impl ImageStore {
    /// Images matching `filters`, newest first (Docker's order). Untagged images
    /// come back with empty `repo_tags`; the API layer prints `<none>:<none>`.
    pub fn list(&self, filters: &ListFilters) -> Result<Vec<ImageSummary>> {
        let before = match &filters.before {
            Some(b) => Some(self.resolve(b)?.config.created_unix()),
            None => None,
        };
        let since = match &filters.since {
            Some(s) => Some(self.resolve(s)?.config.created_unix()),
            None => None,
        };
        let mut out = Vec::new();
        for image in self.all()? {
            let created = image.config.created_unix();
            if before.is_some_and(|b| created >= b) || since.is_some_and(|s| created <= s) {
                continue;
            }
            if !labels_match(&image, &filters.labels) {
                continue;
            }
            let keep = |r: &String| {
                filters.references.is_empty()
                    || filters.references.iter().any(|p| familiar_match(p, r))
            };
            let repo_tags: Vec<String> = image
                .repo_tags
                .iter()
                .filter(|r| keep(r))
                .cloned()
                .collect();
            let repo_digests: Vec<String> = image
                .repo_digests
                .iter()
                .filter(|r| keep(r))
                .cloned()
                .collect();
            let untagged = repo_tags.is_empty() && repo_digests.is_empty();
            if untagged && (!filters.references.is_empty() || filters.dangling == Some(false)) {
                continue;
            }
            if filters.dangling == Some(true) && !repo_tags.is_empty() {
                continue;
            }
            if filters.dangling == Some(true) && !image.repo_tags.is_empty() {
                continue;
            }
            out.push(ImageSummary {
                created_unix: created,
                repo_tags,
                repo_digests,
                image,
            });
        }
        out.sort_by(|a, b| {
            b.created_unix
                .cmp(&a.created_unix)
                .then(a.image.id.cmp(&b.image.id))
        });
        Ok(out)
    }
}

fn labels_match(image: &Image, wanted: &[String]) -> bool {
    let labels = image.config.labels();
    wanted.iter().all(|w| match w.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
        None => labels.contains_key(w),
    })
}

/// distribution/reference's `FamiliarMatch`: the pattern against the familiar string,
/// then against the familiar name alone.
fn familiar_match(pattern: &str, familiar: &str) -> bool {
    if path_match(pattern, familiar).unwrap_or(false) {
        return true;
    }
    Reference::parse_normalized(familiar)
        .map(|r| path_match(pattern, &r.familiar_name()).unwrap_or(false))
        .unwrap_or(false)
}
