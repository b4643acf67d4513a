//! `berth info`: system-wide information, laid out as `docker info` lays it out.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::{json, Value};

use super::{output, GlobalOptions};

#[derive(clap::Args, Debug)]
pub struct InfoArgs {
    /// Format output using a custom template: 'json' or a Go template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
}

pub async fn run(g: &GlobalOptions, args: InfoArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let server: Result<Value, _> = client.get_json("/info").await;
    let client_info =
        json!({"Debug": false, "Context": "default", "Plugins": [], "Warnings": null});
    let mut out = std::io::stdout().lock();
    let code = match (&args.format, server) {
        (Some(f), Ok(mut info)) => {
            if let Some(obj) = info.as_object_mut() {
                obj.insert("ClientInfo".into(), client_info);
            }
            output::render_one(&mut out, f, &info)?;
            ExitCode::SUCCESS
        }
        (Some(_), Err(e)) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
        (None, server) => {
            writeln!(out, "Client:")?;
            writeln!(out, " Version:    {}", env!("CARGO_PKG_VERSION"))?;
            writeln!(out, " Context:    default")?;
            writeln!(out, " Debug Mode: false")?;
            writeln!(out)?;
            writeln!(out, "Server:")?;
            match server {
                Ok(info) => {
                    print_server(&mut out, &info)?;
                    out.flush()?;
                    for w in info["Warnings"].as_array().into_iter().flatten() {
                        eprintln!("{}", str_of(w));
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    writeln!(out, "ERROR: {e}")?;
                    out.flush()?;
                    eprintln!("errors pretty printing info");
                    ExitCode::from(1)
                }
            }
        }
    };
    out.flush()?;
    Ok(code)
}

fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// go-units `BytesSize`: binary units, four significant digits (`23.47GiB`).
pub fn bytes_size(n: f64) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut size = n;
    let mut i = 0;
    while size >= 1024.0 && i < UNITS.len() - 1 {
        size /= 1024.0;
        i += 1;
    }
    format!("{}{}", go_g4(size), UNITS[i])
}

/// Go's `%.4g` for the magnitudes used here.
fn go_g4(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let digits = v.abs().log10().floor() as i32 + 1;
    let decimals = (4 - digits).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

fn print_server(out: &mut dyn Write, i: &Value) -> std::io::Result<()> {
    let s = |k: &str| str_of(&i[k]);
    writeln!(out, " Containers: {}", s("Containers"))?;
    writeln!(out, "  Running: {}", s("ContainersRunning"))?;
    writeln!(out, "  Paused: {}", s("ContainersPaused"))?;
    writeln!(out, "  Stopped: {}", s("ContainersStopped"))?;
    writeln!(out, " Images: {}", s("Images"))?;
    writeln!(out, " Server Version: {}", s("ServerVersion"))?;
    writeln!(out, " Storage Driver: {}", s("Driver"))?;
    for pair in i["DriverStatus"].as_array().into_iter().flatten() {
        writeln!(out, "  {}: {}", str_of(&pair[0]), str_of(&pair[1]))?;
    }
    writeln!(out, " Logging Driver: {}", s("LoggingDriver"))?;
    writeln!(out, " Cgroup Driver: {}", s("CgroupDriver"))?;
    writeln!(out, " Cgroup Version: {}", s("CgroupVersion"))?;
    writeln!(out, " Plugins:")?;
    for kind in ["Volume", "Network", "Log"] {
        let names: Vec<String> = i["Plugins"][kind]
            .as_array()
            .into_iter()
            .flatten()
            .map(str_of)
            .collect();
        writeln!(out, "  {kind}: {}", names.join(" "))?;
    }
    writeln!(out, " Swarm: {}", str_of(&i["Swarm"]["LocalNodeState"]))?;
    if let Some(rt) = i["Runtimes"].as_object().filter(|r| !r.is_empty()) {
        let names: Vec<&str> = rt.keys().map(String::as_str).collect();
        writeln!(out, " Runtimes: {}", names.join(" "))?;
        writeln!(out, " Default Runtime: {}", s("DefaultRuntime"))?;
    }
    writeln!(out, " Init Binary: {}", s("InitBinary"))?;
    writeln!(
        out,
        " containerd version: {}",
        str_of(&i["ContainerdCommit"]["ID"])
    )?;
    writeln!(out, " runc version: {}", str_of(&i["RuncCommit"]["ID"]))?;
    writeln!(out, " init version: {}", str_of(&i["InitCommit"]["ID"]))?;
    let opts: Vec<String> = i["SecurityOptions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(str_of)
        .collect();
    if !opts.is_empty() {
        writeln!(out, " Security Options:")?;
        for opt in opts {
            let mut parts = opt.split(',');
            let name = parts.next().unwrap_or("").trim_start_matches("name=");
            writeln!(out, "  {name}")?;
            for kv in parts {
                if let Some((k, v)) = kv.split_once('=') {
                    let mut key = k.to_owned();
                    if let Some(first) = key.get_mut(0..1) {
                        first.make_ascii_uppercase();
                    }
                    writeln!(out, "   {key}: {v}")?;
                }
            }
        }
    }
    writeln!(out, " Kernel Version: {}", s("KernelVersion"))?;
    writeln!(out, " Operating System: {}", s("OperatingSystem"))?;
    writeln!(out, " OSType: {}", s("OSType"))?;
    writeln!(out, " Architecture: {}", s("Architecture"))?;
    writeln!(out, " CPUs: {}", s("NCPU"))?;
    writeln!(
        out,
        " Total Memory: {}",
        bytes_size(i["MemTotal"].as_f64().unwrap_or(0.0))
    )?;
    writeln!(out, " Name: {}", s("Name"))?;
    writeln!(out, " ID: {}", s("ID"))?;
    writeln!(out, " Berth Root Dir: {}", s("DockerRootDir"))?;
    writeln!(out, " Debug Mode: {}", s("Debug"))?;
    let labels: Vec<String> = i["Labels"]
        .as_array()
        .into_iter()
        .flatten()
        .map(str_of)
        .collect();
    if !labels.is_empty() {
        writeln!(out, " Labels:")?;
        for l in labels {
            writeln!(out, "  {l}")?;
        }
    }
    writeln!(out, " Experimental: {}", s("ExperimentalBuild"))?;
    let insecure: Vec<String> = i["RegistryConfig"]["InsecureRegistryCIDRs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(str_of)
        .collect();
    if !insecure.is_empty() {
        writeln!(out, " Insecure Registries:")?;
        for r in insecure {
            writeln!(out, "  {r}")?;
        }
    }
    writeln!(out, " Live Restore Enabled: {}", s("LiveRestoreEnabled"))?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_size_matches_go_units() {
        assert_eq!(bytes_size(25_200_000_000.0), "23.47GiB");
        assert_eq!(bytes_size(1024.0), "1KiB");
        assert_eq!(bytes_size(512.0), "512B");
        assert_eq!(bytes_size(1536.0), "1.5KiB");
    }
}
