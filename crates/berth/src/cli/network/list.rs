//! `network ls`: networks sorted by name (naturally), as docker's `networkContext` shows
//! them, in the default table, `raw`, `json` or a template.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use berth_api::Filters;
use berth_format::{Format, RowContext};
use clap::ArgAction;
use serde_json::{json, Value};

use crate::cli::container::{label_method, values};
use crate::cli::images::short_id;
use crate::cli::natural;
use crate::cli::query::Query;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Only display network IDs
    #[arg(short = 'q', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub quiet: bool,
    /// Do not truncate the output
    #[arg(long = "no-trunc", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub no_trunc: bool,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Provide filter values (e.g. "driver=bridge")
    #[arg(short = 'f', long = "filter", value_parser = values::filter)]
    pub filters: Vec<String>,
}

const TABLE: &str = "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";
const RAW: &str =
    "network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: {{.Driver}}\\nscope: {{.Scope}}\\n";

const HEADERS: &[(&str, &str)] = &[
    ("ID", "NETWORK ID"),
    ("Name", "NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("IPv4", "IPV4"),
    ("IPv6", "IPV6"),
    ("Internal", "INTERNAL"),
    ("Labels", "LABELS"),
    ("CreatedAt", "CREATED AT"),
];

/// The `--format` docker would use, given `--quiet` (`network.NewFormat`).
fn network_format(source: &str, quiet: bool) -> Format {
    match (source, quiet) {
        ("" | "table", true) => Format::Template("{{.ID}}".into()),
        ("raw", true) => Format::Template("network_id: {{.ID}}".into()),
        ("raw", false) => Format::Template(RAW.into()),
        (other, _) => Format::parse(other, TABLE),
    }
}

/// Go's `time.Time.String()` for an RFC 3339 time from the daemon:
/// `2026-11-23 13:10:43.540509486 +0000 UTC` (trailing zeros of the fraction dropped).
fn go_time_string(rfc3339: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(rfc3339) else {
        return "0001-01-01 00:00:00 +0000 UTC".into();
    };
    let nanos = format!("{:09}", t.timestamp_subsec_nanos());
    let fraction = nanos.trim_end_matches('0');
    let offset = t.format("%z").to_string();
    // Go names a zero offset UTC; any other parsed offset has no name but itself.
    let zone = if t.offset().local_minus_utc() == 0 {
        "UTC".to_owned()
    } else {
        offset.clone()
    };
    let dot = if fraction.is_empty() { "" } else { "." };
    format!(
        "{}{dot}{fraction} {offset} {zone}",
        t.format("%Y-%m-%d %H:%M:%S")
    )
}

/// `k=v` pairs joined by commas, sorted by key.
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

/// One network as docker's `networkContext` presents it; keys sorted as its JSON.
fn row(n: &Value, trunc: bool) -> Value {
    let flag = |key: &str| n[key].as_bool().unwrap_or(false).to_string();
    json!({
        "CreatedAt": go_time_string(n["Created"].as_str().unwrap_or_default()),
        "Driver": n["Driver"].as_str().unwrap_or_default(),
        "ID": short_id(n["Id"].as_str().unwrap_or_default(), !trunc),
        "IPv4": flag("EnableIPv4"),
        "IPv6": flag("EnableIPv6"),
        "Internal": flag("Internal"),
        "Labels": labels(&n["Labels"]),
        "Name": n["Name"].as_str().unwrap_or_default(),
        "Scope": n["Scope"].as_str().unwrap_or_default(),
    })
}

/// Renders `networks` (as `GET /networks` returns them) sorted by name.
fn render(
    out: &mut dyn Write,
    networks: &[Value],
    format: &str,
    quiet: bool,
    trunc: bool,
) -> Result<()> {
    let mut networks: Vec<&Value> = networks.iter().collect();
    networks.sort_by(|a, b| {
        natural::compare(
            a["Name"].as_str().unwrap_or_default(),
            b["Name"].as_str().unwrap_or_default(),
        )
    });
    let rows: Vec<Value> = networks.iter().map(|n| row(n, trunc)).collect();
    let ctx = RowContext {
        headers: HEADERS,
        type_name: Some("*network.networkContext"),
        methods: &[("Label", label_method)],
    };
    network_format(format, quiet).render_rows(&rows, &ctx, out)?;
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
    let networks: Vec<Value> = client.get_json(&q.path("/networks")).await?;
    // Rendered whole before printing: a template error leaves stdout empty, as docker's.
    let mut out = Vec::new();
    render(
        &mut out,
        &networks,
        args.format.as_deref().unwrap_or_default(),
        args.quiet,
        !args.no_trunc,
    )?;
    std::io::stdout().write_all(&out)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST_ID: &str = "ec1f061ca93e3b27c5835ab4ba064a10c6eb1f3d124ca628f67f3c9bed705e66";
    const N10_ID: &str = "a254c764d91544de92f3b2de59e5f43e50573a4d76abcc5cec3dffcd2fde9515";
    const N2_ID: &str = "98974ba910f13b604f4b2eda2b645d873e8606d0cf8bcb49be46568ff40b752e";

    fn networks() -> Vec<Value> {
        vec![
            json!({"Name": "n10", "Id": N10_ID, "Created": "2026-11-23T13:10:51.17096Z",
                   "Scope": "local", "Driver": "bridge", "EnableIPv6": true, "Internal": false,
                   "Labels": {"z": "", "x": "y"}}),
            json!({"Name": "host", "Id": HOST_ID, "Created": "2026-11-23T13:10:43.540509486Z",
                   "Scope": "local", "Driver": "host", "EnableIPv6": false, "Labels": {}}),
            json!({"Name": "n2", "Id": N2_ID, "Created": "2026-11-23T15:10:00+02:00",
                   "Scope": "local", "Driver": "bridge", "EnableIPv4": true, "Internal": true,
                   "Labels": {}}),
        ]
    }

    fn text(format: &str, quiet: bool, trunc: bool) -> String {
        let mut out = Vec::new();
        render(&mut out, &networks(), format, quiet, trunc).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn default_table_sorts_names_naturally() {
        let expected = "NETWORK ID     NAME      DRIVER    SCOPE\n\
                        ec1f061ca93e   host      host      local\n\
                        98974ba910f1   n2        bridge    local\n\
                        a254c764d915   n10       bridge    local\n";
        assert_eq!(text("", false, true), expected);
        assert_eq!(text("table", false, true), expected);
    }

    #[test]
    fn quiet_and_no_trunc() {
        assert_eq!(
            text("", true, true),
            "ec1f061ca93e\n98974ba910f1\na254c764d915\n"
        );
        assert_eq!(
            text("", true, false),
            format!("{HOST_ID}\n{N2_ID}\n{N10_ID}\n")
        );
        // A template given with --quiet wins, as in docker.
        assert_eq!(text("{{.Name}}", true, true), "host\nn2\nn10\n");
        assert_eq!(
            text("raw", true, true),
            "network_id: ec1f061ca93e\nnetwork_id: 98974ba910f1\nnetwork_id: a254c764d915\n"
        );
    }

    #[test]
    fn raw_json_and_extra_columns() {
        assert!(text("raw", false, true).starts_with(
            "network_id: ec1f061ca93e\nname: host\ndriver: host\nscope: local\n\nnetwork_id: 98974ba910f1\n"
        ));
        let json_lines = text("json", false, true);
        assert_eq!(
            json_lines.lines().next().unwrap(),
            r#"{"CreatedAt":"2026-11-23 13:10:43.540509486 +0000 UTC","Driver":"host","ID":"ec1f061ca93e","IPv4":"false","IPv6":"false","Internal":"false","Labels":"","Name":"host","Scope":"local"}"#
        );
        assert_eq!(
            text(
                r"{{.Name}} {{.IPv4}} {{.IPv6}} {{.Internal}} {{.Labels}} {{.Label `x`}}|",
                false,
                true
            ),
            "host false false false  |\nn2 true false true  |\nn10 false true false x=y,z= y|\n"
        );
    }

    #[test]
    fn created_at_reads_like_go() {
        assert_eq!(
            go_time_string("2026-11-23T13:10:51.170960Z"),
            "2026-11-23 13:10:51.17096 +0000 UTC"
        );
        assert_eq!(
            go_time_string("2026-11-23T15:10:00+02:00"),
            "2026-11-23 15:10:00 +0200 +0200"
        );
        assert_eq!(
            go_time_string("0001-01-01T00:00:00Z"),
            "0001-01-01 00:00:00 +0000 UTC"
        );
    }

    #[test]
    fn unknown_fields_are_errors_naming_dockers_type() {
        let mut out = Vec::new();
        let err = render(&mut out, &networks(), "{{.Bogus}}", false, true).unwrap_err();
        assert!(
            err.to_string()
                .contains("can't evaluate field Bogus in type *network.networkContext"),
            "{err}"
        );
        assert!(out.is_empty());
    }
}
