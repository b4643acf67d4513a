//! The volume parts of `system df`: the `Local Volumes` summary row and the
//! `Local Volumes space usage:` table of `-v`, from `GET /system/df`'s `Volumes`.

use std::io::Write;

use anyhow::Result;
use berth_format::Format;
use serde_json::{json, Value};

use super::list::{row, CONTEXT};
use crate::cli::units::human_size_precision;

fn volumes(df: &Value) -> &[Value] {
    df["Volumes"].as_array().map_or(&[], Vec::as_slice)
}

/// (size, references) of a volume; size -1 means unknown and is left out of sums.
fn usage(v: &Value) -> (i64, i64) {
    let u = &v["UsageData"];
    (
        u["Size"].as_i64().unwrap_or(-1),
        u["RefCount"].as_i64().unwrap_or(0),
    )
}

/// The `Local Volumes` row, as docker's `diskUsageVolumesContext` computes it.
pub fn summary_row(df: &Value) -> Value {
    let vols = volumes(df);
    let active = vols.iter().filter(|v| usage(v).1 > 0).count();
    let (mut total, mut reclaimable) = (0i64, 0i64);
    for (size, refs) in vols.iter().map(usage).filter(|(s, _)| *s != -1) {
        total += size;
        if refs == 0 {
            reclaimable += size;
        }
    }
    let human = |n: i64| human_size_precision(n as f64, 4);
    let reclaim = if total > 0 {
        format!("{} ({}%)", human(reclaimable), reclaimable * 100 / total)
    } else {
        human(reclaimable)
    };
    json!({
        "Type": "Local Volumes",
        "TotalCount": vols.len().to_string(),
        "Active": active.to_string(),
        "Size": human(total),
        "Reclaimable": reclaim,
    })
}

/// `-v`'s volume section: a blank line, the title, a blank line, then the table.
pub fn write_verbose(out: &mut dyn Write, df: &Value) -> Result<()> {
    write!(out, "\nLocal Volumes space usage:\n\n")?;
    let rows: Vec<Value> = volumes(df).iter().map(row).collect();
    Format::Table("{{.Name}}\t{{.Links}}\t{{.Size}}".into()).render_rows(&rows, &CONTEXT, out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn df() -> Value {
        json!({"Volumes": [
            {"Name": "used", "Driver": "local", "Scope": "local", "Labels": null,
             "UsageData": {"RefCount": 2, "Size": 3000}},
            {"Name": "idle", "Driver": "local", "Scope": "local", "Labels": null,
             "UsageData": {"RefCount": 0, "Size": 1000}},
            {"Name": "unknown", "Driver": "local", "Scope": "local", "Labels": null,
             "UsageData": {"RefCount": 0, "Size": -1}},
        ]})
    }

    #[test]
    fn summary_counts_like_docker() {
        assert_eq!(
            summary_row(&df()),
            json!({"Type": "Local Volumes", "TotalCount": "3", "Active": "1",
                   "Size": "4kB", "Reclaimable": "1kB (25%)"})
        );
        assert_eq!(
            summary_row(&json!({"Volumes": []})),
            json!({"Type": "Local Volumes", "TotalCount": "0", "Active": "0",
                   "Size": "0B", "Reclaimable": "0B"})
        );
    }

    #[test]
    fn verbose_table_has_names_links_and_sizes() {
        let mut out = Vec::new();
        write_verbose(&mut out, &df()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\nLocal Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\nused          2         3kB\nidle          0         1kB\nunknown       0         -1B\n"
        );
        let mut out = Vec::new();
        write_verbose(&mut out, &json!({"Volumes": []})).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\nLocal Volumes space usage:\n\nVOLUME NAME   LINKS     SIZE\n"
        );
    }
}
