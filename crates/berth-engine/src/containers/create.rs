//! `POST /containers/create`: the image's defaults merged with the request, Docker's
//! checks, a name, a writable layer, and a record on disk.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::DirBuilderExt;
use std::sync::Arc;

use berth_api::events::event_type;
use berth_api::models::{
    ContainerConfig, ContainerCreateBody, HostConfig, HostConfigCgroupnsModeEnum,
    HostConfigLogConfig,
};
use berth_core::{ChainId, ErrorKind};

use super::record::{ContainerPaths, ContainerRecord, State};
use super::{names, runtime_spec, Container};
use crate::error::EngineError;
use crate::Engine;

pub struct CreateOptions {
    pub name: Option<String>,
    pub body: ContainerCreateBody,
}

pub struct Created {
    pub id: String,
    pub warnings: Vec<String>,
}

fn invalid(msg: impl Into<String>) -> EngineError {
    EngineError::InvalidParameter(msg.into())
}

/// Splits the create body into Config and HostConfig.
fn split(body: ContainerCreateBody) -> (ContainerConfig, HostConfig) {
    let hc = body.host_config.unwrap_or_default();
    let cfg = ContainerConfig {
        hostname: body.hostname,
        domainname: body.domainname,
        user: body.user,
        attach_stdin: body.attach_stdin,
        attach_stdout: body.attach_stdout,
        attach_stderr: body.attach_stderr,
        exposed_ports: body.exposed_ports,
        tty: body.tty,
        open_stdin: body.open_stdin,
        stdin_once: body.stdin_once,
        env: body.env,
        cmd: body.cmd,
        healthcheck: body.healthcheck,
        args_escaped: body.args_escaped,
        image: body.image,
        volumes: body.volumes,
        working_dir: body.working_dir,
        entrypoint: body.entrypoint,
        network_disabled: body.network_disabled,
        mac_address: body.mac_address,
        on_build: body.on_build,
        labels: body.labels,
        stop_signal: body.stop_signal,
        stop_timeout: body.stop_timeout,
        shell: body.shell,
    };
    (cfg, hc)
}

fn env_key(e: &str) -> &str {
    e.split_once('=').map_or(e, |(k, _)| k)
}

/// Docker's merge of the image config into the user's (daemon/images merge.go rules).
pub(crate) fn merge(user: &mut ContainerConfig, image: &ContainerConfig) {
    if user.user.as_deref().unwrap_or("").is_empty() {
        user.user = image.user.clone();
    }
    let mut ports: Vec<String> = image.exposed_ports.clone().unwrap_or_default();
    for p in user.exposed_ports.iter().flatten() {
        if !ports.contains(p) {
            ports.push(p.clone());
        }
    }
    user.exposed_ports = (!ports.is_empty()).then_some(ports);
    let mut env: Vec<String> = user.env.clone().unwrap_or_default();
    for e in image.env.iter().flatten().rev() {
        if !env.iter().any(|u| env_key(u) == env_key(e)) {
            env.insert(0, e.clone());
        }
    }
    // Keep the image's order first, then the user's additions.
    let mut ordered: Vec<String> = Vec::new();
    for e in image.env.iter().flatten() {
        if let Some(u) = env.iter().find(|u| env_key(u) == env_key(e)) {
            ordered.push(u.clone());
        }
    }
    for u in &env {
        if !ordered.iter().any(|o| env_key(o) == env_key(u)) {
            ordered.push(u.clone());
        }
    }
    user.env = Some(ordered);
    let mut labels: HashMap<String, String> = image.labels.clone().unwrap_or_default();
    labels.extend(user.labels.clone().unwrap_or_default());
    user.labels = Some(labels);
    if user.entrypoint.as_ref().is_none_or(|e| e.is_empty()) {
        if user.cmd.as_ref().is_none_or(|c| c.is_empty()) {
            user.cmd = image.cmd.clone();
            user.args_escaped = image.args_escaped;
        }
        if user.entrypoint.is_none() {
            user.entrypoint = image.entrypoint.clone();
        }
    }
    match (&mut user.healthcheck, &image.healthcheck) {
        (None, Some(h)) => user.healthcheck = Some(h.clone()),
        (Some(u), Some(h)) => {
            if u.test.as_ref().is_none_or(|t| t.is_empty()) {
                u.test = h.test.clone();
            }
            if u.interval.unwrap_or(0) == 0 {
                u.interval = h.interval;
            }
            if u.timeout.unwrap_or(0) == 0 {
                u.timeout = h.timeout;
            }
            if u.start_period.unwrap_or(0) == 0 {
                u.start_period = h.start_period;
            }
            if u.retries.unwrap_or(0) == 0 {
                u.retries = h.retries;
            }
        }
        _ => {}
    }
    if user.working_dir.as_deref().unwrap_or("").is_empty() {
        user.working_dir = image.working_dir.clone();
    }
    let mut volumes = image.volumes.clone().unwrap_or_default();
    for v in user.volumes.iter().flatten() {
        if !volumes.contains(v) {
            volumes.push(v.clone());
        }
    }
    user.volumes = (!volumes.is_empty()).then_some(volumes);
    if user.stop_signal.as_deref().unwrap_or("").is_empty() {
        user.stop_signal = image.stop_signal.clone();
    }
    if user.on_build.is_none() {
        user.on_build = image.on_build.clone();
    }
    if user.shell.is_none() {
        user.shell = image.shell.clone();
    }
}

const LOG_OPTS_JSON_FILE: &[&str] = &[
    "max-size",
    "max-file",
    "compress",
    "labels",
    "labels-regex",
    "env",
    "env-regex",
    "tag",
];
const LOG_OPTS_LOCAL: &[&str] = &[
    "max-size",
    "max-file",
    "compress",
    "labels",
    "labels-regex",
    "env",
    "env-regex",
    "tag",
];

/// Fills in the daemon's default log driver, and the rotation Berth turns on by default
/// (a container's log never grows without bound), then checks the options.
fn log_config(engine: &Engine, hc: &mut HostConfig) -> Result<(), EngineError> {
    let settings = engine.containers.settings();
    let mut lc = hc.log_config.clone().unwrap_or(HostConfigLogConfig {
        typ: None,
        config: None,
    });
    let driver = match lc.typ.as_deref() {
        None | Some("") => settings.log_driver.clone(),
        Some(d) => d.to_owned(),
    };
    let mut opts = lc.config.clone().unwrap_or_default();
    if lc.typ.as_deref().unwrap_or("").is_empty() && opts.is_empty() {
        opts = settings.log_opts.clone();
    }
    let allowed = match driver.as_str() {
        "json-file" => LOG_OPTS_JSON_FILE,
        "local" => LOG_OPTS_LOCAL,
        "none" => &[][..],
        other => {
            return Err(invalid(format!(
                "logger: no log driver named '{other}' is registered"
            )))
        }
    };
    for k in opts.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(invalid(format!(
                "unknown log opt '{k}' for {driver} log driver"
            )));
        }
    }
    if driver != "none" {
        opts.entry("max-size".into())
            .or_insert_with(|| "20m".into());
        opts.entry("max-file".into()).or_insert_with(|| "5".into());
        parse_size(&opts["max-size"])
            .ok_or_else(|| invalid(format!("invalid max-size: {}", opts["max-size"])))?;
        opts["max-file"]
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| invalid("max-file cannot be less than 1"))?;
    }
    lc.typ = Some(driver);
    lc.config = Some(opts);
    hc.log_config = Some(lc);
    Ok(())
}

/// Docker's RAMInBytes: `10m`, `1g`, `512k`, `100` (binary units).
/// dockerd's defaults that depend on the host's cgroups (its `adaptContainerSettings`):
/// MemorySwap twice Memory where swap can be limited, and a private cgroup namespace on
/// cgroup v2 (the host's on v1).
fn cgroup_defaults(engine: &Engine, hc: &mut HostConfig) {
    let cgroup = &engine.host().cgroup;
    if cgroup.swap_limit && hc.memory.is_some_and(|m| m > 0) && hc.memory_swap.unwrap_or(0) == 0 {
        hc.memory_swap = hc.memory.map(|m| m * 2);
    }
    if matches!(
        hc.cgroupns_mode,
        None | Some(HostConfigCgroupnsModeEnum::EMPTY)
    ) {
        hc.cgroupns_mode = Some(if cgroup.version == 2 {
            HostConfigCgroupnsModeEnum::PRIVATE
        } else {
            HostConfigCgroupnsModeEnum::HOST
        });
    }
}

pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(num_end);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim_end_matches('b').trim_end_matches('i') {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024f64.powi(4),
        _ => return None,
    };
    Some((n * mult) as u64)
}

pub async fn create(engine: &Arc<Engine>, opts: CreateOptions) -> Result<Created, EngineError> {
    let networking = opts.body.networking_config.clone();
    let (mut cfg, mut hc) = split(opts.body);
    let image_name = cfg.image.clone().unwrap_or_default();
    if image_name.is_empty() {
        return Err(invalid("No command specified"));
    }
    let image = engine
        .images
        .resolve(&image_name)
        .map_err(|e| match e.kind() {
            ErrorKind::NotFound => EngineError::Other(
                ErrorKind::NotFound,
                format!("No such image: {}", familiar(&image_name)),
            ),
            _ => e,
        })?;
    let image_cfg: ContainerConfig = image
        .config
        .raw()
        .get("config")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    // As dockerd: the image is looked up before the name is checked.
    let requested_name = match opts.name.as_deref().filter(|n| !n.is_empty()) {
        Some(n) => Some(names::validate(n).map_err(invalid)?),
        None => None,
    };
    merge(&mut cfg, &image_cfg);
    runtime_spec::validate(&hc).map_err(invalid)?;
    crate::userns::check_host_config(&engine.containers.settings().id_mapping, &hc)
        .map_err(invalid)?;
    super::ipc::fill_default(
        &mut hc.ipc_mode,
        &engine.containers.settings().default_ipc_mode,
    );
    super::ipc::pin_donor(engine, &mut hc.ipc_mode);
    log_config(engine, &mut hc)?;
    cgroup_defaults(engine, &mut hc);
    if matches!(hc.network_mode.as_deref().unwrap_or(""), "" | "default") {
        hc.network_mode = Some("bridge".into());
    }
    let mut endpoints = engine.networks.plan_endpoints(&hc, networking.as_ref())?;
    // API < 1.44 put the MAC address in Config; it belongs to the main network's endpoint.
    if let (Some(mac), Some(first)) = (
        cfg.mac_address.clone().filter(|m| !m.is_empty()),
        endpoints.first_mut(),
    ) {
        if first.mac_requested.is_none() {
            first.mac_requested = Some(mac);
        }
    }
    if hc.restart_policy.is_none() {
        hc.restart_policy = Some(berth_api::models::RestartPolicy {
            name: Some(berth_api::models::RestartPolicyNameEnum::NO),
            maximum_retry_count: Some(0),
        });
    }
    let mut argv: Vec<String> = cfg.entrypoint.clone().unwrap_or_default();
    argv.extend(cfg.cmd.clone().unwrap_or_default());
    if argv.is_empty() {
        return Err(invalid("no command specified"));
    }
    let path = argv.remove(0);

    let id = hex::encode(rand::random::<[u8; 32]>());
    let service = &engine.containers;
    let name = match requested_name {
        Some(n) => {
            service.reserve_name(&n, &id)?;
            n
        }
        None => service.generate_name(&id)?,
    };
    if cfg.hostname.as_deref().unwrap_or("").is_empty() {
        cfg.hostname = Some(id[..12].to_owned());
    }
    let mount_points = match super::mounts::register(engine, &id, &cfg, &hc) {
        Ok(m) => m,
        Err(e) => {
            service.release_name(&name, &id);
            return Err(e);
        }
    };
    let result = make(
        engine,
        &id,
        &name,
        &image.id.to_string(),
        image.config.diff_ids(),
        cfg,
        hc,
        path,
        argv,
        endpoints,
        mount_points.clone(),
    );
    match result {
        Ok(c) => {
            let rec = c.snapshot();
            service.insert(c);
            engine.events.publish(
                event_type::CONTAINER,
                "create",
                id.clone(),
                event_attributes(&rec, &image_name),
            );
            Ok(Created {
                id,
                warnings: Vec::new(),
            })
        }
        Err(e) => {
            service.release_name(&name, &id);
            let paths = ContainerPaths::new(
                &service.settings.data_root,
                &service.settings.exec_root,
                &id,
            );
            let _ = engine.images.layers().remove(&id);
            let _ = std::fs::remove_dir_all(&paths.data);
            super::mounts::release_all(engine, &id, &mount_points, true);
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn make(
    engine: &Engine,
    id: &str,
    name: &str,
    image_id: &str,
    diff_ids: &[berth_core::Digest],
    cfg: ContainerConfig,
    hc: HostConfig,
    path: String,
    args: Vec<String>,
    endpoints: Vec<super::record::EndpointState>,
    mount_points: Vec<super::record::MountPoint>,
) -> Result<Arc<Container>, EngineError> {
    let settings = engine.containers.settings();
    let paths = ContainerPaths::new(&settings.data_root, &settings.exec_root, id);
    std::fs::DirBuilder::new()
        .mode(0o710)
        .create(&paths.data)
        .map_err(|e| EngineError::io("create directory", &paths.data, e))?;
    // Its /etc files are bound from here: the remapped root must pass through.
    crate::userns::make_traversable(&paths.data, &settings.id_mapping)
        .map_err(|e| EngineError::io("chown", &paths.data, e))?;
    let top = ChainId::of_stack(diff_ids);
    engine
        .images
        .layers()
        .prepare(id, top.as_ref())
        .map_err(|e| EngineError::Other(ErrorKind::Internal, e.to_string()))?;
    let log_path = match hc.log_config.as_ref().and_then(|l| l.typ.as_deref()) {
        Some("json-file") => paths
            .data
            .join(format!("{id}-json.log"))
            .display()
            .to_string(),
        Some("local") => paths
            .data
            .join("local-logs")
            .join("container.log")
            .display()
            .to_string(),
        _ => String::new(),
    };
    // moby makes the local driver's directory (0700) before the logger opens its file.
    if let Some(dir) = std::path::Path::new(&log_path)
        .parent()
        .filter(|d| d.ends_with("local-logs"))
    {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .map_err(|e| EngineError::io("create directory", dir, e))?;
    }
    let rec = ContainerRecord {
        id: id.to_owned(),
        name: name.to_owned(),
        created: super::now_rfc3339(),
        image: image_id.to_owned(),
        config: cfg,
        host_config: hc,
        path,
        args,
        state: State::default(),
        restart_count: 0,
        manually_stopped: false,
        driver: engine.images.driver().to_owned(),
        log_path,
        cgroups_path: String::new(),
        network: super::record::NetworkState {
            endpoints,
            ..Default::default()
        },
        mount_points,
    };
    rec.save(&paths.data)?;
    Ok(Container::new(rec, paths))
}

/// `busybox` → `busybox:latest`, as Docker's "No such image" message names it.
fn familiar(name: &str) -> String {
    match name.parse::<berth_core::Reference>() {
        Ok(r) => {
            let s = r.familiar_string();
            let last = s.rsplit('/').next().unwrap_or(&s);
            if last.contains(':') || last.contains('@') {
                s
            } else {
                format!("{s}:latest")
            }
        }
        Err(_) => name.to_owned(),
    }
}

/// A container event's attributes: its labels, `image` and `name`, as moby sends them.
pub(crate) fn event_attributes(rec: &ContainerRecord, image: &str) -> BTreeMap<String, String> {
    let mut attrs: BTreeMap<String, String> = rec
        .config
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    attrs.insert("image".into(), image.to_owned());
    attrs.insert("name".into(), rec.name.clone());
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_follows_dockers_rules() {
        let image = ContainerConfig {
            env: Some(vec!["PATH=/bin".into(), "A=1".into()]),
            cmd: Some(vec!["sh".into()]),
            entrypoint: Some(vec!["/init".into()]),
            working_dir: Some("/srv".into()),
            labels: Some([("a".to_string(), "img".to_string())].into()),
            ..Default::default()
        };
        let mut user = ContainerConfig {
            env: Some(vec!["A=2".into(), "B=3".into()]),
            labels: Some([("a".to_string(), "user".to_string())].into()),
            ..Default::default()
        };
        merge(&mut user, &image);
        assert_eq!(user.env.unwrap(), vec!["PATH=/bin", "A=2", "B=3"]);
        assert_eq!(user.cmd.unwrap(), vec!["sh"]);
        assert_eq!(user.entrypoint.unwrap(), vec!["/init"]);
        assert_eq!(user.working_dir.as_deref(), Some("/srv"));
        assert_eq!(user.labels.unwrap()["a"], "user");

        // An explicit entrypoint drops the image's Cmd.
        let mut user = ContainerConfig {
            entrypoint: Some(vec!["echo".into()]),
            ..Default::default()
        };
        merge(&mut user, &image);
        assert_eq!(user.entrypoint.unwrap(), vec!["echo"]);
        assert!(user.cmd.is_none());
    }

    #[test]
    fn sizes_parse_like_dockers_ram_in_bytes() {
        assert_eq!(parse_size("10m"), Some(10 << 20));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("2kb"), Some(2048));
        assert_eq!(parse_size("x"), None);
    }
}
