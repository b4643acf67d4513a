//! `berth system df`: disk usage, as `docker system df` shows it.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::{json, Value};

use super::units::{human_duration, human_size, since};
use super::{images::short_id, output, GlobalOptions};

#[derive(clap::Args, Debug)]
pub struct DfArgs {
    /// Show detailed information on space usage
    #[arg(short, long)]
    pub verbose: bool,
    /// Format output using a custom template
    #[arg(long)]
    pub format: Option<String>,
}

const TABLE: &str = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
const HEADERS: &[(&str, &str)] = &[
    ("Type", "TYPE"),
    ("TotalCount", "TOTAL"),
    ("Active", "ACTIVE"),
    ("Size", "SIZE"),
    ("Reclaimable", "RECLAIMABLE"),
];

/// `2.14MB (100%)`, as docker prints reclaimable space.
fn reclaimable(reclaim: u64, total: u64) -> String {
    if total == 0 {
        return human_size(reclaim as f64);
    }
    format!(
        "{} ({}%)",
        human_size(reclaim as f64),
        reclaim * 100 / total
    )
}

pub async fn run(g: &GlobalOptions, args: DfArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let df: Value = client.get_json("/system/df").await?;
    let images = df["Images"].as_array().cloned().unwrap_or_default();
    let layers = df["LayersSize"].as_u64().unwrap_or(0);
    let active = images
        .iter()
        .filter(|i| i["Containers"].as_i64().unwrap_or(0) > 0)
        .count();
    let used: u64 = images
        .iter()
        .filter(|i| i["Containers"].as_i64().unwrap_or(0) > 0)
        .map(|i| i["Size"].as_u64().unwrap_or(0) - i["SharedSize"].as_u64().unwrap_or(0))
        .sum();
    let count = |k: &str| df[k].as_array().map_or(0, Vec::len);
    let rows = vec![
        json!({"Type": "Images", "TotalCount": images.len().to_string(), "Active": active.to_string(),
               "Size": human_size(layers as f64), "Reclaimable": reclaimable(layers - used.min(layers), layers)}),
        json!({"Type": "Containers", "TotalCount": count("Containers").to_string(), "Active": "0", "Size": "0B", "Reclaimable": "0B"}),
        json!({"Type": "Local Volumes", "TotalCount": count("Volumes").to_string(), "Active": "0", "Size": "0B", "Reclaimable": "0B"}),
        json!({"Type": "Build Cache", "TotalCount": count("BuildCache").to_string(), "Active": "0", "Size": "0B", "Reclaimable": "0B"}),
    ];
    let mut out = std::io::stdout().lock();
    if !args.verbose {
        output::render_list(&mut out, args.format.as_deref(), TABLE, HEADERS, &rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "Images space usage:\n")?;
    let image_rows: Vec<Value> = images
        .iter()
        .flat_map(|i| {
            let tags: Vec<String> = i["RepoTags"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_owned)).collect();
            // One row per image, under its first tag, as docker shows it.
            let tags = vec![tags.into_iter().next().unwrap_or_else(|| "<none>:<none>".to_owned())];
            tags.into_iter().map(move |t| {
                let (repo, tag) = t.rsplit_once(':').map_or((t.clone(), String::new()), |(r, t)| (r.to_owned(), t.to_owned()));
                let size = i["Size"].as_u64().unwrap_or(0);
                let shared = i["SharedSize"].as_u64().unwrap_or(0);
                json!({
                    "Repository": repo, "Tag": tag,
                    "ID": short_id(i["Id"].as_str().unwrap_or_default(), false),
                    "CreatedSince": format!("{} ago", human_duration(since(i["Created"].as_i64().unwrap_or(0)))),
                    "Size": human_size(size as f64),
                    "SharedSize": human_size(shared as f64),
                    "UniqueSize": human_size((size - shared.min(size)) as f64),
                    "Containers": i["Containers"].to_string(),
                })
            })
        })
        .collect();
    output::render_list(
        &mut out,
        None,
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
        &[("Repository", "REPOSITORY"), ("Tag", "TAG"), ("ID", "IMAGE ID"), ("CreatedSince", "CREATED"), ("Size", "SIZE"),
          ("SharedSize", "SHARED SIZE"), ("UniqueSize", "UNIQUE SIZE"), ("Containers", "CONTAINERS")],
        &image_rows,
    )?;
    writeln!(out, "\nContainers space usage:\n")?;
    writeln!(
        out,
        "CONTAINER ID   IMAGE     COMMAND   LOCAL VOLUMES   SIZE      CREATED   STATUS    NAMES"
    )?;
    writeln!(out, "\nLocal Volumes space usage:\n")?;
    writeln!(out, "VOLUME NAME   LINKS     SIZE")?;
    writeln!(out, "\nBuild cache usage: 0B\n")?;
    writeln!(
        out,
        "CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED"
    )?;
    Ok(ExitCode::SUCCESS)
}
