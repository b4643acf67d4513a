//! `create`, and the container creation `run` shares with it (docker/cli's
//! `createContainer`): the `--cidfile`, the image reference check, pulling a missing
//! image (`--pull`), version-dependent fields, and the daemon's warnings.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use berth_api::ApiVersion;
use berth_client::{Client, ClientError, JsonLines};
use berth_core::Reference;
use http::{Method, StatusCode};
use serde_json::Value;

use super::config::{self, CreateRequest};
use super::opts::ContainerOptions;
use super::status::{with_help, StatusError};
use super::tty;
use crate::cli::query::Query;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
#[command(
    disable_help_flag = true,
    override_usage = "berth create [OPTIONS] IMAGE [COMMAND] [ARG...]"
)]
pub struct CreateArgs {
    #[command(flatten)]
    pub opts: ContainerOptions,
}

/// `--pull`: always, missing (the default) or never.
pub fn validate_pull(pull: &str) -> Result<(), String> {
    match pull {
        "" | "always" | "missing" | "never" => Ok(()),
        _ => Err(format!(
            "invalid pull option: '{pull}': must be one of \"always\", \"missing\" or \"never\""
        )),
    }
}

/// Parses the flags into a request, with `command`'s wording for errors (exit 125).
pub fn parse_request(opts: &ContainerOptions, command: &str) -> Result<CreateRequest, StatusError> {
    validate_pull(&opts.pull).map_err(|e| StatusError::new(with_help(&e, command), 125))?;
    config::parse(opts).map_err(|e| StatusError::new(with_help(&e, command), 125))
}

pub async fn create(g: &GlobalOptions, args: CreateArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let version = client.negotiate().await?;
    check_flag_versions(&args.opts, version).map_err(anyhow::Error::msg)?;
    let mut req = parse_request(&args.opts, "create")?;
    let id = create_container(&mut client, &mut req, &args.opts)
        .await
        .map_err(anyhow::Error::msg)?;
    println!("{id}");
    Ok(ExitCode::SUCCESS)
}

/// A named reference for pulls, or `None` when the image is given by ID or digest
/// (`reference.ParseAnyReference`).
fn named_reference(image: &str) -> Result<Option<Reference>, String> {
    let is_hex64 = |s: &str| {
        s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    if is_hex64(image) || image.strip_prefix("sha256:").is_some_and(is_hex64) {
        return Ok(None);
    }
    Reference::parse_normalized_tagged(image)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// The `--cidfile`: refused if it exists, removed again unless the ID got written.
struct CidFile {
    path: Option<std::path::PathBuf>,
    written: bool,
}

impl CidFile {
    fn open(path: Option<&str>) -> Result<Self, String> {
        let Some(path) = path.filter(|p| !p.is_empty()) else {
            return Ok(Self {
                path: None,
                written: false,
            });
        };
        let p = std::path::PathBuf::from(path);
        if p.exists() {
            return Err(format!("container ID file found, make sure the other container isn't running or delete {path}"));
        }
        std::fs::File::create(&p)
            .map_err(|e| format!("failed to create the container ID file: {e}"))?;
        Ok(Self {
            path: Some(p),
            written: false,
        })
    }

    fn write(&mut self, id: &str) -> Result<(), String> {
        if let Some(p) = &self.path {
            std::fs::write(p, id)
                .map_err(|e| format!("failed to write the container ID to the file: {e}"))?;
            self.written = true;
        }
        Ok(())
    }
}

impl Drop for CidFile {
    fn drop(&mut self) {
        if let (Some(p), false) = (&self.path, self.written) {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Flags the negotiated API version is too old for, refused as docker refuses them
/// before doing anything.
pub fn check_flag_versions(opts: &ContainerOptions, version: ApiVersion) -> Result<(), String> {
    let flags: [(&str, bool, u32); 2] = [
        ("--annotation", !opts.annotations.is_empty(), 43),
        (
            "--health-start-interval",
            opts.health_start_interval.is_some(),
            44,
        ),
    ];
    for (flag, given, minor) in flags {
        if given && version < ApiVersion::new(1, minor) {
            return Err(format!(
                "\"{flag}\" requires API version 1.{minor}, but the Docker daemon API version is {version}"
            ));
        }
    }
    Ok(())
}

/// What the Go client changes for the negotiated API version, and its refusals.
fn adjust_for_version(
    req: &mut CreateRequest,
    version: ApiVersion,
    platform_linux: bool,
) -> Result<(), String> {
    let v = |minor| ApiVersion::new(1, minor);
    let body = &mut req.body;
    if body["Healthcheck"]["StartInterval"]
        .as_i64()
        .is_some_and(|i| i != 0)
        && version < v(44)
    {
        return Err(format!("\"specify health-check start interval\" requires API version 1.44, but the Docker daemon API version is {version}"));
    }
    let endpoint_mac = body["NetworkingConfig"]["EndpointsConfig"]
        .as_object()
        .is_some_and(|eps| {
            eps.values()
                .any(|e| e["MacAddress"].as_str().is_some_and(|m| !m.is_empty()))
        });
    if endpoint_mac && version < v(44) {
        return Err(format!("\"specify mac-address per network\" requires API version 1.44, but the Docker daemon API version is {version}"));
    }
    let host = &mut body["HostConfig"];
    if version >= v(42) || version < v(40) {
        if let Some(h) = host.as_object_mut() {
            h.remove("KernelMemory");
        }
    }
    if platform_linux && version < v(42) {
        host["ConsoleSize"] = serde_json::json!([0, 0]);
    }
    if version >= v(44) {
        if let Some(b) = body.as_object_mut() {
            b.remove("MacAddress");
        }
    }
    Ok(())
}

/// docker's warning for `--dns` on a loopback address.
fn localhost_dns_warning(dns: &[String]) -> Option<String> {
    dns.iter()
        .filter_map(|d| d.parse::<std::net::IpAddr>().ok())
        .find(|ip| ip.is_loopback())
        .map(|ip| format!("Localhost DNS ({ip}) may fail in containers."))
}

/// Pulls `reference` as docker's `pullImage`, progress on stderr unless `quiet`.
async fn pull_image(
    client: &mut Client,
    reference: &Reference,
    platform: Option<&str>,
    quiet: bool,
) -> Result<(), String> {
    let mut q = Query::new();
    q.push("fromImage", &reference.name());
    let tag = match (reference.digest(), reference.tag()) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.to_owned(),
        (None, None) => String::new(),
    };
    q.push("tag", &tag);
    if let Some(p) = platform {
        q.push("platform", &p.to_lowercase());
    }
    let res = client
        .request(Method::POST, &q.path("/images/create"), None)
        .await
        .map_err(|e| e.to_string())?;
    let mut lines = JsonLines::new(res);
    let mut err = std::io::stderr().lock();
    while let Some(msg) = lines.next::<Value>().await.map_err(|e| e.to_string())? {
        if let Some(e) = msg["errorDetail"]["message"]
            .as_str()
            .or_else(|| msg["error"].as_str())
        {
            return Err(e.to_owned());
        }
        if quiet
            || msg
                .get("progressDetail")
                .is_some_and(|p| p.as_object().is_some_and(|o| !o.is_empty()))
        {
            continue;
        }
        if let Some(status) = msg["status"].as_str() {
            let _ = match msg["id"].as_str() {
                Some(id) => writeln!(err, "{id}: {status}"),
                None => writeln!(err, "{status}"),
            };
        }
    }
    Ok(())
}

/// Creates the container and returns its ID; errors are worded as docker prints them.
pub async fn create_container(
    client: &mut Client,
    req: &mut CreateRequest,
    opts: &ContainerOptions,
) -> Result<String, String> {
    let mut cid_file = CidFile::open(opts.cidfile.as_deref())?;
    let named = named_reference(req.image())?;
    let version = client.negotiate().await.map_err(|e| e.to_string())?;
    let platform = opts.platform.as_deref().filter(|p| !p.is_empty());
    let platform_linux = platform.is_some_and(|p| p.to_lowercase().starts_with("linux"));

    if opts.pull == "always" {
        if let Some(r) = &named {
            pull_image(client, r, platform, opts.quiet).await?;
        }
    }
    let (h, w) = tty::size();
    req.set_console_size(h, w);
    adjust_for_version(req, version, platform_linux)?;

    let mut q = Query::new();
    if let Some(p) = platform {
        q.push("platform", &p.to_lowercase());
    }
    if let Some(n) = opts.name.as_deref().filter(|n| !n.is_empty()) {
        q.push("name", n);
    }
    let path = q.path("/containers/create");
    let response = match client.request_json(Method::POST, &path, &req.body).await {
        Ok(res) => res,
        Err(ClientError::Daemon {
            status: StatusCode::NOT_FOUND,
            ..
        }) if named.is_some() && opts.pull == "missing" => {
            let r = named.as_ref().expect("checked above");
            if !opts.quiet {
                eprintln!("Unable to find image '{}' locally", r.familiar_string());
            }
            pull_image(client, r, platform, opts.quiet).await?;
            client
                .request_json(Method::POST, &path, &req.body)
                .await
                .map_err(|e| e.to_string())?
        }
        Err(e) => return Err(e.to_string()),
    };
    let body = berth_client::read_body(response)
        .await
        .map_err(|e| e.to_string())?;
    let created: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let id = created["Id"].as_str().unwrap_or_default().to_owned();
    let mut warnings: Vec<String> = created["Warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    warnings.extend(localhost_dns_warning(&req.dns()));
    for w in &warnings {
        eprintln!("WARNING: {w}");
    }
    cid_file.write(&id)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_by_id_are_not_pulled() {
        let id = "837bba90651b3c324c9d3f1e414be7af84bbe4b8974d7f553902154aedc49bc1";
        assert!(named_reference(id).unwrap().is_none());
        assert!(named_reference(&format!("sha256:{id}")).unwrap().is_none());
        let r = named_reference("busybox").unwrap().unwrap();
        assert_eq!(r.familiar_string(), "busybox:latest");
        assert_eq!(r.name(), "docker.io/library/busybox");
        assert_eq!(
            named_reference("BAD:ref::x").unwrap_err(),
            "invalid reference format: repository name (library/BAD) must be lowercase"
        );
    }

    #[test]
    fn pull_option_values() {
        assert!(validate_pull("never").is_ok());
        assert_eq!(
            validate_pull("bad").unwrap_err(),
            "invalid pull option: 'bad': must be one of \"always\", \"missing\" or \"never\""
        );
    }

    #[test]
    fn version_adjustments_follow_the_go_client() {
        let mut req = CreateRequest {
            body: json!({"MacAddress": "aa", "HostConfig": {"KernelMemory": 5, "ConsoleSize": [24, 80], "NetworkMode": "default"}, "NetworkingConfig": {"EndpointsConfig": {}}}),
        };
        adjust_for_version(&mut req, ApiVersion::new(1, 41), true).unwrap();
        assert_eq!(req.body["HostConfig"]["KernelMemory"], 5);
        assert_eq!(req.body["HostConfig"]["ConsoleSize"], json!([0, 0]));
        assert_eq!(req.body["MacAddress"], "aa");
        adjust_for_version(&mut req, ApiVersion::new(1, 44), false).unwrap();
        assert!(req.body["HostConfig"].get("KernelMemory").is_none());
        assert!(req.body.get("MacAddress").is_none());
        let mut hc = CreateRequest {
            body: json!({"Healthcheck": {"StartInterval": 5}, "HostConfig": {}, "NetworkingConfig": {}}),
        };
        assert!(adjust_for_version(&mut hc, ApiVersion::new(1, 43), false)
            .unwrap_err()
            .starts_with("\"specify health-check start interval\" requires API version 1.44"));
    }

    #[test]
    fn loopback_dns_warns() {
        assert_eq!(
            localhost_dns_warning(&["8.8.8.8".into(), "127.0.0.53".into()]).unwrap(),
            "Localhost DNS (127.0.0.53) may fail in containers."
        );
        assert!(localhost_dns_warning(&["1.1.1.1".into()]).is_none());
    }
}
