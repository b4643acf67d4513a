//! The `filters` query parameter: a JSON object in one of two shapes, both accepted as
//! moby's `filters.FromJSON` does. The docker CLI sends a map of sets
//! (`{"label":{"a=b":true}}`), docker-py sends lists (`{"label":["a=b"]}`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;

/// Parsed filters: key → set of values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    fields: BTreeMap<String, BTreeSet<String>>,
}

/// A filter the request got wrong; the message is moby's (`invalid filter 'key'`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("invalid filter")]
    Malformed,
    #[error("invalid filter '{0}'")]
    UnknownKey(String),
    #[error("invalid filter '{key}={value}'")]
    InvalidValue { key: String, value: String },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Shape {
    Sets(HashMap<String, HashMap<String, bool>>),
    Lists(HashMap<String, Vec<String>>),
}

impl Filters {
    /// Parses the `filters` parameter; an empty string means no filters.
    pub fn from_json(raw: &str) -> Result<Self, FilterError> {
        if raw.trim().is_empty() {
            return Ok(Self::default());
        }
        let shape: Shape = serde_json::from_str(raw).map_err(|_| FilterError::Malformed)?;
        let mut filters = Self::default();
        match shape {
            Shape::Sets(map) => {
                for (key, values) in map {
                    let set = filters.fields.entry(key).or_default();
                    set.extend(values.into_iter().filter(|(_, on)| *on).map(|(v, _)| v));
                }
            }
            Shape::Lists(map) => {
                for (key, values) in map {
                    filters.fields.entry(key).or_default().extend(values);
                }
            }
        }
        Ok(filters)
    }

    /// Serialises in the map-of-sets shape the docker CLI sends.
    pub fn to_json(&self) -> String {
        let map: BTreeMap<&str, BTreeMap<&str, bool>> = self
            .fields
            .iter()
            .map(|(k, vs)| (k.as_str(), vs.iter().map(|v| (v.as_str(), true)).collect()))
            .collect();
        serde_json::to_string(&map).unwrap_or_else(|_| "{}".to_owned())
    }

    /// Parses the CLI's `--filter key=value` arguments.
    pub fn from_cli_args<'a>(args: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut filters = Self::default();
        for arg in args {
            let (key, value) = arg
                .split_once('=')
                .ok_or_else(|| "bad format of filter (expected name=value)".to_owned())?;
            filters.add(key.trim().to_lowercase(), value.trim().to_owned());
        }
        Ok(filters)
    }

    pub fn add(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.fields
            .entry(key.into())
            .or_default()
            .insert(value.into());
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Rejects keys outside `accepted`, as each endpoint's handler does in moby.
    pub fn validate(&self, accepted: &[&str]) -> Result<(), FilterError> {
        match self.fields.keys().find(|k| !accepted.contains(&k.as_str())) {
            Some(k) => Err(FilterError::UnknownKey(k.clone())),
            None => Ok(()),
        }
    }

    pub fn contains(&self, key: &str) -> bool {
        self.fields.contains_key(key)
    }

    /// The values given for `key` (empty when absent).
    pub fn get(&self, key: &str) -> impl Iterator<Item = &str> {
        self.fields
            .get(key)
            .into_iter()
            .flat_map(|vs| vs.iter().map(String::as_str))
    }

    /// True when `key` is unset or one of its values equals `source`.
    pub fn exact_match(&self, key: &str, source: &str) -> bool {
        match self.fields.get(key) {
            None => true,
            Some(vs) => vs.is_empty() || vs.contains(source),
        }
    }

    /// True when `key` is unset or one of its values equals, or is a prefix of, `source`.
    pub fn fuzzy_match(&self, key: &str, source: &str) -> bool {
        match self.fields.get(key) {
            None => true,
            Some(vs) => vs.is_empty() || vs.iter().any(|v| source.starts_with(v.as_str())),
        }
    }

    /// Label-style matching: every `k` or `k=v` value of `key` must be present in `sources`.
    pub fn match_kv_list<'a>(
        &self,
        key: &str,
        mut lookup: impl FnMut(&str) -> Option<&'a str>,
    ) -> bool {
        let Some(values) = self.fields.get(key) else {
            return true;
        };
        values.iter().all(|value| match value.split_once('=') {
            Some((k, v)) => lookup(k) == Some(v),
            None => lookup(value).is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_wire_shapes_parse_to_the_same_filters() {
        let cli =
            Filters::from_json(r#"{"label":{"a=b":true,"c":true},"type":{"x":true}}"#).unwrap();
        let py = Filters::from_json(r#"{"label":["a=b","c"],"type":["x"]}"#).unwrap();
        assert_eq!(cli, py);
        assert_eq!(cli.get("label").collect::<Vec<_>>(), ["a=b", "c"]);
    }

    #[test]
    fn empty_and_malformed_input() {
        assert!(Filters::from_json("").unwrap().is_empty());
        assert_eq!(Filters::from_json("{bad"), Err(FilterError::Malformed));
        assert_eq!(
            Filters::from_json(r#"{"a":"b"}"#),
            Err(FilterError::Malformed)
        );
    }

    #[test]
    fn round_trips_through_the_cli_shape() {
        let f = Filters::from_cli_args(["type=container", "label=x=y"]).unwrap();
        assert_eq!(Filters::from_json(&f.to_json()).unwrap(), f);
        assert_eq!(f.get("label").collect::<Vec<_>>(), ["x=y"]);
        assert!(Filters::from_cli_args(["novalue"]).is_err());
    }

    #[test]
    fn validate_names_the_unknown_key() {
        let f = Filters::from_json(r#"{"bogus":["1"]}"#).unwrap();
        let err = f.validate(&["type"]).unwrap_err();
        assert_eq!(err.to_string(), "invalid filter 'bogus'");
        assert!(f.validate(&["bogus"]).is_ok());
    }

    #[test]
    fn matching_rules_follow_moby() {
        let f = Filters::from_cli_args(["container=web", "label=env=prod", "label=tier"]).unwrap();
        assert!(f.fuzzy_match("container", "web-1"));
        assert!(!f.fuzzy_match("container", "db"));
        assert!(!f.exact_match("container", "web-1"));
        assert!(f.exact_match("type", "anything"));
        let labels = |k: &str| match k {
            "env" => Some("prod"),
            "tier" => Some("front"),
            _ => None,
        };
        assert!(f.match_kv_list("label", labels));
        let wrong = |k: &str| if k == "env" { Some("dev") } else { Some("x") };
        assert!(!f.match_kv_list("label", wrong));
    }
}
