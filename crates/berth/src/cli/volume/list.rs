//! `volume ls`: volumes sorted by name (naturally), as docker's `volumeContext` shows
//! them, in the default table, `raw`, `json` or a template.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use berth_api::Filters;
use berth_format::{Format, RowContext};
use clap::ArgAction;
use serde_json::{json, Value};

use crate::cli::container::{label_method, values};
use crate::cli::natural;
use crate::cli::query::Query;
use crate::cli::units::human_size_precision;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Only display volume names
    #[arg(short = 'q', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub quiet: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Provide filter values (e.g. "dangling=true")
    #[arg(short = 'f', long = "filter", value_parser = values::filter)]
    pub filters: Vec<String>,
}

pub const TABLE: &str = "{{.Driver}}\t{{.Name}}";
const RAW: &str = "name: {{.Name}}\\ndriver: {{.Driver}}\\n";

pub const HEADERS: &[(&str, &str)] = &[
    ("ID", "ID"),
    ("Name", "VOLUME NAME"),
    ("Group", "GROUP"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("Availability", "AVAILABILITY"),
    ("Mountpoint", "MOUNTPOINT"),
    ("Labels", "LABELS"),
    ("Links", "LINKS"),
    ("Size", "SIZE"),
    ("Status", "STATUS"),
];

pub const CONTEXT: RowContext<'static> = RowContext {
    headers: HEADERS,
    type_name: Some("*formatter.volumeContext"),
    methods: &[("Label", label_method)],
};

/// The `--format` docker would use, given `--quiet` (`formatter.NewVolumeFormat`).
fn volume_format(source: &str, quiet: bool) -> Format {
    match (source, quiet) {
        ("" | "table", true) => Format::Template("{{.Name}}".into()),
        ("raw", true) => Format::Template("name: {{.Name}}".into()),
        ("raw", false) => Format::Template(RAW.into()),
        (other, _) => Format::parse(other, TABLE),
    }
}

/// `k=v` pairs joined by commas, sorted by key (docker's order is Go's map order).
fn labels(labels: &Value) -> String {
    labels
        .as_object()
        .map(|m| {
            let mut pairs: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect();
            pairs.sort();
            pairs.join(",")
        })
        .unwrap_or_default()
}

/// One volume as docker's `volumeContext` presents it; keys sorted as its JSON.
pub fn row(v: &Value) -> Value {
    let s = |key: &str| v[key].as_str().unwrap_or_default().to_owned();
    let usage = &v["UsageData"];
    let (links, size) = if usage.is_object() {
        (
            usage["RefCount"].as_i64().unwrap_or(0).to_string(),
            human_size_precision(usage["Size"].as_i64().unwrap_or(0) as f64, 4),
        )
    } else {
        ("N/A".to_owned(), "N/A".to_owned())
    };
    json!({
        "Availability": "N/A",
        "Driver": s("Driver"),
        "Group": "N/A",
        "Labels": labels(&v["Labels"]),
        "Links": links,
        "Mountpoint": s("Mountpoint"),
        "Name": s("Name"),
        "Scope": s("Scope"),
        "Size": size,
        "Status": "N/A",
    })
}

/// Renders `volumes` (as `GET /volumes` returns them) sorted by name.
fn render(out: &mut dyn Write, volumes: &[Value], format: &str, quiet: bool) -> Result<()> {
    let mut volumes: Vec<&Value> = volumes.iter().collect();
    volumes.sort_by(|a, b| {
        natural::compare(
            a["Name"].as_str().unwrap_or_default(),
            b["Name"].as_str().unwrap_or_default(),
        )
    });
    let rows: Vec<Value> = volumes.iter().map(|v| row(v)).collect();
    volume_format(format, quiet).render_rows(&rows, &CONTEXT, out)?;
    Ok(())
}

pub async fn list(g: &GlobalOptions, args: ListArgs) -> Result<ExitCode> {
    let filters = Filters::from_cli_args(args.filters.iter().map(String::as_str))
        .map_err(anyhow::Error::msg)?;
    let mut q = Query::new();
    if !filters.is_empty() {
        q.push("filters", &filters.to_json());
    }
    let mut client = g.client()?;
    let list: Value = client.get_json(&q.path("/volumes")).await?;
    let volumes = list["Volumes"].as_array().cloned().unwrap_or_default();
    // Rendered whole before printing: a template error leaves stdout empty, as docker's.
    let mut out = Vec::new();
    render(
        &mut out,
        &volumes,
        args.format.as_deref().unwrap_or_default(),
        args.quiet,
    )?;
    std::io::stdout().write_all(&out)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn volumes() -> Vec<Value> {
        vec![
            json!({"CreatedAt": "2026-01-02T03:04:05Z", "Driver": "local", "Labels": {"z": "", "x": "y"},
                   "Mountpoint": "/v/vol10/_data", "Name": "vol10", "Options": null, "Scope": "local"}),
            json!({"CreatedAt": "2026-01-02T03:04:05Z", "Driver": "local", "Labels": null,
                   "Mountpoint": "/v/vol2/_data", "Name": "vol2", "Options": null, "Scope": "local"}),
        ]
    }

    fn text(format: &str, quiet: bool) -> String {
        let mut out = Vec::new();
        render(&mut out, &volumes(), format, quiet).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn default_table_sorts_names_naturally() {
        let expected = "DRIVER    VOLUME NAME\nlocal     vol2\nlocal     vol10\n";
        assert_eq!(text("", false), expected);
        assert_eq!(text("table", false), expected);
        assert_eq!(text("", true), "vol2\nvol10\n");
        assert_eq!(text("raw", true), "name: vol2\nname: vol10\n");
        assert_eq!(
            text("raw", false),
            "name: vol2\ndriver: local\n\nname: vol10\ndriver: local\n\n"
        );
    }

    #[test]
    fn templates_json_and_labels() {
        assert_eq!(
            text(
                "{{.Name}} {{.Labels}} {{.Label \"x\"}} {{.Links}} {{.Size}} {{.Scope}}",
                false
            ),
            "vol2   N/A N/A local\nvol10 x=y,z= y N/A N/A local\n"
        );
        assert_eq!(
            text("json", false).lines().next().unwrap(),
            r#"{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"","Links":"N/A","Mountpoint":"/v/vol2/_data","Name":"vol2","Scope":"local","Size":"N/A","Status":"N/A"}"#
        );
        assert_eq!(
            text("table {{.Name}}\t{{.Mountpoint}}", false),
            "VOLUME NAME   MOUNTPOINT\nvol2          /v/vol2/_data\nvol10         /v/vol10/_data\n"
        );
        let mut out = Vec::new();
        let err = render(&mut out, &volumes(), "{{.Bogus}}", false).unwrap_err();
        assert!(
            err.to_string()
                .contains("can't evaluate field Bogus in type *formatter.volumeContext"),
            "{err}"
        );
    }
}
