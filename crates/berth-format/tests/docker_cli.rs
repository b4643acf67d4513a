//! Live comparison with the docker CLI, where one is installed: rows come
//! from `docker context ls --format '{{json .}}'` (no daemon needed) and
//! each format must render exactly as docker renders it.

use std::process::Command;

use berth_format::{Format, RowContext};
use serde_json::Value;

fn docker(format: &str) -> Option<String> {
    let out = Command::new("docker")
        .args(["context", "ls", "--format", format])
        .output()
        .ok()?;
    let mut text = String::from_utf8(out.stdout).ok()?;
    text.push_str(&String::from_utf8(out.stderr).ok()?);
    Some(text)
}

#[test]
fn context_ls_formats_match_docker() {
    // The docker CLI is a test dependency (scripts/install-deps.sh checks for it): a
    // missing one is a failure, not a skip.
    let lines = docker("{{json .}}").expect("the docker CLI must be installed for this test");
    let rows: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("docker printed JSON rows"))
        .collect();
    let ctx = RowContext {
        headers: &[
            ("Name", "NAME"),
            ("Description", "DESCRIPTION"),
            ("DockerEndpoint", "DOCKER ENDPOINT"),
            ("Error", "ERROR"),
        ],
        type_name: Some("*formatter.clientContextContext"),
        ..RowContext::default()
    };
    let default_table =
        "{{.Name}}{{if .Current}} *{{end}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}";
    let formats = [
        "",
        "table",
        "json",
        r"table {{.Name}}\t{{.DockerEndpoint}}",
        r"table {{upper .Name}}\t{{json .Description}}\t{{truncate .Name 3}}|",
        r#"table {{pad .Name 1 1}}\t{{split .Name "-"}}\t{{len .Name}}"#,
        r"{{.Name}}\t{{.Current}}",
        r"{{range $i, $c := split .DockerEndpoint `/`}}{{$i}}={{$c}};{{end}}",
        r"{{printf `%-12s|%5.1f|%q` .Name 2.25 .Description}}",
        "table {{.Name}}{{.Nope}}",
        "{{.Name",
    ];
    for format in formats {
        let expected = docker(format).expect("docker runs");
        let mut out = Vec::new();
        let result = Format::parse(format, default_table).render_rows(&rows, &ctx, &mut out);
        let mut got = String::from_utf8(out).expect("utf-8");
        if let Err(e) = result {
            got.push_str(&format!("{e}\n"));
        }
        assert_eq!(got, expected, "format {format:?}");
    }
}
