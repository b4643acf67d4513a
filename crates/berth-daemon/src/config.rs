//! The daemon's configuration: command-line flags and a JSON file (dockerd's daemon.json
//! names), merged with dockerd's rules: a setting given both ways is an error, and so is a
//! file key that names no setting.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_DATA_ROOT: &str = "/var/lib/berth";
pub const DEFAULT_EXEC_ROOT: &str = "/run/berth";
pub const DEFAULT_HOST: &str = "unix:///run/berth/berth.sock";
pub const DEFAULT_CONFIG_FILE: &str = "/etc/berth/daemon.json";
pub const DEFAULT_GROUP: &str = "berth";

/// `berth daemon`'s flags; every one is optional so the merge can tell what was given.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct DaemonArgs {
    /// Daemon configuration file
    #[arg(long = "config-file", value_name = "PATH")]
    pub config_file: Option<PathBuf>,
    /// Root directory of persistent Berth state (default /var/lib/berth)
    #[arg(long = "data-root", value_name = "PATH")]
    pub data_root: Option<PathBuf>,
    /// Root directory for execution state files (default /run/berth)
    #[arg(long = "exec-root", value_name = "PATH")]
    pub exec_root: Option<PathBuf>,
    /// Path to use for the daemon PID file (default <exec-root>/berthd.pid)
    #[arg(short = 'p', long, value_name = "PATH")]
    pub pidfile: Option<PathBuf>,
    /// Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")
    #[arg(short = 'l', long = "log-level", value_name = "LEVEL",
          value_parser = ["debug", "info", "warn", "error", "fatal"])]
    pub log_level: Option<String>,
    /// Enable debug mode
    #[arg(short = 'D', long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub debug: Option<bool>,
    /// Daemon socket(s) to connect to (unix:///path or tcp://host:port)
    #[arg(short = 'H', long = "host", value_name = "ADDR")]
    pub hosts: Vec<String>,
    /// Group for the unix socket (default "berth"; falls back to root's group if missing)
    #[arg(short = 'G', long, value_name = "GROUP")]
    pub group: Option<String>,
    /// Use TLS; implied by --tlsverify. --tls=false allows plain TCP (insecure)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub tls: Option<bool>,
    /// Use TLS and verify the client (mutual TLS)
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub tlsverify: Option<bool>,
    /// Trust certs signed only by this CA
    #[arg(long, value_name = "PATH")]
    pub tlscacert: Option<PathBuf>,
    /// Path to TLS certificate file
    #[arg(long, value_name = "PATH")]
    pub tlscert: Option<PathBuf>,
    /// Path to TLS key file
    #[arg(long, value_name = "PATH")]
    pub tlskey: Option<PathBuf>,
    /// Set key=value labels to the daemon
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Keep containers running while the daemon is down (default true)
    #[arg(long = "live-restore", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub live_restore: Option<bool>,
    /// Enable experimental features
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub experimental: Option<bool>,
    /// Set parent cgroup for all containers (default: under the daemon's own cgroup)
    #[arg(long = "cgroup-parent", value_name = "PATH")]
    pub cgroup_parent: Option<String>,
    /// Default driver for container logs ("json-file"|"local"|"none")
    #[arg(long = "log-driver", value_name = "DRIVER")]
    pub log_driver: Option<String>,
    /// Default log driver options for containers
    #[arg(long = "log-opt", value_name = "KEY=VALUE")]
    pub log_opts: Vec<String>,
    /// Default mode for containers ipc ("shareable" | "private")
    #[arg(long = "default-ipc-mode", value_name = "MODE")]
    pub default_ipc_mode: Option<String>,
    /// The default bridge's device (`none` disables the default bridge network).
    #[arg(short = 'b', long, value_name = "NAME")]
    pub bridge: Option<String>,
    /// The default bridge's address and prefix, e.g. 172.17.0.1/16.
    #[arg(long, value_name = "CIDR")]
    pub bip: Option<String>,
    /// Where user networks' subnets come from: base=CIDR,size=PREFIX (repeatable).
    #[arg(long = "default-address-pool", value_name = "base=CIDR,size=N")]
    pub default_address_pools: Vec<String>,
    /// Upstream DNS servers for containers.
    #[arg(long = "dns", value_name = "IP")]
    pub dns: Vec<String>,
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub icc: Option<bool>,
    #[arg(long = "ip-masq", num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub ip_masq: Option<bool>,
    /// Whether Berth writes its nftables table (dockerd's --iptables).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub iptables: Option<bool>,
    #[arg(long, value_name = "BYTES")]
    pub mtu: Option<u32>,
    /// User/Group setting for user namespaces
    #[arg(long = "userns-remap", value_name = "USER[:GROUP]")]
    pub userns_remap: Option<String>,
}

/// daemon.json, with dockerd's key names.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FileConfig {
    data_root: Option<PathBuf>,
    exec_root: Option<PathBuf>,
    pidfile: Option<PathBuf>,
    log_level: Option<String>,
    debug: Option<bool>,
    hosts: Option<Vec<String>>,
    group: Option<String>,
    tls: Option<bool>,
    tlsverify: Option<bool>,
    tlscacert: Option<PathBuf>,
    tlscert: Option<PathBuf>,
    tlskey: Option<PathBuf>,
    labels: Option<Vec<String>>,
    live_restore: Option<bool>,
    experimental: Option<bool>,
    cgroup_parent: Option<String>,
    log_driver: Option<String>,
    log_opts: Option<std::collections::HashMap<String, String>>,
    default_ipc_mode: Option<String>,
    bridge: Option<String>,
    bip: Option<String>,
    default_address_pools: Option<Vec<AddressPoolEntry>>,
    dns: Option<Vec<String>>,
    icc: Option<bool>,
    ip_masq: Option<bool>,
    iptables: Option<bool>,
    mtu: Option<u32>,
    userns_remap: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct AddressPoolEntry {
    base: String,
    size: u8,
}

const FILE_KEYS: &[&str] = &[
    "data-root",
    "exec-root",
    "pidfile",
    "log-level",
    "debug",
    "hosts",
    "group",
    "tls",
    "tlsverify",
    "tlscacert",
    "tlscert",
    "tlskey",
    "labels",
    "live-restore",
    "experimental",
    "cgroup-parent",
    "log-driver",
    "log-opts",
    "bridge",
    "bip",
    "default-address-pools",
    "dns",
    "icc",
    "ip-masq",
    "iptables",
    "mtu",
    "userns-remap",
];

/// How the TCP listeners are secured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// No TLS. TCP listeners are refused unless `plain_tcp_allowed`.
    Off { plain_tcp_allowed: bool },
    /// Server-side TLS only: traffic is encrypted, clients are not authenticated.
    ServerOnly { cert: PathBuf, key: PathBuf },
    /// Mutual TLS: clients must present a certificate signed by `ca`.
    Mutual {
        ca: PathBuf,
        cert: PathBuf,
        key: PathBuf,
    },
}

/// The resolved configuration the daemon runs with.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub config_file: Option<PathBuf>,
    pub data_root: PathBuf,
    pub exec_root: PathBuf,
    pub pidfile: PathBuf,
    pub log_level: String,
    pub debug: bool,
    pub hosts: Vec<String>,
    pub group: String,
    pub group_explicit: bool,
    pub tls: TlsMode,
    pub labels: Vec<String>,
    pub live_restore: bool,
    pub experimental: bool,
    pub cgroup_parent: Option<String>,
    pub log_driver: String,
    pub log_opts: std::collections::HashMap<String, String>,
    /// `private` (dockerd's default) or `shareable`.
    pub default_ipc_mode: String,
    pub network: berth_engine::networks::NetworkConfig,
    /// `--userns-remap`: `default`, `user[:group]` or `uid[:gid]`.
    pub userns_remap: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("unable to configure the Berth daemon with file {path}: {reason}")]
    File { path: String, reason: String },
    #[error(
        "the following directives are specified both as a flag and in the configuration file: {0}"
    )]
    Conflicts(String),
    #[error("the following directives don't match any configuration option: {0}")]
    UnknownKeys(String),
    #[error("bad attribute format: {0}")]
    BadLabel(String),
    #[error("{0}")]
    Invalid(String),
}

impl DaemonConfig {
    /// Reads the configuration file (the default one only if it exists) and merges it with
    /// the flags.
    pub fn load(args: &DaemonArgs) -> Result<Self, ConfigError> {
        let (path, required) = match &args.config_file {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
        };
        let file = match std::fs::read_to_string(&path) {
            Ok(text) => Some(parse_file(&text).map_err(|reason| ConfigError::File {
                path: path.display().to_string(),
                reason,
            })?),
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(ConfigError::File {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })
            }
        };
        let mut config = merge(args, file.unwrap_or_default())?;
        config.config_file = path.exists().then_some(path);
        Ok(config)
    }
}

fn parse_file(text: &str) -> Result<FileConfig, String> {
    let raw: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| e.to_string())?;
    let unknown: Vec<&str> = raw
        .keys()
        .map(String::as_str)
        .filter(|k| !FILE_KEYS.contains(k))
        .collect();
    if !unknown.is_empty() {
        return Err(ConfigError::UnknownKeys(unknown.join(", ")).to_string());
    }
    serde_json::from_value(serde_json::Value::Object(raw)).map_err(|e| e.to_string())
}

/// Reads only the settings a running daemon can change on SIGHUP.
pub fn reload_file(path: &Path) -> Result<(Option<bool>, Option<Vec<String>>), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let file = parse_file(&text).map_err(|reason| ConfigError::File {
        path: path.display().to_string(),
        reason,
    })?;
    if let Some(labels) = &file.labels {
        validate_labels(labels)?;
    }
    Ok((file.debug, file.labels))
}

struct Conflicts(Vec<String>);

impl Conflicts {
    fn check<T: Display>(&mut self, name: &str, flag: Option<T>, file: Option<T>) {
        if let (Some(a), Some(b)) = (flag, file) {
            self.0
                .push(format!("{name}: (from flag: {a}, from file: {b})"));
        }
    }
}

fn list(v: &[String]) -> Option<String> {
    (!v.is_empty()).then(|| format!("[{}]", v.join(" ")))
}

fn path_str(p: &Option<PathBuf>) -> Option<String> {
    p.as_ref().map(|p| p.display().to_string())
}

fn merge(args: &DaemonArgs, file: FileConfig) -> Result<DaemonConfig, ConfigError> {
    let mut c = Conflicts(Vec::new());
    c.check(
        "data-root",
        path_str(&args.data_root),
        path_str(&file.data_root),
    );
    c.check(
        "exec-root",
        path_str(&args.exec_root),
        path_str(&file.exec_root),
    );
    c.check("pidfile", path_str(&args.pidfile), path_str(&file.pidfile));
    c.check("log-level", args.log_level.clone(), file.log_level.clone());
    c.check("debug", args.debug, file.debug);
    c.check(
        "hosts",
        list(&args.hosts),
        file.hosts.as_deref().and_then(list),
    );
    c.check("group", args.group.clone(), file.group.clone());
    c.check("tls", args.tls, file.tls);
    c.check("tlsverify", args.tlsverify, file.tlsverify);
    c.check(
        "tlscacert",
        path_str(&args.tlscacert),
        path_str(&file.tlscacert),
    );
    c.check("tlscert", path_str(&args.tlscert), path_str(&file.tlscert));
    c.check("tlskey", path_str(&args.tlskey), path_str(&file.tlskey));
    c.check(
        "labels",
        list(&args.labels),
        file.labels.as_deref().and_then(list),
    );
    c.check("live-restore", args.live_restore, file.live_restore);
    c.check("experimental", args.experimental, file.experimental);
    c.check(
        "cgroup-parent",
        args.cgroup_parent.clone(),
        file.cgroup_parent.clone(),
    );
    c.check(
        "log-driver",
        args.log_driver.clone(),
        file.log_driver.clone(),
    );
    c.check(
        "log-opts",
        list(&args.log_opts),
        file.log_opts.as_ref().map(|m| format!("{m:?}")),
    );
    c.check(
        "default-ipc-mode",
        args.default_ipc_mode.clone(),
        file.default_ipc_mode.clone(),
    );
    c.check(
        "userns-remap",
        args.userns_remap.clone(),
        file.userns_remap.clone(),
    );
    if !c.0.is_empty() {
        return Err(ConfigError::Conflicts(c.0.join(", ")));
    }

    let network = network_config(args, &file)?;
    let exec_root = args
        .exec_root
        .clone()
        .or(file.exec_root)
        .unwrap_or_else(|| DEFAULT_EXEC_ROOT.into());
    let hosts = if !args.hosts.is_empty() {
        args.hosts.clone()
    } else {
        file.hosts.unwrap_or_else(|| vec![DEFAULT_HOST.to_owned()])
    };
    let labels = if !args.labels.is_empty() {
        args.labels.clone()
    } else {
        file.labels.unwrap_or_default()
    };
    validate_labels(&labels)?;
    let debug = args.debug.or(file.debug).unwrap_or(false);
    let log_level = args
        .log_level
        .clone()
        .or(file.log_level)
        .unwrap_or_else(|| if debug { "debug" } else { "info" }.to_owned());
    if !["debug", "info", "warn", "error", "fatal"].contains(&log_level.as_str()) {
        return Err(ConfigError::Invalid(format!(
            "invalid log level: {log_level}"
        )));
    }
    let group_arg = args.group.clone().or(file.group);
    let default_ipc_mode = args
        .default_ipc_mode
        .clone()
        .or(file.default_ipc_mode)
        .unwrap_or_else(|| "private".to_owned());
    berth_engine::containers::check_default_ipc_mode(&default_ipc_mode)
        .map_err(ConfigError::Invalid)?;
    let tls = tls_mode(
        args.tls.or(file.tls),
        args.tlsverify.or(file.tlsverify),
        args.tlscacert.clone().or(file.tlscacert),
        args.tlscert.clone().or(file.tlscert),
        args.tlskey.clone().or(file.tlskey),
    );
    Ok(DaemonConfig {
        config_file: None,
        data_root: args
            .data_root
            .clone()
            .or(file.data_root)
            .unwrap_or_else(|| DEFAULT_DATA_ROOT.into()),
        pidfile: args
            .pidfile
            .clone()
            .or(file.pidfile)
            .unwrap_or_else(|| exec_root.join("berthd.pid")),
        exec_root,
        log_level,
        debug,
        hosts,
        group_explicit: group_arg.is_some(),
        group: group_arg.unwrap_or_else(|| DEFAULT_GROUP.to_owned()),
        tls,
        labels,
        live_restore: args.live_restore.or(file.live_restore).unwrap_or(true),
        experimental: args.experimental.or(file.experimental).unwrap_or(false),
        cgroup_parent: args.cgroup_parent.clone().or(file.cgroup_parent),
        log_driver: args
            .log_driver
            .clone()
            .or(file.log_driver)
            .unwrap_or_else(|| "json-file".to_owned()),
        log_opts: if args.log_opts.is_empty() {
            file.log_opts.unwrap_or_default()
        } else {
            args.log_opts
                .iter()
                .map(|kv| {
                    kv.split_once('=')
                        .map(|(k, v)| (k.to_owned(), v.to_owned()))
                        .ok_or_else(|| ConfigError::Invalid(format!("invalid log opt: {kv}")))
                })
                .collect::<Result<_, _>>()?
        },
        default_ipc_mode,
        network,
        userns_remap: args.userns_remap.clone().or(file.userns_remap),
    })
}

/// dockerd's `--default-address-pool base=10.10.0.0/16,size=24`.
fn parse_address_pool(s: &str) -> Result<(String, u8), ConfigError> {
    let mut base = None;
    let mut size = None;
    for part in s.split(',') {
        match part.split_once('=') {
            Some(("base", v)) => base = Some(v.to_owned()),
            Some(("size", v)) => size = v.parse::<u8>().ok(),
            _ => {
                return Err(ConfigError::Invalid(format!(
                    "invalid default address pool: {s}"
                )))
            }
        }
    }
    match (base, size) {
        (Some(b), Some(n)) if n <= 32 && b.parse::<std::net::Ipv4Addr>().is_err() => Ok((b, n)),
        _ => Err(ConfigError::Invalid(format!(
            "invalid default address pool: {s}"
        ))),
    }
}

fn network_config(
    args: &DaemonArgs,
    file: &FileConfig,
) -> Result<berth_engine::networks::NetworkConfig, ConfigError> {
    let defaults = berth_engine::networks::NetworkConfig::default();
    let address_pools = if !args.default_address_pools.is_empty() {
        args.default_address_pools
            .iter()
            .map(|p| parse_address_pool(p))
            .collect::<Result<_, _>>()?
    } else {
        file.default_address_pools
            .iter()
            .flatten()
            .map(|p| (p.base.clone(), p.size))
            .collect()
    };
    let dns = if args.dns.is_empty() {
        file.dns.clone().unwrap_or_default()
    } else {
        args.dns.clone()
    };
    if let Some(bad) = dns.iter().find(|d| d.parse::<std::net::IpAddr>().is_err()) {
        return Err(ConfigError::Invalid(format!("{bad} is not an ip address")));
    }
    Ok(berth_engine::networks::NetworkConfig {
        bridge: args
            .bridge
            .clone()
            .or_else(|| file.bridge.clone())
            .unwrap_or(defaults.bridge),
        bip: args.bip.clone().or_else(|| file.bip.clone()),
        address_pools,
        dns,
        icc: args.icc.or(file.icc).unwrap_or(defaults.icc),
        ip_masq: args.ip_masq.or(file.ip_masq).unwrap_or(defaults.ip_masq),
        firewall: args.iptables.or(file.iptables).unwrap_or(defaults.firewall),
        mtu: args.mtu.or(file.mtu),
    })
}

fn validate_labels(labels: &[String]) -> Result<(), ConfigError> {
    match labels
        .iter()
        .find(|l| !l.contains('=') || l.starts_with('='))
    {
        Some(bad) => Err(ConfigError::BadLabel(bad.clone())),
        None => Ok(()),
    }
}

/// Where certificates are looked for when a TLS path is not given: `$DOCKER_CERT_PATH` or
/// `~/.docker`, as dockerd does.
fn default_cert_dir() -> PathBuf {
    std::env::var_os("DOCKER_CERT_PATH")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker")))
        .unwrap_or_else(|| PathBuf::from("/root/.docker"))
}

fn tls_mode(
    tls: Option<bool>,
    verify: Option<bool>,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
) -> TlsMode {
    let dir = default_cert_dir();
    let cert = cert.unwrap_or_else(|| dir.join("cert.pem"));
    let key = key.unwrap_or_else(|| dir.join("key.pem"));
    if verify == Some(true) {
        TlsMode::Mutual {
            ca: ca.unwrap_or_else(|| dir.join("ca.pem")),
            cert,
            key,
        }
    } else if tls == Some(true) {
        TlsMode::ServerOnly { cert, key }
    } else {
        TlsMode::Off {
            plain_tcp_allowed: tls == Some(false) || verify == Some(false),
        }
    }
}

/// A listen address from `-H`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostAddr {
    Unix(PathBuf),
    Tcp(String),
}

impl HostAddr {
    pub fn parse(spec: &str) -> Result<Self, ConfigError> {
        let bad = || ConfigError::Invalid(format!("invalid daemon address: {spec:?}"));
        if let Some(path) = spec.strip_prefix("unix://") {
            let path = if path.is_empty() {
                "/run/berth/berth.sock"
            } else {
                path
            };
            if !path.starts_with('/') {
                return Err(bad());
            }
            return Ok(Self::Unix(path.into()));
        }
        if spec.starts_with('/') {
            return Ok(Self::Unix(spec.into()));
        }
        if let Some(addr) = spec.strip_prefix("tcp://") {
            let addr = addr.trim_end_matches('/');
            let (host, port) = match addr.rsplit_once(':') {
                Some((h, p)) if !p.is_empty() && !p.contains(']') => (h, p),
                _ => (addr, "2376"),
            };
            let host = if host.is_empty() { "0.0.0.0" } else { host };
            port.parse::<u16>().map_err(|_| bad())?;
            return Ok(Self::Tcp(format!("{host}:{port}")));
        }
        Err(ConfigError::Invalid(format!(
            "invalid daemon address {spec:?}: only unix:// and tcp:// are supported"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: DaemonArgs,
    }

    fn args(argv: &[&str]) -> DaemonArgs {
        Cli::parse_from(std::iter::once("daemon").chain(argv.iter().copied())).args
    }

    #[test]
    fn defaults_apply_when_nothing_is_given() {
        let c = merge(&args(&[]), FileConfig::default()).unwrap();
        assert_eq!(c.data_root, Path::new(DEFAULT_DATA_ROOT));
        assert_eq!(c.pidfile, Path::new("/run/berth/berthd.pid"));
        assert_eq!(c.hosts, [DEFAULT_HOST]);
        assert_eq!(c.group, "berth");
        assert!(!c.group_explicit);
        assert!(c.live_restore);
        assert_eq!(
            c.tls,
            TlsMode::Off {
                plain_tcp_allowed: false
            }
        );
    }

    #[test]
    fn a_setting_given_as_flag_and_in_the_file_is_an_error() {
        let file = parse_file(r#"{"data-root":"/b","hosts":["unix:///x"],"debug":true}"#).unwrap();
        let err = merge(&args(&["--data-root", "/a", "-D"]), file).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the following directives are specified both as a flag and in the configuration file: data-root: (from flag: /a, from file: /b), debug: (from flag: true, from file: true)"
        );
    }

    #[test]
    fn file_values_are_used_and_unknown_keys_rejected() {
        let file =
            parse_file(r#"{"data-root":"/b","labels":["a=b"],"live-restore":false}"#).unwrap();
        let c = merge(&args(&["--exec-root", "/e"]), file).unwrap();
        assert_eq!(c.data_root, Path::new("/b"));
        assert_eq!(c.exec_root, Path::new("/e"));
        assert_eq!(c.pidfile, Path::new("/e/berthd.pid"));
        assert_eq!(c.labels, ["a=b"]);
        assert!(!c.live_restore);
        let err = parse_file(r#"{"data-root":"/b","colour":"red"}"#).unwrap_err();
        assert_eq!(
            err,
            "the following directives don't match any configuration option: colour"
        );
        assert!(parse_file("{not json").is_err());
    }

    #[test]
    fn userns_remap_comes_from_the_flag_or_the_file_not_both() {
        let c = merge(&args(&["--userns-remap", "default"]), FileConfig::default()).unwrap();
        assert_eq!(c.userns_remap.as_deref(), Some("default"));
        let file = parse_file(r#"{"userns-remap":"1000:1000"}"#).unwrap();
        let c = merge(&args(&[]), file.clone()).unwrap();
        assert_eq!(c.userns_remap.as_deref(), Some("1000:1000"));
        let err = merge(&args(&["--userns-remap", "x"]), file).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the following directives are specified both as a flag and in the configuration file: userns-remap: (from flag: x, from file: 1000:1000)"
        );
        assert!(merge(&args(&[]), FileConfig::default())
            .unwrap()
            .userns_remap
            .is_none());
    }

    #[test]
    fn tls_flags_resolve_to_a_mode() {
        let m = merge(
            &args(&[
                "--tlsverify",
                "--tlscacert",
                "/c",
                "--tlscert",
                "/s",
                "--tlskey",
                "/k",
            ]),
            FileConfig::default(),
        )
        .unwrap();
        assert_eq!(
            m.tls,
            TlsMode::Mutual {
                ca: "/c".into(),
                cert: "/s".into(),
                key: "/k".into()
            }
        );
        let off = merge(&args(&["--tls=false"]), FileConfig::default()).unwrap();
        assert_eq!(
            off.tls,
            TlsMode::Off {
                plain_tcp_allowed: true
            }
        );
        let server = merge(
            &args(&["--tls", "--tlscert", "/s", "--tlskey", "/k"]),
            FileConfig::default(),
        )
        .unwrap();
        assert_eq!(
            server.tls,
            TlsMode::ServerOnly {
                cert: "/s".into(),
                key: "/k".into()
            }
        );
    }

    #[test]
    fn bad_labels_and_levels_are_rejected() {
        assert_eq!(
            merge(&args(&["--label", "novalue"]), FileConfig::default()).unwrap_err(),
            ConfigError::BadLabel("novalue".into())
        );
        let file = parse_file(r#"{"log-level":"chatty"}"#).unwrap();
        assert!(merge(&args(&[]), file).is_err());
    }

    #[test]
    fn host_addresses_parse_like_dockerd() {
        assert_eq!(
            HostAddr::parse("unix:///tmp/x.sock").unwrap(),
            HostAddr::Unix("/tmp/x.sock".into())
        );
        assert_eq!(
            HostAddr::parse("tcp://127.0.0.1:2376").unwrap(),
            HostAddr::Tcp("127.0.0.1:2376".into())
        );
        assert_eq!(
            HostAddr::parse("tcp://:2375").unwrap(),
            HostAddr::Tcp("0.0.0.0:2375".into())
        );
        assert!(HostAddr::parse("tcp://host:notaport").is_err());
        assert!(HostAddr::parse("fd://").is_err());
        assert!(HostAddr::parse("unix://relative").is_err());
    }
}
