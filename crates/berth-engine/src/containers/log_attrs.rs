//! The extra attributes a container's log stores with every entry (`docker logs --details`
//! prints them): moby's `logger.Info.ExtraAttributes` (`labels`, `labels-regex`, `env`,
//! `env-regex` log options) plus `tag` (`loggerutils.ParseLogTag`, a Go template over the
//! container's logging info, with no default).

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::{json, Value};

use super::record::ContainerRecord;

/// The attributes for `rec`'s log options; `Err` is why the logger cannot start.
pub(crate) fn extra_attributes(rec: &ContainerRecord) -> Result<BTreeMap<String, String>, String> {
    let empty = std::collections::HashMap::new();
    let opts = rec
        .host_config
        .log_config
        .as_ref()
        .and_then(|l| l.config.as_ref())
        .unwrap_or(&empty);
    let opt = |k: &str| opts.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let labels = rec.config.labels.clone().unwrap_or_default();
    let mut extra = BTreeMap::new();
    if let Some(keys) = opt("labels") {
        for k in keys.split(',') {
            if let Some(v) = labels.get(k) {
                extra.insert(k.to_owned(), v.clone());
            }
        }
    }
    if let Some(re) = opt("labels-regex") {
        let re = compile(re)?;
        for (k, v) in &labels {
            if re.is_match(k) {
                extra.insert(k.clone(), v.clone());
            }
        }
    }
    // Later entries of a repeated variable win, as in a Go map built in order.
    let env: BTreeMap<&str, &str> = rec
        .config
        .env
        .iter()
        .flatten()
        .filter_map(|e| e.split_once('='))
        .collect();
    if let Some(keys) = opt("env") {
        for k in keys.split(',') {
            if let Some(v) = env.get(k) {
                extra.insert(k.to_owned(), (*v).to_owned());
            }
        }
    }
    if let Some(re) = opt("env-regex") {
        let re = compile(re)?;
        for (k, v) in &env {
            if re.is_match(k) {
                extra.insert((*k).to_owned(), (*v).to_owned());
            }
        }
    }
    if let Some(template) = opt("tag") {
        let tag = render_tag(template, rec, opts)?;
        if !tag.is_empty() {
            extra.insert("tag".to_owned(), tag);
        }
    }
    Ok(extra)
}

fn compile(re: &str) -> Result<Regex, String> {
    Regex::new(re).map_err(|e| format!("error parsing regexp: {e}"))
}

/// `tag`: a literal or a Go template over moby's `logger.Info` (its fields and methods).
fn render_tag(
    template: &str,
    rec: &ContainerRecord,
    opts: &std::collections::HashMap<String, String>,
) -> Result<String, String> {
    let image_name = rec.config.image.clone().unwrap_or_default();
    let image_hex = rec.image.strip_prefix("sha256:").unwrap_or(&rec.image);
    let mut command = vec![rec.path.clone()];
    command.extend(rec.args.iter().cloned());
    let hostname = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    let info = json!({
        "Config": opts,
        "ContainerID": rec.id,
        "ContainerName": format!("/{}", rec.name),
        "ContainerEntrypoint": rec.path,
        "ContainerArgs": rec.args,
        "ContainerImageID": rec.image,
        "ContainerImageName": image_name,
        "ContainerCreated": rec.created,
        "ContainerEnv": rec.config.env.clone().unwrap_or_default(),
        "ContainerLabels": rec.config.labels.clone().unwrap_or_default(),
        "LogPath": rec.log_path,
        "DaemonName": "docker",
        "ID": short(&rec.id),
        "FullID": rec.id,
        "Name": rec.name,
        "ImageID": short(image_hex),
        "ImageFullID": rec.image,
        "ImageName": image_name,
        "Command": command.join(" "),
        "Hostname": hostname,
    });
    let parsed =
        berth_format::Template::parse_named("log-tag", template).map_err(|e| e.to_string())?;
    parsed.render(&info).map_err(|e| e.to_string())
}

fn short(id: &str) -> Value {
    Value::String(id.chars().take(12).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::models::{ContainerConfig, HostConfig, HostConfigLogConfig};

    fn record(opts: &[(&str, &str)]) -> ContainerRecord {
        let hc = HostConfig {
            log_config: Some(HostConfigLogConfig {
                typ: Some("json-file".into()),
                config: Some(
                    opts.iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                ),
            }),
            ..Default::default()
        };
        let config = ContainerConfig {
            image: Some("busybox".into()),
            env: Some(vec![
                "PATH=/bin".into(),
                "FOO=bar".into(),
                "FOO_2=baz".into(),
            ]),
            labels: Some(
                [("a", "1"), ("b", "2"), ("com.x", "y")]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
            ),
            ..Default::default()
        };
        let mut rec: ContainerRecord = serde_json::from_value(json!({
            "id": "0123456789abcdef".repeat(4), "name": "web", "created": "",
            "image": format!("sha256:{}", "fe".repeat(32)), "config": {}, "host_config": {},
            "path": "sh", "args": ["-c", "echo hi"], "restart_count": 0,
            "state": serde_json::to_value(super::super::record::State::default()).unwrap(),
            "manually_stopped": false, "driver": "overlay2", "log_path": "",
        }))
        .unwrap();
        rec.config = config;
        rec.host_config = hc;
        rec
    }

    fn attrs(opts: &[(&str, &str)]) -> Vec<(String, String)> {
        extra_attributes(&record(opts))
            .unwrap()
            .into_iter()
            .collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn labels_and_env_pick_what_exists() {
        assert_eq!(
            attrs(&[("labels", "a,missing"), ("env", "FOO,NOPE")]),
            pairs(&[("FOO", "bar"), ("a", "1")])
        );
        assert_eq!(
            attrs(&[("labels-regex", "^com\\."), ("env-regex", "_2$")]),
            pairs(&[("FOO_2", "baz"), ("com.x", "y")])
        );
        assert!(attrs(&[("max-size", "1m")]).is_empty());
    }

    #[test]
    fn tag_is_a_template_over_the_logging_info() {
        assert_eq!(
            attrs(&[("tag", "{{.Name}}/{{.ID}}/{{.ImageName}}/{{.ImageID}}")]),
            pairs(&[("tag", "web/0123456789ab/busybox/fefefefefefe")])
        );
        assert_eq!(
            attrs(&[("tag", "{{.Command}}|{{.DaemonName}}")]),
            pairs(&[("tag", "sh -c echo hi|docker")])
        );
        assert_eq!(attrs(&[("tag", "plain")]), pairs(&[("tag", "plain")]));
    }

    #[test]
    fn a_bad_regex_or_template_is_an_error() {
        assert!(extra_attributes(&record(&[("env-regex", "(")])).is_err());
        assert!(extra_attributes(&record(&[("tag", "{{.Name")])).is_err());
    }
}
