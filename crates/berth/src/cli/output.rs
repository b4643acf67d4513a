//! Rendering command output through `berth-format`, with docker/cli's conventions: list
//! commands take `table …`, `json` or a template; single objects (version, info, events)
//! take `json` or a template.

use std::io::Write;

use anyhow::Result;
use berth_format::{render_inspect, Format, RowContext, Template};
use serde_json::Value;

/// One object: `json` prints it as a line of JSON, anything else is a template.
pub fn render_one(out: &mut dyn Write, format: &str, value: &Value) -> Result<()> {
    let text = if format == "json" {
        "{{json .}}".to_owned()
    } else {
        Format::Template(format.to_owned()).template_text()
    };
    let rendered = Template::parse(&text)?.render(value)?;
    writeln!(out, "{rendered}")?;
    Ok(())
}

/// Rows of a list command. `default_table` is the command's `table …` format.
pub fn render_list(
    out: &mut dyn Write,
    format: Option<&str>,
    default_table: &str,
    headers: &[(&str, &str)],
    rows: &[Value],
) -> Result<()> {
    let default = default_table
        .strip_prefix("table ")
        .unwrap_or(default_table);
    let ctx = RowContext {
        headers,
        ..RowContext::default()
    };
    Format::parse(format.unwrap_or(""), default).render_rows(rows, &ctx, out)?;
    Ok(())
}

/// `inspect`-style output: an indented JSON array by default.
pub fn render_objects(out: &mut dyn Write, format: Option<&str>, objects: &[Value]) -> Result<()> {
    render_inspect(format.unwrap_or(""), objects, out)?;
    Ok(())
}
