//! Image commands: `images`/`image ls`, `image inspect`, `history`, `tag`, `rmi`/`image rm`,
//! `image prune`, `import`, `save`, `load`, laid out as the docker CLI lays them out.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use berth_api::Filters;
use berth_client::{reader_body, JsonLines};
use http::Method;
use serde_json::{json, Value};

use super::progress;
use super::units::{human_duration, human_size, since};
use super::{output, query::Query, GlobalOptions};

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Show all images (default hides intermediate images)
    #[arg(short, long)]
    pub all: bool,
    /// Show digests
    #[arg(long)]
    pub digests: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter")]
    pub filters: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Only list images of this repository (and tag)
    pub reference: Option<String>,
}

const LIST_TABLE: &str = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const LIST_TABLE_DIGESTS: &str =
    "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const LIST_HEADERS: &[(&str, &str)] = &[
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("ID", "IMAGE ID"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
    ("VirtualSize", "VIRTUAL SIZE"),
    ("Containers", "CONTAINERS"),
];

/// `sha256:abc…` → `abc…` (12 characters unless `no_trunc`).
pub fn short_id(id: &str, no_trunc: bool) -> String {
    if no_trunc {
        return id.to_owned();
    }
    id.trim_start_matches("sha256:").chars().take(12).collect()
}

/// `repo:tag` → (`repo`, `tag`), leaving a registry port alone.
fn split_repo_tag(rt: &str) -> (String, String) {
    match rt.rfind(':') {
        Some(i) if !rt[i..].contains('/') => (rt[..i].to_owned(), rt[i + 1..].to_owned()),
        _ => (rt.to_owned(), "<none>".to_owned()),
    }
}

/// One row per repository:tag, as docker's image context expands a summary.
fn rows(summary: &Value, no_trunc: bool) -> Vec<Value> {
    let id = summary["Id"].as_str().unwrap_or_default();
    let created = summary["Created"].as_i64().unwrap_or(0);
    let size = summary["Size"].as_f64().unwrap_or(0.0);
    let digests: Vec<&str> = summary["RepoDigests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let digest_for = |repo: &str| {
        digests
            .iter()
            .find(|d| d.split('@').next() == Some(repo))
            .and_then(|d| d.split('@').nth(1))
            .unwrap_or("<none>")
            .to_owned()
    };
    let make = |repo: String, tag: String, digest: String| {
        json!({
            "Repository": repo,
            "Tag": tag,
            "Digest": digest,
            "ID": short_id(id, no_trunc),
            "CreatedSince": format!("{} ago", human_duration(since(created))),
            "CreatedAt": chrono::DateTime::from_timestamp(created, 0).map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S %z %Z").to_string()).unwrap_or_default(),
            "Size": human_size(size),
            "SharedSize": human_size(summary["SharedSize"].as_f64().unwrap_or(-1.0).max(0.0)),
            "UniqueSize": human_size(size - summary["SharedSize"].as_f64().unwrap_or(0.0).max(0.0)),
            "VirtualSize": human_size(size),
            "Containers": summary["Containers"].to_string(),
        })
    };
    let tags: Vec<&str> = summary["RepoTags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|t| *t != "<none>:<none>")
        .collect();
    if tags.is_empty() {
        if digests.is_empty() {
            return vec![make("<none>".into(), "<none>".into(), "<none>".into())];
        }
        return digests
            .iter()
            .map(|d| {
                let (repo, digest) = d.split_once('@').unwrap_or((d, "<none>"));
                make(repo.to_owned(), "<none>".into(), digest.to_owned())
            })
            .collect();
    }
    tags.iter()
        .map(|rt| {
            let (repo, tag) = split_repo_tag(rt);
            let digest = digest_for(&repo);
            make(repo, tag, digest)
        })
        .collect()
}

pub async fn list(g: &GlobalOptions, args: ListArgs) -> Result<ExitCode> {
    let mut filters = Filters::from_cli_args(args.filters.iter().map(String::as_str))
        .map_err(anyhow::Error::msg)?;
    if let Some(r) = &args.reference {
        filters.add("reference", r.clone());
    }
    let mut q = Query::new();
    if args.all {
        q.push("all", "1");
    }
    if args.digests {
        q.push("digests", "1");
    }
    if !filters.is_empty() {
        q.push("filters", &filters.to_json());
    }
    let mut client = g.client()?;
    let images: Vec<Value> = client.get_json(&q.path("/images/json")).await?;
    let mut out = std::io::stdout().lock();
    if args.quiet {
        for img in &images {
            writeln!(
                out,
                "{}",
                short_id(img["Id"].as_str().unwrap_or_default(), args.no_trunc)
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Value> = images.iter().flat_map(|i| rows(i, args.no_trunc)).collect();
    let default = if args.digests {
        LIST_TABLE_DIGESTS
    } else {
        LIST_TABLE
    };
    output::render_list(
        &mut out,
        args.format.as_deref(),
        default,
        LIST_HEADERS,
        &rows,
    )?;
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template: 'json' or a Go template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub images: Vec<String>,
}

pub async fn inspect(g: &GlobalOptions, args: InspectArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let mut found = Vec::new();
    let mut code = ExitCode::SUCCESS;
    for name in &args.images {
        match client
            .get_json::<Value>(&format!("/images/{}/json", encode_path(name)))
            .await
        {
            Ok(v) => found.push(v),
            Err(e) => {
                eprintln!("{e}");
                code = ExitCode::from(1);
            }
        }
    }
    let mut out = std::io::stdout().lock();
    output::render_objects(&mut out, args.format.as_deref(), &found)?;
    Ok(code)
}

#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    /// Print sizes and dates in human readable format
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set)]
    pub human: bool,
    /// Don't truncate output
    #[arg(long)]
    pub no_trunc: bool,
    /// Only show image IDs
    #[arg(short, long)]
    pub quiet: bool,
    /// Format output using a custom template
    #[arg(long)]
    pub format: Option<String>,
    pub image: String,
}

const HISTORY_TABLE: &str =
    "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
const HISTORY_HEADERS: &[(&str, &str)] = &[
    ("ID", "IMAGE"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("CreatedBy", "CREATED BY"),
    ("Size", "SIZE"),
    ("Comment", "COMMENT"),
];

fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}

pub async fn history(g: &GlobalOptions, args: HistoryArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let items: Vec<Value> = client
        .get_json(&format!("/images/{}/history", encode_path(&args.image)))
        .await?;
    let mut out = std::io::stdout().lock();
    let id = |v: &Value| {
        let id = v["Id"].as_str().unwrap_or("<missing>");
        if id == "<missing>" {
            id.to_owned()
        } else {
            short_id(id, args.no_trunc)
        }
    };
    if args.quiet {
        for v in &items {
            writeln!(out, "{}", id(v))?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Value> = items
        .iter()
        .map(|v| {
            let created = v["Created"].as_i64().unwrap_or(0);
            let size = v["Size"].as_i64().unwrap_or(0);
            let by = v["CreatedBy"].as_str().unwrap_or_default().replace('\t', " ");
            json!({
                "ID": id(v),
                "CreatedSince": if args.human { format!("{} ago", human_duration(since(created))) } else { chrono::DateTime::from_timestamp(created, 0).map(|t| t.to_rfc3339()).unwrap_or_default() },
                "CreatedAt": chrono::DateTime::from_timestamp(created, 0).map(|t| t.to_rfc3339()).unwrap_or_default(),
                "CreatedBy": if args.no_trunc { by } else { ellipsis(&by, 45) },
                "Size": if args.human { human_size(size as f64) } else { size.to_string() },
                "Comment": v["Comment"].as_str().unwrap_or_default(),
            })
        })
        .collect();
    output::render_list(
        &mut out,
        args.format.as_deref(),
        HISTORY_TABLE,
        HISTORY_HEADERS,
        &rows,
    )?;
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
pub struct TagArgs {
    pub source: String,
    pub target: String,
}

pub async fn tag(g: &GlobalOptions, args: TagArgs) -> Result<ExitCode> {
    let (repo, tag) = split_repo_tag(&args.target);
    let mut q = Query::new();
    q.push("repo", &repo);
    if tag != "<none>" {
        q.push("tag", &tag);
    }
    let mut client = g.client()?;
    client
        .request(
            Method::POST,
            &q.path(&format!("/images/{}/tag", encode_path(&args.source))),
            None,
        )
        .await?;
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
pub struct RemoveArgs {
    /// Force removal of the image
    #[arg(short, long)]
    pub force: bool,
    /// Do not delete untagged parents
    #[arg(long)]
    pub no_prune: bool,
    #[arg(required = true)]
    pub images: Vec<String>,
}

pub async fn remove(g: &GlobalOptions, args: RemoveArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let mut code = ExitCode::SUCCESS;
    let mut out = std::io::stdout().lock();
    for name in &args.images {
        let mut q = Query::new();
        if args.force {
            q.push("force", "1");
        }
        if args.no_prune {
            q.push("noprune", "1");
        }
        let path = q.path(&format!("/images/{}", encode_path(name)));
        match client.request(Method::DELETE, &path, None).await {
            Ok(res) => {
                let items: Vec<Value> =
                    serde_json::from_slice(&berth_client::read_body(res).await?)?;
                print_deleted(&mut out, &items)?;
            }
            Err(e) => {
                eprintln!("{e}");
                code = ExitCode::from(1);
            }
        }
    }
    Ok(code)
}

fn print_deleted(out: &mut dyn Write, items: &[Value]) -> Result<()> {
    for item in items {
        if let Some(u) = item["Untagged"].as_str() {
            writeln!(out, "Untagged: {u}")?;
        }
        if let Some(d) = item["Deleted"].as_str() {
            writeln!(out, "Deleted: {d}")?;
        }
    }
    Ok(())
}

#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    pub force: bool,
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter")]
    pub filters: Vec<String>,
}

pub async fn prune(g: &GlobalOptions, args: PruneArgs) -> Result<ExitCode> {
    let warning = if args.all {
        "WARNING! This will remove all images without at least one container associated to them."
    } else {
        "WARNING! This will remove all dangling images."
    };
    if !args.force && !super::confirm(warning)? {
        return Ok(ExitCode::SUCCESS);
    }
    let mut filters = Filters::from_cli_args(args.filters.iter().map(String::as_str))
        .map_err(anyhow::Error::msg)?;
    if args.all {
        filters.add("dangling", "false");
    }
    let mut q = Query::new();
    if !filters.is_empty() {
        q.push("filters", &filters.to_json());
    }
    let mut client = g.client()?;
    let res = client
        .request(Method::POST, &q.path("/images/prune"), None)
        .await?;
    let report: Value = serde_json::from_slice(&berth_client::read_body(res).await?)?;
    let mut out = std::io::stdout().lock();
    let deleted = report["ImagesDeleted"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !deleted.is_empty() {
        writeln!(out, "Deleted Images:")?;
        print_deleted(&mut out, &deleted)?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "Total reclaimed space: {}",
        super::units::human_size_precision(report["SpaceReclaimed"].as_f64().unwrap_or(0.0), 4)
    )?;
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Apply Dockerfile instruction to the created image
    #[arg(short, long = "change")]
    pub changes: Vec<String>,
    /// Set commit message for imported image
    #[arg(short, long)]
    pub message: Option<String>,
    /// Set platform if server is multi-platform capable
    #[arg(long)]
    pub platform: Option<String>,
    /// A tar archive (optionally compressed), or `-` for standard input
    pub file: String,
    /// Repository and optional tag for the image
    pub reference: Option<String>,
}

pub async fn import(g: &GlobalOptions, args: ImportArgs) -> Result<ExitCode> {
    let mut q = Query::new();
    q.push("fromSrc", "-");
    if let Some(r) = &args.reference {
        let (repo, tag) = split_repo_tag(r);
        q.push("repo", &repo);
        if tag != "<none>" {
            q.push("tag", &tag);
        }
    }
    if let Some(m) = &args.message {
        q.push("message", m);
    }
    for c in &args.changes {
        q.push("changes", c);
    }
    if let Some(p) = &args.platform {
        q.push("platform", p);
    }
    let body = if args.file == "-" {
        reader_body(tokio::io::stdin())
    } else {
        let f = tokio::fs::File::open(&args.file)
            .await
            .with_context(|| format!("open {}", args.file))?;
        reader_body(f)
    };
    let mut client = g.client()?;
    let res = client
        .request_streaming(
            Method::POST,
            &q.path("/images/create"),
            body,
            "application/x-tar",
        )
        .await?;
    progress::print_stream(JsonLines::new(res)).await
}

#[derive(clap::Args, Debug)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long)]
    pub output: Option<String>,
    #[arg(required = true)]
    pub images: Vec<String>,
}

pub async fn save(g: &GlobalOptions, args: SaveArgs) -> Result<ExitCode> {
    if args.output.is_none() && std::io::stdout().is_terminal() {
        bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    let mut q = Query::new();
    for i in &args.images {
        q.push("names", i);
    }
    let mut client = g.client()?;
    let res = client
        .request(Method::GET, &q.path("/images/get"), None)
        .await?;
    match &args.output {
        Some(path) => {
            // Written beside the target and renamed, so a failed save leaves no half file.
            let tmp = format!("{path}.berth-tmp");
            let mut f = tokio::fs::File::create(&tmp)
                .await
                .with_context(|| format!("create {tmp}"))?;
            let copied = berth_client::copy_body(res, &mut f).await;
            match copied {
                Ok(_) => {
                    f.sync_all().await?;
                    tokio::fs::rename(&tmp, path).await?;
                }
                Err(e) => {
                    let _ = tokio::fs::remove_file(&tmp).await;
                    return Err(e.into());
                }
            }
        }
        None => {
            berth_client::copy_body(res, &mut tokio::io::stdout()).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN
    #[arg(short, long)]
    pub input: Option<String>,
    /// Suppress the load output
    #[arg(short, long)]
    pub quiet: bool,
}

pub async fn load(g: &GlobalOptions, args: LoadArgs) -> Result<ExitCode> {
    let body = match &args.input {
        Some(path) => reader_body(
            tokio::fs::File::open(path)
                .await
                .with_context(|| format!("open {path}"))?,
        ),
        None => {
            if std::io::stdin().is_terminal() {
                bail!("requested load from stdin, but stdin is empty");
            }
            reader_body(tokio::io::stdin())
        }
    };
    let mut q = Query::new();
    q.push("quiet", if args.quiet { "1" } else { "0" });
    let mut client = g.client()?;
    let res = client
        .request_streaming(
            Method::POST,
            &q.path("/images/load"),
            body,
            "application/x-tar",
        )
        .await?;
    progress::print_stream(JsonLines::new(res)).await
}

/// Percent-encodes a name for use as one path segment (names may hold `/` and `:`, which
/// the API expects as they are, but not spaces or `?`).
pub fn encode_path(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b'/'
            | b':'
            | b'@' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_expand_tags_and_mark_untagged() {
        let s = json!({"Id": "sha256:0123456789abcdef", "RepoTags": ["busybox:latest", "localhost:5000/bb:1"],
                       "RepoDigests": ["busybox@sha256:aa"], "Created": 0, "Size": 4261480});
        let r = rows(&s, false);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0]["Repository"], "busybox");
        assert_eq!(r[0]["Tag"], "latest");
        assert_eq!(r[0]["Digest"], "sha256:aa");
        assert_eq!(r[0]["ID"], "0123456789ab");
        assert_eq!(r[0]["Size"], "4.26MB");
        assert_eq!(r[1]["Repository"], "localhost:5000/bb");
        assert_eq!(r[1]["Tag"], "1");
        let none = rows(
            &json!({"Id": "sha256:ff", "RepoTags": [], "RepoDigests": [], "Created": 0, "Size": 0}),
            true,
        );
        assert_eq!(none[0]["Repository"], "<none>");
        assert_eq!(none[0]["ID"], "sha256:ff");
    }

    #[test]
    fn split_keeps_registry_ports() {
        assert_eq!(split_repo_tag("a:1"), ("a".into(), "1".into()));
        assert_eq!(
            split_repo_tag("h:5000/a"),
            ("h:5000/a".into(), "<none>".into())
        );
        assert_eq!(ellipsis("abcdef", 4), "abc…");
    }
}
