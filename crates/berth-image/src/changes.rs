//! `docker import --change` / `docker commit --change`: the Dockerfile instructions that
//! only touch the image config.

use serde_json::{json, Map, Value};

use crate::{ImageError, Result};

/// Applies each change line to a Docker container-config JSON object.
/// As in a Dockerfile, `ENTRYPOINT` clears `Cmd` unless a `CMD` came before it.
pub fn apply_changes(config: &mut Map<String, Value>, changes: &[String]) -> Result<()> {
    let mut cmd_set = false;
    for line in changes {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (instr, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let rest = rest.trim();
        let lower = instr.to_ascii_lowercase();
        match lower.as_str() {
            "cmd" => {
                config.insert("Cmd".into(), json!(command_form(rest)?));
                cmd_set = true;
            }
            "entrypoint" => {
                config.insert("Entrypoint".into(), json!(command_form(rest)?));
                if !cmd_set {
                    config.insert("Cmd".into(), Value::Null);
                }
            }
            "env" => {
                let env = config.entry("Env").or_insert_with(|| json!([]));
                for (k, v) in key_values(rest, "ENV")? {
                    let list = env.as_array_mut().expect("Env is an array");
                    list.retain(|e| {
                        e.as_str().and_then(|s| s.split_once('=')).map(|p| p.0) != Some(k.as_str())
                    });
                    list.push(json!(format!("{k}={v}")));
                }
            }
            "label" => {
                let labels = config.entry("Labels").or_insert_with(|| json!({}));
                for (k, v) in key_values(rest, "LABEL")? {
                    labels
                        .as_object_mut()
                        .expect("Labels is an object")
                        .insert(k, json!(v));
                }
            }
            "expose" => {
                let ports = config.entry("ExposedPorts").or_insert_with(|| json!({}));
                for p in rest.split_whitespace() {
                    let port = if p.contains('/') {
                        p.to_ascii_lowercase()
                    } else {
                        format!("{p}/tcp")
                    };
                    ports
                        .as_object_mut()
                        .expect("ExposedPorts is an object")
                        .insert(port, json!({}));
                }
            }
            "volume" => {
                let vols = config.entry("Volumes").or_insert_with(|| json!({}));
                let list = if rest.starts_with('[') {
                    json_array(rest)?
                } else {
                    rest.split_whitespace().map(str::to_owned).collect()
                };
                for v in list {
                    vols.as_object_mut()
                        .expect("Volumes is an object")
                        .insert(v, json!({}));
                }
            }
            "user" => {
                config.insert("User".into(), json!(rest));
            }
            "workdir" => {
                config.insert("WorkingDir".into(), json!(rest));
            }
            "stopsignal" => {
                config.insert("StopSignal".into(), json!(rest));
            }
            "onbuild" => {
                let list = config.entry("OnBuild").or_insert_with(|| json!([]));
                list.as_array_mut()
                    .expect("OnBuild is an array")
                    .push(json!(rest));
            }
            _ => {
                return Err(ImageError::InvalidParameter(format!(
                    "{lower} is not a valid change command"
                )))
            }
        }
    }
    Ok(())
}

/// JSON (exec) form, or shell form wrapped in `/bin/sh -c`.
fn command_form(rest: &str) -> Result<Vec<String>> {
    if rest.starts_with('[') {
        if let Ok(v) = json_array(rest) {
            return Ok(v);
        }
    }
    Ok(vec!["/bin/sh".into(), "-c".into(), rest.to_owned()])
}

fn json_array(s: &str) -> Result<Vec<String>> {
    serde_json::from_str(s)
        .map_err(|e| ImageError::InvalidParameter(format!("invalid JSON array {s:?}: {e}")))
}

/// `k=v k2="v 2"` pairs, or the legacy `k v` single pair.
fn key_values(rest: &str, instr: &str) -> Result<Vec<(String, String)>> {
    let words = split_words(rest);
    if words.is_empty() {
        return Err(ImageError::InvalidParameter(format!(
            "{instr} requires at least one argument"
        )));
    }
    if !words[0].contains('=') {
        let (k, v) = rest.split_once(char::is_whitespace).ok_or_else(|| {
            ImageError::InvalidParameter(format!("{instr} must have two arguments"))
        })?;
        return Ok(vec![(k.to_owned(), unquote(v.trim()))]);
    }
    words
        .iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (unquote(k), unquote(v)))
                .ok_or_else(|| {
                    ImageError::InvalidParameter(format!(
                        "Syntax error - can't find = in {w:?}. Must be of the form: name=value"
                    ))
                })
        })
        .collect()
}

/// Splits on whitespace outside double or single quotes, keeping the quotes.
fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (_, '\\') => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn unquote(s: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => out.push(c),
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_each_supported_instruction() {
        let mut c = Map::new();
        let changes: Vec<String> = [
            r#"CMD ["sh", "-c", "echo hi"]"#,
            "ENTRYPOINT /entry.sh --flag",
            "ENV A=1 B=\"two words\"",
            "ENV LEGACY some value",
            "ENV A=3",
            "LABEL org.x=\"y z\" k=v",
            "EXPOSE 80 53/UDP",
            "VOLUME /data /logs",
            "USER 1000:1000",
            "WORKDIR /srv",
            "STOPSIGNAL SIGTERM",
            "ONBUILD RUN echo later",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        apply_changes(&mut c, &changes).unwrap();
        let v = Value::Object(c);
        assert_eq!(v["Cmd"], json!(["sh", "-c", "echo hi"]));
        assert_eq!(
            v["Entrypoint"],
            json!(["/bin/sh", "-c", "/entry.sh --flag"])
        );
        assert_eq!(v["Env"], json!(["B=two words", "LEGACY=some value", "A=3"]));
        assert_eq!(v["Labels"], json!({"org.x": "y z", "k": "v"}));
        assert_eq!(v["ExposedPorts"], json!({"80/tcp": {}, "53/udp": {}}));
        assert_eq!(v["Volumes"], json!({"/data": {}, "/logs": {}}));
        assert_eq!(v["User"], json!("1000:1000"));
        assert_eq!(v["WorkingDir"], json!("/srv"));
        assert_eq!(v["StopSignal"], json!("SIGTERM"));
        assert_eq!(v["OnBuild"], json!(["RUN echo later"]));
    }

    #[test]
    fn entrypoint_clears_cmd_unless_cmd_came_first() {
        let mut c = Map::new();
        c.insert("Cmd".into(), json!(["sh"]));
        apply_changes(&mut c, &[r#"ENTRYPOINT ["top"]"#.to_owned()]).unwrap();
        assert_eq!(c["Cmd"], Value::Null);
        let mut c = Map::new();
        let lines = [
            r#"CMD ["-b"]"#.to_owned(),
            r#"ENTRYPOINT ["top"]"#.to_owned(),
        ];
        apply_changes(&mut c, &lines).unwrap();
        assert_eq!(c["Cmd"], json!(["-b"]));
    }

    #[test]
    fn rejects_instructions_that_need_a_build() {
        let err = apply_changes(&mut Map::new(), &["RUN rm -rf /".to_owned()]).unwrap_err();
        assert_eq!(err.to_string(), "run is not a valid change command");
    }
}
