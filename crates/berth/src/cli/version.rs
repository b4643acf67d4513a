//! `berth version`: the client's and the daemon's versions, as `docker version` prints them.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use berth_api::models::SystemVersion;
use berth_api::API_VERSION;
use serde_json::{json, Value};

use super::output;
use super::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct VersionArgs {
    /// Format output using a custom template: 'json' or a Go template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

pub async fn run(g: &GlobalOptions, args: VersionArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let negotiated = client.negotiate().await;
    let api_version = negotiated.as_ref().map_or(API_VERSION, |v| *v);
    let client_info = json!({
        "Platform": {"Name": "Berth"},
        "Version": env!("CARGO_PKG_VERSION"),
        "ApiVersion": api_version.to_string(),
        "DefaultAPIVersion": API_VERSION.to_string(),
        "GoVersion": "rust",
        "GitCommit": "",
        "BuildTime": "",
        "Os": "linux",
        "Arch": go_arch(),
        "Context": "default",
    });
    let server: Result<SystemVersion, _> = match negotiated {
        Ok(_) => client.get_json("/version").await,
        Err(e) => Err(e),
    };
    let (server_json, error) = match server {
        Ok(s) => (as_docker_cli_shows(serde_json::to_value(&s)?), None),
        Err(e) => (Value::Null, Some(e)),
    };
    let data = json!({"Client": client_info, "Server": server_json});
    let mut out = std::io::stdout().lock();
    match args.format.as_deref() {
        Some(f) => output::render_one(&mut out, f, &data)?,
        None => print_default(&mut out, &data)?,
    }
    out.flush()?;
    if let Some(e) = error {
        eprintln!("{e}");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The docker CLI decodes `Details` into a Go map (so its keys come out sorted) and
/// reformats build times from RFC 3339 to `time.ANSIC`.
fn as_docker_cli_shows(mut server: Value) -> Value {
    if let Some(t) = server.get_mut("BuildTime") {
        *t = Value::String(ansic(t.as_str().unwrap_or_default()));
    }
    for comp in server["Components"].as_array_mut().into_iter().flatten() {
        if let Some(details) = comp.get_mut("Details").and_then(Value::as_object_mut) {
            if let Some(t) = details.get_mut("BuildTime") {
                *t = Value::String(ansic(t.as_str().unwrap_or_default()));
            }
            details.sort_keys();
        }
    }
    server
}

/// RFC 3339 → Go's `time.ANSIC` (`Mon Jan _2 15:04:05 2006`); other text unchanged.
fn ansic(t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| d.format("%a %b %e %H:%M:%S %Y").to_string())
        .unwrap_or_else(|_| t.to_owned())
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn print_default(out: &mut dyn Write, data: &Value) -> Result<()> {
    let c = &data["Client"];
    let mut tw = tabwriter::TabWriter::new(Vec::new())
        .minwidth(20)
        .padding(1);
    writeln!(tw, "Client: {}", s(&c["Platform"]["Name"]))?;
    writeln!(tw, " Version:\t{}", s(&c["Version"]))?;
    let downgraded = if c["ApiVersion"] != c["DefaultAPIVersion"] {
        format!(" (downgraded from {})", s(&c["DefaultAPIVersion"]))
    } else {
        String::new()
    };
    writeln!(tw, " API version:\t{}{downgraded}", s(&c["ApiVersion"]))?;
    writeln!(tw, " OS/Arch:\t{}/{}", s(&c["Os"]), s(&c["Arch"]))?;
    writeln!(tw, " Context:\t{}", s(&c["Context"]))?;
    let srv = &data["Server"];
    if !srv.is_null() {
        writeln!(tw)?;
        writeln!(tw, "Server: {}", s(&srv["Platform"]["Name"]))?;
        for comp in srv["Components"].as_array().into_iter().flatten() {
            let d = &comp["Details"];
            writeln!(tw, " {}:", s(&comp["Name"]))?;
            writeln!(tw, "  Version:\t{}", s(&comp["Version"]))?;
            if comp["Name"] == "Engine" {
                writeln!(
                    tw,
                    "  API version:\t{} (minimum version {})",
                    s(&d["ApiVersion"]),
                    s(&d["MinAPIVersion"])
                )?;
                writeln!(tw, "  Go version:\t{}", s(&d["GoVersion"]))?;
                writeln!(tw, "  Git commit:\t{}", s(&d["GitCommit"]))?;
                writeln!(tw, "  Built:\t{}", s(&d["BuildTime"]))?;
                writeln!(tw, "  OS/Arch:\t{}/{}", s(&d["Os"]), s(&d["Arch"]))?;
                writeln!(tw, "  Experimental:\t{}", s(&d["Experimental"]))?;
            } else if let Some(details) = d.as_object() {
                for (k, v) in details {
                    writeln!(tw, "  {k}:\t{}", s(v))?;
                }
            }
        }
    }
    tw.flush()?;
    out.write_all(&tw.into_inner()?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_times_are_shown_in_ansic_and_details_sorted() {
        assert_eq!(ansic("2026-11-03T07:42:12Z"), "Tue Nov  3 07:42:12 2026");
        assert_eq!(ansic("unknown"), "unknown");
        let v = as_docker_cli_shows(json!({"BuildTime": "2026-11-23T07:42:12Z",
            "Components": [{"Details": {"Os": "linux", "Arch": "amd64"}}]}));
        assert_eq!(v["BuildTime"], "Mon Nov 23 07:42:12 2026");
        let keys: Vec<&String> = v["Components"][0]["Details"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(keys, ["Arch", "Os"]);
    }
}
