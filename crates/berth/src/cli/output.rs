//! TEMPORARY adapter until berth-format lands (must not be committed as is).
use std::io::Write;

use anyhow::{bail, Result};
use serde_json::Value;

pub fn render_one(out: &mut dyn Write, format: &str, value: &Value) -> Result<()> {
    match format.trim() {
        "json" | "{{json .}}" => writeln!(out, "{}", serde_json::to_string(value)?)?,
        _ => bail!("TEMPORARY: templates need berth-format"),
    }
    Ok(())
}

pub fn render_list(
    out: &mut dyn Write,
    format: Option<&str>,
    default_table: &str,
    headers: &[(&str, &str)],
    rows: &[Value],
) -> Result<()> {
    let _ = (default_table, headers);
    match format.map(str::trim) {
        Some("json") | Some("{{json .}}") => {
            for r in rows {
                writeln!(out, "{}", serde_json::to_string(r)?)?;
            }
            Ok(())
        }
        _ => bail!("TEMPORARY: templates need berth-format"),
    }
}
