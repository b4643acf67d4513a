//! `ps` / `container ls`: containers as docker's `ContainerContext` shows them —
//! truncated IDs and commands, `Names` without the slash, grouped ports, sizes — in
//! docker's default table, `json`, `raw` or a template.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use berth_api::Filters;
use berth_format::{Format, RowContext};
use clap::ArgAction;
use serde_json::{json, Map, Value};

use super::values;
use crate::cli::query::Query;
use crate::cli::units::{human_duration, human_size, since};
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub all: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter", value_parser = values::filter)]
    pub filters: Vec<String>,
    /// Format output using a custom template: 'table', 'table TEMPLATE', 'json' or a Go template
    #[arg(long)]
    pub format: Option<String>,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long, value_parser = values::go_int, default_value = "-1", allow_hyphen_values = true)]
    pub last: i64,
    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub latest: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub no_trunc: bool,
    /// Only display container IDs
    #[arg(short = 'q', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub quiet: bool,
    /// Display total file sizes
    #[arg(short = 's', long, num_args = 0..=1, require_equals = true, action = ArgAction::Set, default_missing_value = "true", value_parser = values::go_bool)]
    pub size: Option<bool>,
}

const TABLE: &str =
    "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
const RAW: &str = "container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\nlabels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n";

pub const HEADERS: &[(&str, &str)] = &[
    ("ID", "CONTAINER ID"),
    ("Names", "NAMES"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("LocalVolumes", "LOCAL VOLUMES"),
    ("Networks", "NETWORKS"),
    ("Platform", "PLATFORM"),
];

/// `{{.Label "name"}}`, read back from the row's `Labels` column (`k=v,k=v`); a label
/// value holding a comma is cut there.
pub fn label_method(row: &Value, args: &[Value]) -> Result<Value, String> {
    let name = args.first().and_then(Value::as_str).unwrap_or_default();
    let value = row["Labels"]
        .as_str()
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map_or("", |(_, v)| v);
    Ok(json!(value))
}

/// The `--format` docker would use, given `--quiet` and `--size`.
fn container_format(source: &str, quiet: bool, size: bool) -> Format {
    match source {
        "" | "table" => {
            if quiet {
                return Format::Template("{{.ID}}".into());
            }
            let mut t = TABLE.to_owned();
            if size {
                t.push_str("\t{{.Size}}");
            }
            Format::Table(t)
        }
        "raw" => {
            if quiet {
                return Format::Template("container_id: {{.ID}}".into());
            }
            let mut t = RAW.to_owned();
            if size {
                t.push_str("size: {{.Size}}\n");
            }
            Format::Template(t)
        }
        _ if quiet => Format::Template("{{.ID}}".into()),
        other => Format::parse(other, TABLE),
    }
}

pub async fn ps(g: &GlobalOptions, args: PsArgs) -> Result<ExitCode> {
    let format = args.format.clone().unwrap_or_default();
    if !format.is_empty() && args.quiet {
        eprintln!("WARNING: Ignoring custom format, because both --format and --quiet are set.");
    }
    let mut size = args.size.unwrap_or(false);
    if !args.quiet && args.size.is_none() && format.contains(".Size") {
        size = true;
    }
    let filters = Filters::from_cli_args(args.filters.iter().map(String::as_str))
        .map_err(anyhow::Error::msg)?;
    let mut q = Query::new();
    if args.all {
        q.push("all", "1");
    }
    let limit = if args.latest && args.last == -1 {
        1
    } else {
        args.last
    };
    if limit > 0 {
        q.push("limit", &limit.to_string());
    }
    if size {
        q.push("size", "1");
    }
    if !filters.is_empty() {
        q.push("filters", &filters.to_json());
    }
    let mut client = g.client()?;
    let containers: Vec<Value> = client.get_json(&q.path("/containers/json")).await?;
    let rows: Vec<Value> = containers.iter().map(|c| row(c, !args.no_trunc)).collect();
    let ctx = RowContext {
        headers: HEADERS,
        type_name: Some("*formatter.ContainerContext"),
        methods: &[("Label", label_method)],
    };
    let mut out = Vec::new();
    container_format(&format, args.quiet, size).render_rows(&rows, &ctx, &mut out)?;
    std::io::stdout().write_all(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// `stringid.TruncateID`: drop an algorithm prefix, keep 12 characters.
pub fn truncate_id(id: &str) -> String {
    let id = id.split_once(':').map_or(id, |(_, rest)| rest);
    id.chars().take(12).collect()
}

/// docker's `formatter.Ellipsis` (ASCII widths).
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
    t.push('…');
    t
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The IMAGE column: short IDs for images run by ID, familiar names otherwise.
fn image_column(image: &str, image_id: &str, trunc: bool) -> String {
    if image.is_empty() {
        return "<no image>".into();
    }
    if trunc {
        if truncate_id(image_id) == truncate_id(image) {
            return truncate_id(image_id);
        }
        if let Ok(r) = berth_core::Reference::parse_normalized(image) {
            let familiar = r.familiar_name();
            return match r.tag() {
                Some(tag) => format!("{familiar}:{tag}"),
                None => familiar,
            };
        }
    }
    image.to_owned()
}

/// `time.Unix(created, 0).String()` in local time.
fn created_at(created: i64) -> String {
    chrono::DateTime::from_timestamp(created, 0)
        .map(|t| {
            let local = t.with_timezone(&chrono::Local);
            let zone = if local.offset().to_string() == "+00:00" {
                "UTC".to_owned()
            } else {
                local.format("%Z").to_string()
            };
            format!("{} {zone}", local.format("%Y-%m-%d %H:%M:%S %z"))
        })
        .unwrap_or_default()
}

/// docker's `DisplayablePorts`: consecutive ports grouped into ranges, mappings listed.
pub fn displayable_ports(ports: &[Value]) -> String {
    struct Port {
        ip: String,
        private: u16,
        public: u16,
        kind: String,
    }
    let mut ports: Vec<Port> = ports
        .iter()
        .map(|p| Port {
            ip: p["IP"].as_str().unwrap_or_default().to_owned(),
            private: p["PrivatePort"].as_u64().unwrap_or(0) as u16,
            public: p["PublicPort"].as_u64().unwrap_or(0) as u16,
            kind: p["Type"].as_str().unwrap_or_default().to_owned(),
        })
        .collect();
    ports.sort_by(|a, b| {
        (a.private, &a.ip, a.public, &a.kind).cmp(&(b.private, &b.ip, b.public, &b.kind))
    });
    let join_host = |ip: &str, port: &str| {
        if ip.contains(':') {
            format!("[{ip}]:{port}")
        } else {
            format!("{ip}:{port}")
        }
    };
    let form_group = |key: &str, first: u16, last: u16| {
        let (ip, kind) = match key.split_once('/') {
            Some((ip, kind)) => (ip, kind),
            None => ("", key),
        };
        let mut group = first.to_string();
        if first != last {
            group = format!("{group}-{last}");
        }
        if !ip.is_empty() {
            group = format!("{}->{group}", join_host(ip, &group));
        }
        format!("{group}/{kind}")
    };
    let mut groups: Vec<(String, u16, u16)> = Vec::new();
    let mut result = Vec::new();
    let mut mappings = Vec::new();
    for p in &ports {
        let mut key = p.kind.clone();
        if !p.ip.is_empty() {
            if p.public != p.private {
                mappings.push(format!(
                    "{}->{}/{}",
                    join_host(&p.ip, &p.public.to_string()),
                    p.private,
                    p.kind
                ));
                continue;
            }
            key = format!("{}/{}", p.ip, p.kind);
        }
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            None => groups.push((key, p.private, p.private)),
            Some(g) if p.private == g.2.wrapping_add(1) => g.2 = p.private,
            Some(g) => {
                result.push(form_group(&g.0, g.1, g.2));
                g.1 = p.private;
                g.2 = p.private;
            }
        }
    }
    for (key, first, last) in &groups {
        result.push(form_group(key, *first, *last));
    }
    result.extend(mappings);
    result.join(", ")
}

fn str_list(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// One container as docker's `ContainerContext` presents it; keys sorted as its JSON.
pub fn row(c: &Value, trunc: bool) -> Value {
    let id = c["Id"].as_str().unwrap_or_default();
    let mut names: Vec<String> = str_list(&c["Names"])
        .into_iter()
        .map(|n| n.strip_prefix('/').map(str::to_owned).unwrap_or(n))
        .collect();
    if trunc {
        if let Some(n) = names.iter().find(|n| !n.contains('/')) {
            names = vec![n.clone()];
        }
    }
    let command = c["Command"].as_str().unwrap_or_default();
    let command = if trunc {
        ellipsis(command, 20)
    } else {
        command.to_owned()
    };
    let created = c["Created"].as_i64().unwrap_or(0);
    let labels: Map<String, Value> = c["Labels"].as_object().cloned().unwrap_or_default();
    let mut label_pairs: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    label_pairs.sort();
    let mounts = c["Mounts"].as_array().cloned().unwrap_or_default();
    let mount_names: Vec<String> = mounts
        .iter()
        .map(|m| {
            let name = m["Name"]
                .as_str()
                .filter(|n| !n.is_empty())
                .or_else(|| m["Source"].as_str())
                .unwrap_or_default();
            if trunc {
                ellipsis(name, 15)
            } else {
                name.to_owned()
            }
        })
        .collect();
    let local_volumes = mounts.iter().filter(|m| m["Driver"] == "local").count();
    let mut networks: Vec<String> = c["NetworkSettings"]["Networks"]
        .as_object()
        .map(|n| n.keys().cloned().collect())
        .unwrap_or_default();
    networks.sort();
    let size_rw = c["SizeRw"].as_f64().unwrap_or(0.0);
    let size_root = c["SizeRootFs"].as_f64().unwrap_or(0.0);
    let size = if size_root > 0.0 {
        format!(
            "{} (virtual {})",
            human_size(size_rw),
            human_size(size_root)
        )
    } else {
        human_size(size_rw)
    };
    let platform = match &c["ImageManifestDescriptor"]["platform"] {
        Value::Object(p) => {
            let parts: Vec<&str> = ["os", "architecture", "variant"]
                .iter()
                .filter_map(|k| p.get(*k).and_then(Value::as_str))
                .filter(|s| !s.is_empty())
                .collect();
            json!(parts.join("/"))
        }
        _ => Value::Null,
    };
    json!({
        "Command": go_quote(&command),
        "CreatedAt": created_at(created),
        "ID": if trunc { truncate_id(id) } else { id.to_owned() },
        "Image": image_column(c["Image"].as_str().unwrap_or_default(), c["ImageID"].as_str().unwrap_or_default(), trunc),
        "Labels": label_pairs.join(","),
        "LocalVolumes": local_volumes.to_string(),
        "Mounts": mount_names.join(","),
        "Names": names.join(","),
        "Networks": networks.join(","),
        "Platform": platform,
        "Ports": displayable_ports(c["Ports"].as_array().map(Vec::as_slice).unwrap_or_default()),
        "RunningFor": format!("{} ago", human_duration(since(created))),
        "Size": size,
        "State": c["State"].as_str().unwrap_or_default(),
        "Status": c["Status"].as_str().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Value {
        json!({
            "Id": "6dd8514c97efcd0df37dc003a0961b9f37b7e000935bbc5fa05e22d61729c2c3",
            "Names": ["/cr"],
            "Image": "busybox",
            "ImageID": "sha256:837bba90651b3c324c9d3f1e414be7af84bbe4b8974d7f553902154aedc49bc1",
            "Command": "echo 'hello world this is long'",
            "Created": chrono::Utc::now().timestamp() - 3,
            "Ports": [],
            "Labels": {"b": "2", "a": "1"},
            "State": "exited",
            "Status": "Exited (3) 2 seconds ago",
            "Mounts": [],
            "NetworkSettings": {"Networks": {"bridge": {}}},
        })
    }

    fn render(format: Format, rows: &[Value]) -> String {
        let ctx = RowContext {
            headers: HEADERS,
            type_name: Some("*formatter.ContainerContext"),
            methods: &[("Label", label_method)],
        };
        let mut out = Vec::new();
        format.render_rows(rows, &ctx, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn default_table_matches_docker() {
        let text = render(container_format("", false, false), &[row(&summary(), true)]);
        let expected = "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS                     PORTS     NAMES\n\
                        6dd8514c97ef   busybox   \"echo 'hello world t…\"   3 seconds ago   Exited (3) 2 seconds ago             cr\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn no_trunc_keeps_everything() {
        let r = row(&summary(), false);
        assert_eq!(r["ID"].as_str().unwrap().len(), 64);
        assert_eq!(r["Command"], "\"echo 'hello world this is long'\"");
        assert_eq!(r["Labels"], "a=1,b=2");
        assert_eq!(r["Networks"], "bridge");
    }

    #[test]
    fn quiet_size_and_templates() {
        let rows = [row(&summary(), true)];
        assert_eq!(
            render(container_format("", true, false), &rows),
            "6dd8514c97ef\n"
        );
        assert_eq!(
            render(
                container_format("{{.Names}} {{.Label \"a\"}} {{.Size}}", false, false),
                &rows
            ),
            "cr 1 0B\n"
        );
        let sized = render(container_format("table", false, true), &rows);
        assert!(
            sized.lines().next().unwrap().ends_with("NAMES     SIZE"),
            "{sized}"
        );
        let json_line = render(container_format("json", false, false), &rows);
        let v: Value = serde_json::from_str(json_line.trim()).unwrap();
        assert_eq!(v["Names"], "cr");
        assert_eq!(v["Platform"], Value::Null);
    }

    #[test]
    fn ports_group_like_docker() {
        let p = |ip: &str, private: u16, public: u16, kind: &str| json!({"IP": ip, "PrivatePort": private, "PublicPort": public, "Type": kind});
        assert_eq!(
            displayable_ports(&[
                p("", 80, 0, "tcp"),
                p("", 81, 0, "tcp"),
                p("", 53, 0, "udp")
            ]),
            "53/udp, 80-81/tcp"
        );
        assert_eq!(
            displayable_ports(&[p("0.0.0.0", 80, 8080, "tcp"), p("::", 80, 8080, "tcp")]),
            "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp"
        );
        assert_eq!(
            displayable_ports(&[
                p("0.0.0.0", 9000, 9000, "tcp"),
                p("0.0.0.0", 9001, 9001, "tcp")
            ]),
            "0.0.0.0:9000-9001->9000-9001/tcp"
        );
    }

    #[test]
    fn image_column_prefers_familiar_names() {
        let id = "sha256:837bba90651b3c324c9d3f1e414be7af84bbe4b8974d7f553902154aedc49bc1";
        assert_eq!(image_column("busybox", id, true), "busybox");
        assert_eq!(
            image_column("docker.io/library/busybox:1", id, true),
            "busybox:1"
        );
        assert_eq!(image_column(id, id, true), "837bba90651b");
        assert_eq!(image_column("", id, true), "<no image>");
        assert_eq!(go_quote("a\"b\\\n"), "\"a\\\"b\\\\\\n\"");
    }
}
