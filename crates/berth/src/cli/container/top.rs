//! `top CONTAINER [ps OPTIONS]`: the container's processes, in columns as docker's
//! tabwriter lays them out (minimum width 20, padding 3).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::Value;
use tabwriter::TabWriter;

use super::encode_id;
use crate::cli::query::Query;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
#[command(override_usage = "berth top CONTAINER [ps OPTIONS]")]
pub struct TopArgs {
    /// The container, then options for ps (flags end at the container).
    #[arg(value_name = "CONTAINER", required = true, num_args = 1.., trailing_var_arg = true)]
    pub container_and_ps_args: Vec<String>,
}

/// Titles and processes as aligned text.
pub fn render(top: &Value) -> Result<Vec<u8>> {
    // Go: max(20, width + 3); the crate pads after the minimum: max(17, width) + 3.
    let mut tw = TabWriter::new(Vec::new()).minwidth(17).padding(3);
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|s| s.as_str().unwrap_or_default().to_owned())
            .collect()
    };
    writeln!(tw, "{}", strings(&top["Titles"]).join("\t"))?;
    for p in top["Processes"].as_array().into_iter().flatten() {
        writeln!(tw, "{}", strings(p).join("\t"))?;
    }
    Ok(tw.into_inner()?)
}

pub async fn top(g: &GlobalOptions, args: TopArgs) -> Result<ExitCode> {
    let (container, ps_args) = args
        .container_and_ps_args
        .split_first()
        .expect("clap requires the container");
    let mut q = Query::new();
    if !ps_args.is_empty() {
        q.push("ps_args", &ps_args.join(" "));
    }
    let mut client = g.client()?;
    let top: Value = client
        .get_json(&q.path(&format!("/containers/{}/top", encode_id(container))))
        .await?;
    std::io::stdout().write_all(&render(&top)?)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_are_at_least_twenty_wide() {
        let top = json!({
            "Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
            "Processes": [["root", "5417", "5396", "0", "10:23", "?", "00:00:00", "sleep 1000"]],
        });
        let text = String::from_utf8(render(&top).unwrap()).unwrap();
        let expected = format!(
            "{:<20}{:<20}{:<20}{:<20}{:<20}{:<20}{:<20}CMD\n{:<20}{:<20}{:<20}{:<20}{:<20}{:<20}{:<20}sleep 1000\n",
            "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME",
            "root", "5417", "5396", "0", "10:23", "?", "00:00:00"
        );
        assert_eq!(text, expected);
    }
}
