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
