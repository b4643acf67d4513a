//! Which volumes a `GET /volumes` or `POST /volumes/prune` filter selects, as moby's
//! volume service reads its filters (`filtersToBy`, `withPrune`).

use berth_api::Filters;
use berth_core::ErrorKind;

use super::record::VolumeRecord;
use super::ANONYMOUS_LABEL;
use crate::error::EngineError;

const LIST_FILTERS: &[&str] = &["dangling", "name", "driver", "label"];
const PRUNE_FILTERS: &[&str] = &["label", "label!", "all"];

fn invalid(msg: String) -> EngineError {
    EngineError::Other(ErrorKind::InvalidParameter, msg)
}

/// Go's `%s` of a `[]string`: `[a b]`.
fn go_list(filters: &Filters, key: &str) -> String {
    format!("[{}]", filters.get(key).collect::<Vec<_>>().join(" "))
}

/// A volume as the filters see it.
pub struct Candidate<'a> {
    pub rec: &'a VolumeRecord,
    pub referenced: bool,
}

/// A checked `GET /volumes` filter.
pub struct ListFilter<'a> {
    filters: &'a Filters,
    /// `dangling`: Some(true) keeps only unreferenced volumes.
    dangling: Option<bool>,
    names: Vec<Option<regex::Regex>>,
}

impl<'a> ListFilter<'a> {
    pub fn new(filters: &'a Filters) -> Result<Self, EngineError> {
        filters
            .validate(LIST_FILTERS)
            .map_err(|e| invalid(e.to_string()))?;
        let dangling = if filters.contains("dangling") {
            Some(bool_filter(filters, "dangling")?)
        } else {
            None
        };
        // moby tries each value as an exact name, then as an unanchored regexp; a value
        // that is no regexp only matches exactly.
        let names = filters
            .get("name")
            .map(|n| regex::Regex::new(n).ok())
            .collect();
        Ok(Self {
            filters,
            dangling,
            names,
        })
    }

    pub fn selects(&self, c: &Candidate) -> bool {
        let f = self.filters;
        if f.contains("driver") && !f.get("driver").any(|d| d == c.rec.driver) {
            return false;
        }
        if f.contains("name")
            && !f.get("name").zip(&self.names).any(|(value, re)| {
                value == c.rec.name || re.as_ref().is_some_and(|re| re.is_match(&c.rec.name))
            })
        {
            return false;
        }
        if !labels_match(f, c.rec) {
            return false;
        }
        self.dangling.is_none_or(|d| d != c.referenced)
    }
}

/// moby's `GetBoolOrDefault`: exactly one of true/1 and false/0 must be given.
fn bool_filter(filters: &Filters, key: &str) -> Result<bool, EngineError> {
    let values: Vec<&str> = filters.get(key).collect();
    if values.is_empty() {
        return Err(invalid(format!("invalid filter '{key}'")));
    }
    let is_true = values.iter().any(|v| matches!(*v, "1" | "true"));
    let is_false = values.iter().any(|v| matches!(*v, "0" | "false"));
    if is_true == is_false {
        return Err(invalid(format!(
            "invalid filter '{key}={}'",
            go_list(filters, key)
        )));
    }
    Ok(is_true)
}

/// `label` (all must match) and `label!` (excluded when all match), moby's `byLabelFilter`.
fn labels_match(f: &Filters, rec: &VolumeRecord) -> bool {
    let lookup = |k: &str| rec.labels.get(k).map(String::as_str);
    if f.contains("label") && (rec.labels.is_empty() || !f.match_kv_list("label", lookup)) {
        return false;
    }
    if f.contains("label!") && !rec.labels.is_empty() && f.match_kv_list("label!", lookup) {
        return false;
    }
    true
}

/// A checked `POST /volumes/prune` filter.
pub struct PruneFilter<'a> {
    filters: &'a Filters,
    /// `all=true`: named volumes too, not only anonymous ones.
    all: bool,
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

impl<'a> PruneFilter<'a> {
    pub fn new(filters: &'a Filters) -> Result<Self, EngineError> {
        let all_values: Vec<&str> = filters.get("all").collect();
        let all = match all_values.as_slice() {
            [] => false,
            [one] => parse_go_bool(one).ok_or_else(|| {
                invalid(format!(
                    "invalid filter 'all': strconv.ParseBool: parsing {one:?}: invalid syntax"
                ))
            })?,
            _ => {
                return Err(invalid(format!(
                    "invalid filter 'all={}': only one value is expected",
                    go_list(filters, "all")
                )))
            }
        };
        filters
            .validate(PRUNE_FILTERS)
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Self { filters, all })
    }

    /// Unreferenced local volumes without options (their space is not really local),
    /// anonymous unless `all`, and passing the label filters.
    pub fn selects(&self, c: &Candidate) -> bool {
        if c.referenced || c.rec.driver != super::LOCAL_DRIVER || !c.rec.options.is_empty() {
            return false;
        }
        if !self.all && !c.rec.labels.contains_key(ANONYMOUS_LABEL) {
            return false;
        }
        labels_match(self.filters, c.rec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn rec(name: &str, labels: &[(&str, &str)], options: &[(&str, &str)]) -> VolumeRecord {
        let map = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        VolumeRecord {
            name: name.into(),
            driver: "local".into(),
            created: String::new(),
            labels: map(labels),
            options: map(options),
        }
    }

    fn filters(args: &[&str]) -> Filters {
        Filters::from_cli_args(args.iter().copied()).unwrap()
    }

    fn listed(args: &[&str], vols: &[(VolumeRecord, bool)]) -> Result<Vec<String>, String> {
        let f = filters(args);
        let lf = ListFilter::new(&f).map_err(|e| e.to_string())?;
        Ok(vols
            .iter()
            .filter(|(r, referenced)| {
                lf.selects(&Candidate {
                    rec: r,
                    referenced: *referenced,
                })
            })
            .map(|(r, _)| r.name.clone())
            .collect())
    }

    fn volumes() -> Vec<(VolumeRecord, bool)> {
        vec![
            (rec("data", &[("env", "prod"), ("tier", "db")], &[]), true),
            (rec("cache", &[("env", "dev")], &[]), false),
            (rec("scratch", &[], &[("type", "tmpfs")]), false),
        ]
    }

    #[test]
    fn list_filters_select_like_moby() {
        let v = volumes();
        assert_eq!(listed(&[], &v).unwrap(), ["data", "cache", "scratch"]);
        assert_eq!(
            listed(&["dangling=true"], &v).unwrap(),
            ["cache", "scratch"]
        );
        assert_eq!(listed(&["dangling=0"], &v).unwrap(), ["data"]);
        assert_eq!(
            listed(&["name=a"], &v).unwrap(),
            ["data", "cache", "scratch"]
        );
        assert_eq!(listed(&["name=^ca"], &v).unwrap(), ["cache"]);
        assert_eq!(
            listed(&["name=dat", "name=scr"], &v).unwrap(),
            ["data", "scratch"]
        );
        assert_eq!(listed(&["name=[x"], &v).unwrap(), Vec::<String>::new());
        assert_eq!(listed(&["label=env"], &v).unwrap(), ["data", "cache"]);
        assert_eq!(listed(&["label=env=prod"], &v).unwrap(), ["data"]);
        assert_eq!(listed(&["label=env", "label=tier"], &v).unwrap(), ["data"]);
        assert_eq!(listed(&["driver=local"], &v).unwrap().len(), 3);
        assert!(listed(&["driver=nfs"], &v).unwrap().is_empty());
    }

    #[test]
    fn list_filter_errors_use_mobys_words() {
        let v = volumes();
        assert_eq!(
            listed(&["bogus=1"], &v).unwrap_err(),
            "invalid filter 'bogus'"
        );
        assert_eq!(
            listed(&["dangling=maybe"], &v).unwrap_err(),
            "invalid filter 'dangling=[maybe]'"
        );
        assert_eq!(
            listed(&["dangling=true", "dangling=false"], &v).unwrap_err(),
            "invalid filter 'dangling=[false true]'"
        );
        assert_eq!(
            listed(&["label!=x"], &v).unwrap_err(),
            "invalid filter 'label!'"
        );
    }

    fn pruned(args: &[&str], vols: &[(VolumeRecord, bool)]) -> Result<Vec<String>, String> {
        let f = filters(args);
        let pf = PruneFilter::new(&f).map_err(|e| e.to_string())?;
        Ok(vols
            .iter()
            .filter(|(r, referenced)| {
                pf.selects(&Candidate {
                    rec: r,
                    referenced: *referenced,
                })
            })
            .map(|(r, _)| r.name.clone())
            .collect())
    }

    #[test]
    fn prune_takes_anonymous_unless_all_and_never_used_or_optioned_ones() {
        let v = vec![
            (rec("anon1", &[(ANONYMOUS_LABEL, "")], &[]), false),
            (
                rec("anon2", &[(ANONYMOUS_LABEL, ""), ("keep", "1")], &[]),
                false,
            ),
            (rec("anon-used", &[(ANONYMOUS_LABEL, "")], &[]), true),
            (rec("named", &[], &[]), false),
            (
                rec("tmp", &[], &[("type", "tmpfs"), ("device", "tmpfs")]),
                false,
            ),
        ];
        assert_eq!(pruned(&[], &v).unwrap(), ["anon1", "anon2"]);
        assert_eq!(
            pruned(&["all=true"], &v).unwrap(),
            ["anon1", "anon2", "named"]
        );
        assert_eq!(pruned(&["all=0"], &v).unwrap(), ["anon1", "anon2"]);
        assert_eq!(pruned(&["label=keep"], &v).unwrap(), ["anon2"]);
        assert_eq!(pruned(&["label!=keep"], &v).unwrap(), ["anon1"]);
        assert_eq!(
            pruned(&["all=1", "label!=keep"], &v).unwrap(),
            ["anon1", "named"]
        );
    }

    #[test]
    fn prune_filter_errors_use_mobys_words() {
        let v = volumes();
        assert_eq!(
            pruned(&["until=1h"], &v).unwrap_err(),
            "invalid filter 'until'"
        );
        assert_eq!(
            pruned(&["all=yes"], &v).unwrap_err(),
            "invalid filter 'all': strconv.ParseBool: parsing \"yes\": invalid syntax"
        );
        assert_eq!(
            pruned(&["all=1", "all=true"], &v).unwrap_err(),
            "invalid filter 'all=[1 true]': only one value is expected"
        );
    }
}
