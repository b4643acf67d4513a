//! `run`/`create` flags → the `POST /containers/create` body, field for field as
//! docker/cli's `parse` and the Go client build it (`Config` with `HostConfig` and
//! `NetworkingConfig`), including the fields Go always sends empty.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Map, Value};

use super::opts::ContainerOptions;
use super::values::{self, NetworkAttachment};

/// A parsed create request, and what the client side of `run` needs from it.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// The JSON body: `Config` fields with `HostConfig` and `NetworkingConfig` inside.
    pub body: Value,
}

impl CreateRequest {
    pub fn config_bool(&self, key: &str) -> bool {
        self.body[key].as_bool().unwrap_or(false)
    }

    pub fn set_config(&mut self, key: &str, value: Value) {
        self.body[key] = value;
    }

    pub fn set_console_size(&mut self, height: u16, width: u16) {
        self.body["HostConfig"]["ConsoleSize"] = json!([height, width]);
    }

    pub fn image(&self) -> &str {
        self.body["Image"].as_str().unwrap_or_default()
    }

    pub fn auto_remove(&self) -> bool {
        self.body["HostConfig"]["AutoRemove"]
            .as_bool()
            .unwrap_or(false)
    }

    pub fn dns(&self) -> Vec<String> {
        string_list(&self.body["HostConfig"]["Dns"])
    }
}

fn string_list(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// Go's `nil` for an empty list, as `GetSlice` returns for flags never given.
fn list_or_null(items: &[String]) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        json!(items)
    }
}

fn opt_str(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or_default()
}

/// Builds the create body from the flags. `entrypoint_given` tells `--entrypoint=""`
/// (reset the image's) from no flag at all.
pub fn parse(o: &ContainerOptions) -> Result<CreateRequest, String> {
    let attach_stdin = o.interactive || o.attach.iter().any(|a| a == "stdin");
    let (attach_stdout, attach_stderr) = if o.attach.is_empty() {
        (true, true)
    } else {
        (
            o.attach.iter().any(|a| a == "stdout"),
            o.attach.iter().any(|a| a == "stderr"),
        )
    };
    if let Some(mac) = &o.mac_address {
        validate_mac(mac).map_err(|_| format!("{mac} is not a valid mac address"))?;
    }
    let swappiness = o.memory_swappiness;
    if swappiness != -1 && !(0..=100).contains(&swappiness) {
        return Err(format!(
            "invalid value: {swappiness}. Valid memory swappiness range is 0-100"
        ));
    }

    let (binds, volumes) = split_volumes(&o.volumes)?;
    let mut tmpfs = Map::new();
    for t in &o.tmpfs {
        let (k, v) = t.split_once(':').unwrap_or((t, ""));
        tmpfs.insert(k.to_owned(), json!(v));
    }
    let cmd = if o.args().is_empty() {
        Value::Null
    } else {
        json!(o.args())
    };
    let entrypoint = match o.entrypoint.as_deref() {
        None => Value::Null,
        Some("") => json!([""]),
        Some(e) => json!([e]),
    };

    let (mut exposed, bindings) = ports(&o.publish)?;
    for e in &o.expose {
        expose(&mut exposed, e)?;
    }

    let mut devices = Vec::new();
    let mut cdi_devices = Vec::new();
    for d in &o.devices {
        if is_cdi_name(d) {
            cdi_devices.push(d.clone());
            continue;
        }
        devices.push(device(d)?);
    }

    // Only the flags go through docker's map (its proxy-config merge); file lines do not.
    let env = read_kv_strings(&o.env_file, &dedupe_env(o.env.clone()), true)?;
    let labels = read_kv_strings(&o.label_file, &o.labels, false)?;

    let pid = opt_str(&o.pid);
    if !(pid.is_empty()
        || pid == "host"
        || pid
            .strip_prefix("container:")
            .is_some_and(|c| !c.is_empty()))
    {
        return Err("--pid: invalid PID mode".into());
    }
    let uts = opt_str(&o.uts);
    if !(uts.is_empty() || uts == "host") {
        return Err("--uts: invalid UTS mode".into());
    }
    let userns = opt_str(&o.userns);
    if !(userns.is_empty() || userns == "host") {
        return Err("--userns: invalid USER mode".into());
    }
    let cgroupns = opt_str(&o.cgroupns);
    if !["", "host", "private"].contains(&cgroupns) {
        return Err("--cgroupns: invalid CGROUP mode".into());
    }
    let restart = values::restart_policy(&o.restart)?;
    let log_driver = opt_str(&o.log_driver);
    if log_driver == "none" && !o.log_opt.is_empty() {
        return Err(format!("invalid logging opts for driver {log_driver}"));
    }
    let log_config = kv_map(&o.log_opt);
    let security_opt = security_opts(&o.security_opt)?;
    let (security_opt, masked_paths, readonly_paths) = system_paths(security_opt);
    let mut storage_opt = Map::new();
    for s in &o.storage_opt {
        let (k, v) = s.split_once('=').ok_or("invalid storage option")?;
        storage_opt.insert(k.to_owned(), json!(v));
    }
    let healthcheck = healthcheck(o)?;

    let mut device_requests: Vec<Value> = o.gpus.clone();
    if !cdi_devices.is_empty() {
        device_requests.push(json!({
            "Driver": "cdi", "Count": 0, "DeviceIDs": cdi_devices,
            "Capabilities": null, "Options": null,
        }));
    }

    let mut config = Map::new();
    config.insert("Hostname".into(), json!(opt_str(&o.hostname)));
    config.insert("Domainname".into(), json!(opt_str(&o.domainname)));
    config.insert("User".into(), json!(opt_str(&o.user)));
    config.insert("AttachStdin".into(), json!(attach_stdin));
    config.insert("AttachStdout".into(), json!(attach_stdout));
    config.insert("AttachStderr".into(), json!(attach_stderr));
    if !exposed.is_empty() {
        let ports: Map<String, Value> = exposed.keys().map(|p| (p.clone(), json!({}))).collect();
        config.insert("ExposedPorts".into(), Value::Object(ports));
    }
    config.insert("Tty".into(), json!(o.tty));
    config.insert("OpenStdin".into(), json!(o.interactive));
    // When allocating stdin in attached mode, close stdin at client disconnect.
    config.insert("StdinOnce".into(), json!(o.interactive && attach_stdin));
    config.insert("Env".into(), list_or_null(&env));
    config.insert("Cmd".into(), cmd);
    if let Some(h) = healthcheck {
        config.insert("Healthcheck".into(), h);
    }
    config.insert("Image".into(), json!(o.image()));
    config.insert("Volumes".into(), Value::Object(volumes));
    config.insert("WorkingDir".into(), json!(opt_str(&o.workdir)));
    config.insert("Entrypoint".into(), entrypoint);
    config.insert("OnBuild".into(), Value::Null);
    config.insert("Labels".into(), Value::Object(kv_map(&labels)));
    if let Some(s) = o.stop_signal.as_deref().filter(|s| !s.is_empty()) {
        config.insert("StopSignal".into(), json!(s));
    }
    if let Some(t) = o.stop_timeout {
        config.insert("StopTimeout".into(), json!(t));
    }

    let mut host = Map::new();
    host.insert("Binds".into(), list_or_null(&binds));
    host.insert("ContainerIDFile".into(), json!(opt_str(&o.cidfile)));
    host.insert(
        "LogConfig".into(),
        json!({"Type": log_driver, "Config": log_config}),
    );
    let network_mode = o
        .network
        .first()
        .map_or("default".to_owned(), |n| n.target.clone());
    host.insert("NetworkMode".into(), json!(network_mode));
    host.insert("PortBindings".into(), Value::Object(bindings));
    host.insert("RestartPolicy".into(), restart.clone());
    host.insert("AutoRemove".into(), json!(o.rm));
    host.insert("VolumeDriver".into(), json!(opt_str(&o.volume_driver)));
    host.insert("VolumesFrom".into(), list_or_null(&o.volumes_from));
    host.insert("ConsoleSize".into(), json!([0, 0]));
    let annotations = kv_map(&o.annotations);
    if !annotations.is_empty() {
        host.insert("Annotations".into(), Value::Object(annotations));
    }
    host.insert("CapAdd".into(), normalize_caps(&o.cap_add));
    host.insert("CapDrop".into(), normalize_caps(&o.cap_drop));
    host.insert("CgroupnsMode".into(), json!(cgroupns));
    host.insert("Dns".into(), json!(o.dns));
    host.insert("DnsOptions".into(), json!(o.dns_option));
    host.insert("DnsSearch".into(), json!(o.dns_search));
    host.insert("ExtraHosts".into(), list_or_null(&o.add_host));
    host.insert("GroupAdd".into(), list_or_null(&o.group_add));
    host.insert("IpcMode".into(), json!(opt_str(&o.ipc)));
    host.insert("Cgroup".into(), json!(""));
    host.insert("Links".into(), list_or_null(&o.links));
    host.insert("OomScoreAdj".into(), json!(o.oom_score_adj));
    host.insert("PidMode".into(), json!(pid));
    host.insert("Privileged".into(), json!(o.privileged));
    host.insert("PublishAllPorts".into(), json!(o.publish_all));
    host.insert("ReadonlyRootfs".into(), json!(o.read_only));
    host.insert("SecurityOpt".into(), list_or_null(&security_opt));
    if !storage_opt.is_empty() {
        host.insert("StorageOpt".into(), Value::Object(storage_opt));
    }
    if !tmpfs.is_empty() {
        host.insert("Tmpfs".into(), Value::Object(tmpfs));
    }
    host.insert("UTSMode".into(), json!(uts));
    host.insert("UsernsMode".into(), json!(userns));
    host.insert("ShmSize".into(), json!(o.shm_size));
    let sysctls = kv_map(&o.sysctls);
    if !sysctls.is_empty() {
        host.insert("Sysctls".into(), Value::Object(sysctls));
    }
    if let Some(r) = o.runtime.as_deref().filter(|r| !r.is_empty()) {
        host.insert("Runtime".into(), json!(r));
    }
    host.insert("Isolation".into(), json!(opt_str(&o.isolation)));
    // Resources (embedded in HostConfig).
    host.insert("CpuShares".into(), json!(o.cpu_shares));
    host.insert("Memory".into(), json!(o.memory));
    host.insert("NanoCpus".into(), json!(o.cpus));
    host.insert("CgroupParent".into(), json!(opt_str(&o.cgroup_parent)));
    host.insert("BlkioWeight".into(), json!(o.blkio_weight));
    host.insert("BlkioWeightDevice".into(), json!(o.blkio_weight_device));
    host.insert("BlkioDeviceReadBps".into(), json!(o.device_read_bps));
    host.insert("BlkioDeviceWriteBps".into(), json!(o.device_write_bps));
    host.insert("BlkioDeviceReadIOps".into(), json!(o.device_read_iops));
    host.insert("BlkioDeviceWriteIOps".into(), json!(o.device_write_iops));
    host.insert("CpuPeriod".into(), json!(o.cpu_period));
    host.insert("CpuQuota".into(), json!(o.cpu_quota));
    host.insert("CpuRealtimePeriod".into(), json!(o.cpu_rt_period));
    host.insert("CpuRealtimeRuntime".into(), json!(o.cpu_rt_runtime));
    host.insert("CpusetCpus".into(), json!(opt_str(&o.cpuset_cpus)));
    host.insert("CpusetMems".into(), json!(opt_str(&o.cpuset_mems)));
    host.insert("Devices".into(), json!(devices));
    host.insert(
        "DeviceCgroupRules".into(),
        list_or_null(&o.device_cgroup_rules),
    );
    host.insert(
        "DeviceRequests".into(),
        if device_requests.is_empty() {
            Value::Null
        } else {
            json!(device_requests)
        },
    );
    // KernelMemory is deprecated since API 1.42; the Go client only sends it to 1.40-1.41,
    // and omits it when zero.
    if o.kernel_memory != 0 {
        host.insert("KernelMemory".into(), json!(o.kernel_memory));
    }
    host.insert("MemoryReservation".into(), json!(o.memory_reservation));
    host.insert("MemorySwap".into(), json!(o.memory_swap));
    host.insert("MemorySwappiness".into(), json!(swappiness));
    host.insert("OomKillDisable".into(), json!(o.oom_kill_disable));
    host.insert("PidsLimit".into(), json!(o.pids_limit));
    host.insert("Ulimits".into(), ulimits(&o.ulimits));
    host.insert("CpuCount".into(), json!(o.cpu_count));
    host.insert("CpuPercent".into(), json!(o.cpu_percent));
    host.insert("IOMaximumIOps".into(), json!(o.io_max_iops));
    host.insert("IOMaximumBandwidth".into(), json!(o.io_max_bandwidth));
    if !o.mounts.is_empty() {
        host.insert("Mounts".into(), json!(o.mounts));
    }
    host.insert("MaskedPaths".into(), masked_paths);
    host.insert("ReadonlyPaths".into(), readonly_paths);
    if let Some(init) = o.init {
        host.insert("Init".into(), json!(init));
    }

    if o.rm
        && restart["Name"]
            .as_str()
            .is_some_and(|n| !n.is_empty() && n != "no")
    {
        return Err("conflicting options: cannot specify both --restart and --rm".into());
    }

    let endpoints = network_endpoints(o)?;
    // The endpoint MAC of the main network doubles as the container's (API < 1.44).
    let main_network = network_name(&network_mode);
    if let Some(mac) = endpoints
        .get(&main_network)
        .and_then(|e| e["MacAddress"].as_str())
        .filter(|m| !m.is_empty())
    {
        config.insert("MacAddress".into(), json!(mac));
    }

    config.insert("HostConfig".into(), Value::Object(host));
    config.insert(
        "NetworkingConfig".into(),
        json!({"EndpointsConfig": endpoints}),
    );
    Ok(CreateRequest {
        body: Value::Object(config),
    })
}

/// `net.ParseMAC` for the 6-byte forms docker accepts.
fn validate_mac(mac: &str) -> Result<(), ()> {
    let mac = mac.trim();
    let sep = if mac.contains(':') { ':' } else { '-' };
    let parts: Vec<&str> = mac.split(sep).collect();
    let ok = [6, 8, 20].contains(&parts.len())
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(())
    }
}

/// `-v` values: binds (with a source) go to `HostConfig.Binds`, anonymous volumes to
/// `Config.Volumes`; `./rel` sources become absolute, as docker does.
fn split_volumes(specs: &[String]) -> Result<(Vec<String>, Map<String, Value>), String> {
    let mut binds = Vec::new();
    let mut volumes = Map::new();
    for spec in specs {
        let parsed = parse_volume(spec)?;
        if parsed.source.is_empty() {
            volumes.insert(spec.clone(), json!({}));
            continue;
        }
        let mut bind = spec.clone();
        if parsed.is_bind {
            if let Some((host, target)) = spec.split_once(':') {
                let host = if !host.starts_with('/') && host.starts_with('.') {
                    std::env::current_dir()
                        .map(|d| values::clean_path(&d.join(host).to_string_lossy()))
                        .unwrap_or_else(|_| host.to_owned())
                } else {
                    host.to_owned()
                };
                bind = format!("{host}:{target}");
            }
        }
        if !binds.contains(&bind) {
            binds.push(bind);
        }
        volumes.remove(spec);
    }
    Ok((binds, volumes))
}

struct VolumeSpec {
    source: String,
    is_bind: bool,
}

/// The compose loader's `ParseVolume`, as far as `-v` needs it: the source and whether
/// it is a path.
fn parse_volume(spec: &str) -> Result<VolumeSpec, String> {
    if spec.is_empty() {
        return Err("invalid empty volume spec".into());
    }
    if spec.chars().count() <= 2 {
        return Ok(VolumeSpec {
            source: String::new(),
            is_bind: false,
        });
    }
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "invalid spec: {spec}: empty section between colons"
        ));
    }
    if parts.len() > 3 {
        return Err(format!("invalid spec: {spec}: too many colons"));
    }
    let source = if parts.len() == 1 { "" } else { parts[0] };
    let is_bind = source.starts_with(['.', '/', '~']);
    Ok(VolumeSpec {
        source: source.to_owned(),
        is_bind,
    })
}

/// Exposed ports (`80/tcp`), in order.
type PortSet = BTreeMap<String, ()>;

/// `nat.ParsePortSpecs` for `-p` (after docker's long-syntax conversion): exposed ports
/// and their bindings, keyed `port/proto`.
fn ports(specs: &[String]) -> Result<(PortSet, Map<String, Value>), String> {
    let mut exposed = BTreeMap::new();
    let mut bindings = Map::new();
    for spec in specs {
        let spec = if spec.contains('=') {
            long_port_syntax(spec)?
        } else {
            spec.clone()
        };
        for (port, binding) in port_spec(&spec)? {
            exposed.insert(port.clone(), ());
            bindings
                .entry(port)
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .expect("an array")
                .push(binding);
        }
    }
    Ok((exposed, bindings))
}

fn long_port_syntax(spec: &str) -> Result<String, String> {
    let mut params: BTreeMap<&str, &str> = BTreeMap::from([("protocol", "tcp")]);
    for param in spec.split(',') {
        match param.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                params.insert(k, v);
            }
            _ => {
                return Err(format!(
                    "invalid publish opts format (should be name=value but got '{param}')"
                ))
            }
        }
    }
    let get = |k: &str| params.get(k).copied().unwrap_or_default();
    Ok(format!(
        "{}:{}/{}",
        get("published"),
        get("target"),
        get("protocol")
    ))
}

fn split_proto_port(raw: &str) -> (String, String) {
    let parts: Vec<&str> = raw.split('/').collect();
    if raw.is_empty() || parts[0].is_empty() {
        return (String::new(), String::new());
    }
    if parts.len() == 1 || parts[1].is_empty() {
        return ("tcp".into(), parts[0].into());
    }
    (parts[1].into(), parts[0].into())
}

fn port_range(ports: &str) -> Result<(u64, u64), String> {
    if ports.is_empty() {
        return Err("empty string specified for ports".into());
    }
    let parse = |p: &str| p.parse::<u16>().map(u64::from).map_err(|e| e.to_string());
    match ports.split_once('-') {
        None => {
            let p = parse(ports)?;
            Ok((p, p))
        }
        Some((a, b)) => {
            let (start, end) = (parse(a)?, parse(b.split('-').next().unwrap_or(b))?);
            if end < start {
                return Err(format!("invalid range specified for port: {ports}"));
            }
            Ok((start, end))
        }
    }
}

fn port_spec(raw: &str) -> Result<Vec<(String, Value)>, String> {
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    let (ip, host_port, container) = match n {
        1 => (String::new(), "", parts[0]),
        2 => (String::new(), parts[0], parts[1]),
        3 => (parts[0].to_owned(), parts[1], parts[2]),
        _ => (parts[..n - 2].join(":"), parts[n - 2], parts[n - 1]),
    };
    let (proto, container) = split_proto_port(container);
    let mut ip = ip;
    if ip.starts_with('[') {
        ip = ip
            .strip_prefix('[')
            .and_then(|i| i.strip_suffix(']'))
            .map(str::to_owned)
            .ok_or_else(|| format!("invalid IP address {ip}: missing ']' in address"))?;
    }
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let (start, end) =
        port_range(&container).map_err(|_| format!("invalid containerPort: {container}"))?;
    let (mut host_start, mut host_end) = (0, 0);
    if !host_port.is_empty() {
        (host_start, host_end) =
            port_range(host_port).map_err(|_| format!("invalid hostPort: {host_port}"))?;
    }
    if !host_port.is_empty() && end - start != host_end - host_start && end != start {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host_port}"
        ));
    }
    let proto = proto.to_lowercase();
    if !["tcp", "udp", "sctp"].contains(&proto.as_str()) {
        return Err(format!("invalid proto: {proto}"));
    }
    let mut out = Vec::new();
    for i in 0..=(end - start) {
        let mut hp = String::new();
        if !host_port.is_empty() {
            hp = (host_start + i).to_string();
        }
        if start == end && host_start != host_end {
            hp = format!("{hp}-{host_end}");
        }
        out.push((
            format!("{}/{proto}", start + i),
            json!({"HostIp": ip, "HostPort": hp}),
        ));
    }
    Ok(out)
}

fn expose(exposed: &mut PortSet, e: &str) -> Result<(), String> {
    if e.contains(':') {
        return Err(format!("invalid port format for --expose: {e}"));
    }
    let (proto, port) = split_proto_port(e);
    let (start, end) = port_range(&port)
        .map_err(|err| format!("invalid range format for --expose: {e}, error: {err}"))?;
    for p in start..=end {
        exposed.insert(format!("{p}/{proto}"), ());
    }
    Ok(())
}

/// A CDI device name: `vendor.com/class=name`.
fn is_cdi_name(d: &str) -> bool {
    let Some((kind, name)) = d.split_once('=') else {
        return false;
    };
    let Some((vendor, class)) = kind.split_once('/') else {
        return false;
    };
    !vendor.is_empty() && !class.is_empty() && !name.is_empty() && !d.starts_with('/')
}

fn valid_device_mode(mode: &str) -> bool {
    let mut seen = [false; 3];
    !mode.is_empty()
        && mode.chars().all(|c| {
            let i = match c {
                'r' => 0,
                'w' => 1,
                'm' => 2,
                _ => return false,
            };
            !std::mem::replace(&mut seen[i], true)
        })
}

/// `--device /dev/x[:/dev/y][:rwm]` → a `DeviceMapping` (validated as docker does).
fn device(spec: &str) -> Result<Value, String> {
    if spec.matches(':').count() > 2 || spec.starts_with(':') || spec.is_empty() {
        return Err(format!("bad format for path: {spec}"));
    }
    let parts: Vec<&str> = spec.splitn(3, ':').collect();
    let (src, mut dst, mut perms) = (parts[0], "", "rwm");
    let container_path;
    match parts.len() {
        1 => container_path = parts[0],
        2 => {
            if valid_device_mode(parts[1]) {
                perms = parts[1];
                container_path = parts[0];
            } else {
                dst = parts[1];
                container_path = parts[1];
            }
        }
        _ => {
            if !valid_device_mode(parts[2]) {
                return Err(format!("bad mode specified: {}", parts[2]));
            }
            dst = parts[1];
            perms = parts[2];
            container_path = parts[1];
        }
    }
    if !container_path.starts_with('/') {
        return Err(format!("{container_path} is not an absolute path"));
    }
    let src = if parts.len() == 1 {
        values::clean_path(src)
    } else {
        src.to_owned()
    };
    let dst = if dst.is_empty() {
        src.clone()
    } else if parts.len() == 2 {
        values::clean_path(dst)
    } else {
        dst.to_owned()
    };
    Ok(json!({"PathOnHost": src, "PathInContainer": dst, "CgroupPermissions": perms}))
}

/// `opts.ReadKVStrings`: lines of each file, then the flags. Env files look bare names
/// up in the local environment; label files keep them.
pub fn read_kv_strings(
    files: &[String],
    overrides: &[String],
    lookup_env: bool,
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for f in files {
        out.extend(parse_kv_file(Path::new(f), lookup_env)?);
    }
    out.extend(overrides.iter().cloned());
    Ok(out)
}

fn parse_kv_file(path: &Path, lookup_env: bool) -> Result<Vec<String>, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        format!(
            "open {}: {}",
            path.display(),
            super::status::io_error_text(&e)
        )
    })?;
    let invalid = |msg: String| format!("invalid env file ({}): {msg}", path.display());
    let text = std::str::from_utf8(&bytes).map_err(|_| invalid("invalid utf8 bytes".to_owned()))?;
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let raw = if i == 0 {
            raw.trim_start_matches('\u{feff}')
        } else {
            raw
        };
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, has_value) = match line.split_once('=') {
            Some((k, _)) => (k, true),
            None => (line, false),
        };
        if key.is_empty() {
            return Err(invalid(format!("no variable name on line '{line}'")));
        }
        if key.contains([' ', '\t']) {
            return Err(invalid(format!("variable '{key}' contains whitespaces")));
        }
        if has_value {
            lines.push(line.to_owned());
        } else if lookup_env {
            if let Ok(v) = std::env::var(line) {
                lines.push(format!("{key}={v}"));
            }
        }
    }
    Ok(lines)
}

/// One entry per variable, the last value winning (docker merges them through a map).
fn dedupe_env(env: Vec<String>) -> Vec<String> {
    let key = |e: &str| e.split('=').next().unwrap_or_default().to_owned();
    let mut out: Vec<String> = Vec::new();
    for e in env {
        match out.iter_mut().find(|o| key(o) == key(&e)) {
            Some(slot) => *slot = e,
            None => out.push(e),
        }
    }
    out
}

/// `opts.ConvertKVStringsToMap`: later keys win.
fn kv_map(items: &[String]) -> Map<String, Value> {
    let mut m = Map::new();
    for item in items {
        let (k, v) = item.split_once('=').unwrap_or((item, ""));
        m.insert(k.to_owned(), json!(v));
    }
    m
}

/// Reads `seccomp=<file>` profiles and sends them inline, as docker does.
fn security_opts(opts: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for opt in opts {
        let split = if opt.contains('=') || opt == "no-new-privileges" {
            opt.split_once('=')
        } else {
            opt.split_once(':')
        };
        let (k, v) = split.unwrap_or((opt.as_str(), ""));
        if v.is_empty() && k != "no-new-privileges" {
            return Err(format!("Invalid --security-opt: {opt:?}"));
        }
        if k == "seccomp" && v != "builtin" && v != "unconfined" {
            let text = std::fs::read(v)
                .map_err(|e| format!("opening seccomp profile ({v}) failed: {e}"))?;
            let profile: Value = serde_json::from_slice(&text)
                .map_err(|e| format!("compacting json for seccomp profile ({v}) failed: {e}"))?;
            out.push(format!("seccomp={profile}"));
            continue;
        }
        out.push(opt.clone());
    }
    Ok(out)
}

/// `systempaths=unconfined` is handled client-side: empty masked and read-only path lists.
fn system_paths(opts: Vec<String>) -> (Vec<String>, Value, Value) {
    let unconfined = opts.iter().any(|o| o == "systempaths=unconfined");
    let rest = opts
        .into_iter()
        .filter(|o| o != "systempaths=unconfined")
        .collect();
    if unconfined {
        (rest, json!([]), json!([]))
    } else {
        (rest, Value::Null, Value::Null)
    }
}

fn healthcheck(o: &ContainerOptions) -> Result<Option<Value>, String> {
    let cmd = opt_str(&o.health_cmd);
    let interval = o.health_interval.unwrap_or(0);
    let timeout = o.health_timeout.unwrap_or(0);
    let start_period = o.health_start_period.unwrap_or(0);
    let start_interval = o.health_start_interval.unwrap_or(0);
    let retries = o.health_retries.unwrap_or(0);
    let have = !cmd.is_empty()
        || interval != 0
        || timeout != 0
        || start_period != 0
        || retries != 0
        || start_interval != 0;
    if o.no_healthcheck {
        if have {
            return Err("--no-healthcheck conflicts with --health-* options".into());
        }
        return Ok(Some(json!({"Test": ["NONE"]})));
    }
    if !have {
        return Ok(None);
    }
    for (v, name) in [
        (interval, "--health-interval"),
        (timeout, "--health-timeout"),
        (retries, "--health-retries"),
        (start_period, "--health-start-period"),
        (start_interval, "--health-start-interval"),
    ] {
        if v < 0 {
            return Err(format!("{name} cannot be negative"));
        }
    }
    let mut h = Map::new();
    if !cmd.is_empty() {
        h.insert("Test".into(), json!(["CMD-SHELL", cmd]));
    }
    for (key, v) in [
        ("Interval", interval),
        ("Timeout", timeout),
        ("StartPeriod", start_period),
        ("StartInterval", start_interval),
        ("Retries", retries),
    ] {
        if v != 0 {
            h.insert(key.into(), json!(v));
        }
    }
    Ok(Some(Value::Object(h)))
}

/// Ulimits sorted by name, the last of each name winning (docker keeps them in a map).
fn ulimits(list: &[Value]) -> Value {
    let mut by_name: BTreeMap<String, Value> = BTreeMap::new();
    for u in list {
        by_name.insert(u["Name"].as_str().unwrap_or_default().to_owned(), u.clone());
    }
    json!(by_name.into_values().collect::<Vec<_>>())
}

/// The Go client's `normalizeCapabilities`: upper case, `CAP_` prefix, unique, sorted.
fn normalize_caps(caps: &[String]) -> Value {
    if caps.is_empty() {
        return Value::Null;
    }
    let mut out: Vec<String> = caps
        .iter()
        .map(|c| {
            let c = c.to_uppercase();
            if c == "ALL" || c.starts_with("CAP_") {
                c
            } else {
                format!("CAP_{c}")
            }
        })
        .collect();
    out.sort();
    out.dedup();
    json!(out)
}

fn is_user_defined(mode: &str) -> bool {
    !["default", "bridge", "host", "none"].contains(&mode) && !mode.starts_with("container:")
}

/// `NetworkMode.NetworkName()`.
fn network_name(mode: &str) -> String {
    if mode.starts_with("container:") {
        "container".into()
    } else {
        mode.into()
    }
}

fn endpoint(n: &NetworkAttachment) -> Result<Value, String> {
    if n.target.trim().is_empty() {
        return Err("no name set for network".into());
    }
    if !is_user_defined(&n.target) {
        if !n.aliases.is_empty() {
            return Err(
                "network-scoped aliases are only supported for user-defined networks".into(),
            );
        }
        if !n.links.is_empty() {
            return Err("links are only supported for user-defined networks".into());
        }
    }
    let ipam = if !n.ipv4.is_empty() || !n.ipv6.is_empty() || !n.link_local_ips.is_empty() {
        let mut m = Map::new();
        if !n.ipv4.is_empty() {
            m.insert("IPv4Address".into(), json!(n.ipv4));
        }
        if !n.ipv6.is_empty() {
            m.insert("IPv6Address".into(), json!(n.ipv6));
        }
        if !n.link_local_ips.is_empty() {
            m.insert("LinkLocalIPs".into(), json!(n.link_local_ips));
        }
        Value::Object(m)
    } else {
        Value::Null
    };
    if !n.mac_address.is_empty() && validate_mac(&n.mac_address).is_err() {
        return Err(format!("{} is not a valid mac address", n.mac_address));
    }
    Ok(json!({
        "IPAMConfig": ipam,
        "Links": list_or_null(&n.links),
        "Aliases": list_or_null(&n.aliases),
        "MacAddress": n.mac_address,
        "DriverOpts": if n.driver_opts.is_empty() { Value::Null } else { Value::Object(n.driver_opts.clone()) },
        "GwPriority": n.gw_priority,
        "NetworkID": "",
        "EndpointID": "",
        "Gateway": "",
        "IPAddress": "",
        "IPPrefixLen": 0,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "DNSNames": null,
    }))
}

/// Applies the old single-network flags (`--network-alias`, `--ip`, …) to `n`.
fn apply_legacy_flags(n: &mut NetworkAttachment, o: &ContainerOptions) -> Result<(), String> {
    let conflict = |what: &str| Err(format!("conflicting options: cannot specify both {what}"));
    if !n.aliases.is_empty() && !o.network_alias.is_empty() {
        return conflict("--network-alias and per-network alias");
    }
    if !n.links.is_empty() && !o.links.is_empty() {
        return conflict("--link and per-network links");
    }
    if !n.ipv4.is_empty() && o.ip.is_some() {
        return conflict("--ip and per-network IPv4 address");
    }
    if !n.ipv6.is_empty() && o.ip6.is_some() {
        return conflict("--ip6 and per-network IPv6 address");
    }
    if !n.mac_address.is_empty() && o.mac_address.is_some() {
        return conflict("--mac-address and per-network MAC address");
    }
    if !n.link_local_ips.is_empty() && !o.link_local_ip.is_empty() {
        return conflict("--link-local-ip and per-network link-local IP addresses");
    }
    if !o.network_alias.is_empty() {
        n.aliases = o.network_alias.clone();
    }
    if is_user_defined(&n.target) && !o.links.is_empty() {
        n.links = o.links.clone();
    }
    if let Some(ip) = o.ip.as_deref().filter(|i| !i.is_empty()) {
        n.ipv4 = ip.to_owned();
    }
    if let Some(ip) = o.ip6.as_deref().filter(|i| !i.is_empty()) {
        n.ipv6 = ip.to_owned();
    }
    if let Some(mac) = o.mac_address.as_deref().filter(|m| !m.is_empty()) {
        n.mac_address = mac.to_owned();
    }
    if !o.link_local_ip.is_empty() {
        n.link_local_ips = o.link_local_ip.clone();
    }
    Ok(())
}

/// docker/cli's `parseNetworkOpts`.
fn network_endpoints(o: &ContainerOptions) -> Result<Map<String, Value>, String> {
    let mut endpoints = Map::new();
    if o.network.is_empty() {
        let mut n = NetworkAttachment {
            target: "default".into(),
            ..Default::default()
        };
        apply_legacy_flags(&mut n, o)?;
        endpoints.insert("default".into(), endpoint(&n)?);
        return Ok(endpoints);
    }
    let (mut user_defined, mut builtin) = (false, false);
    for (i, n) in o.network.iter().enumerate() {
        if is_user_defined(&n.target) {
            user_defined = true;
        } else {
            builtin = true;
        }
        let mut n = n.clone();
        if i == 0 {
            apply_legacy_flags(&mut n, o)?;
        }
        let ep = endpoint(&n)?;
        if endpoints.contains_key(&n.target) {
            return Err(format!(
                "network {:?} is specified multiple times",
                n.target
            ));
        }
        // A single network without options sends no endpoint (older daemons' way).
        if i == 0
            && o.network.len() == 1
            && ep
                == endpoint(&NetworkAttachment {
                    target: n.target.clone(),
                    ..Default::default()
                })?
        {
            continue;
        }
        endpoints.insert(n.target.clone(), ep);
    }
    if user_defined && builtin {
        return Err("conflicting options: cannot attach both user-defined and non-user-defined network-modes".into());
    }
    Ok(endpoints)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    #[command(disable_help_flag = true)]
    struct Wrapper {
        #[command(flatten)]
        o: ContainerOptions,
    }

    fn body(args: &[&str]) -> Value {
        let w = Wrapper::try_parse_from(std::iter::once("create").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{e}"));
        parse(&w.o).unwrap().body
    }

    fn error(args: &[&str]) -> String {
        let w = Wrapper::try_parse_from(std::iter::once("create").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{e}"));
        parse(&w.o).unwrap_err()
    }

    #[test]
    fn defaults_match_an_empty_docker_create() {
        let b = body(&["busybox"]);
        assert_eq!(b["Image"], "busybox");
        assert_eq!(b["AttachStdout"], true);
        assert_eq!(b["AttachStdin"], false);
        assert_eq!(b["Cmd"], Value::Null);
        assert_eq!(b["Volumes"], json!({}));
        assert_eq!(b["Labels"], json!({}));
        assert!(b.get("ExposedPorts").is_none());
        let h = &b["HostConfig"];
        assert_eq!(h["NetworkMode"], "default");
        assert_eq!(
            h["RestartPolicy"],
            json!({"Name": "no", "MaximumRetryCount": 0})
        );
        assert_eq!(h["Dns"], json!([]));
        assert_eq!(h["MemorySwappiness"], -1);
        assert_eq!(h["Devices"], json!([]));
        assert!(h.get("Init").is_none());
        assert_eq!(
            b["NetworkingConfig"]["EndpointsConfig"]["default"]["MacAddress"],
            ""
        );
    }

    #[test]
    fn flags_map_to_their_fields() {
        let b = body(&[
            "-it",
            "--rm",
            "-e",
            "A=1",
            "-e",
            "B",
            "-w",
            "/w",
            "-u",
            "nobody",
            "--entrypoint",
            "sh",
            "-m",
            "64m",
            "--cpus",
            "1.5",
            "--pids-limit",
            "10",
            "-p",
            "8080:80",
            "-p",
            "127.0.0.1:53:53/udp",
            "--expose",
            "9000-9001",
            "--cap-add",
            "net_admin",
            "--cap-add",
            "CAP_NET_ADMIN",
            "--ulimit",
            "nofile=10:20",
            "--init",
            "--tmpfs",
            "/run:size=1m",
            "-v",
            "/host:/c:ro",
            "-v",
            "/anon",
            "-l",
            "k=v",
            "--health-cmd",
            "true",
            "--health-interval",
            "5s",
            "--stop-timeout",
            "3",
            "busybox",
            "sh",
            "-c",
            "echo hi",
        ]);
        assert_eq!(b["Tty"], true);
        assert_eq!(b["OpenStdin"], true);
        assert_eq!(b["StdinOnce"], true);
        assert_eq!(b["AttachStdin"], true);
        assert_eq!(b["Env"], json!(["A=1", "B"]));
        assert_eq!(b["Entrypoint"], json!(["sh"]));
        assert_eq!(b["Cmd"], json!(["sh", "-c", "echo hi"]));
        assert_eq!(
            b["ExposedPorts"],
            json!({"53/udp": {}, "80/tcp": {}, "9000/tcp": {}, "9001/tcp": {}})
        );
        assert_eq!(b["Volumes"], json!({"/anon": {}}));
        assert_eq!(b["Labels"], json!({"k": "v"}));
        assert_eq!(b["StopTimeout"], 3);
        assert_eq!(
            b["Healthcheck"],
            json!({"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000i64})
        );
        let h = &b["HostConfig"];
        assert_eq!(h["AutoRemove"], true);
        assert_eq!(h["Memory"], 64 * 1024 * 1024);
        assert_eq!(h["NanoCpus"], 1_500_000_000i64);
        assert_eq!(h["PidsLimit"], 10);
        assert_eq!(h["Binds"], json!(["/host:/c:ro"]));
        assert_eq!(h["CapAdd"], json!(["CAP_NET_ADMIN"]));
        assert_eq!(h["Init"], true);
        assert_eq!(h["Tmpfs"], json!({"/run": "size=1m"}));
        assert_eq!(
            h["PortBindings"],
            json!({"80/tcp": [{"HostIp": "", "HostPort": "8080"}], "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "53"}]})
        );
        assert_eq!(
            h["Ulimits"],
            json!([{"Name": "nofile", "Hard": 20, "Soft": 10}])
        );
    }

    #[test]
    fn parse_errors_use_dockers_words() {
        assert_eq!(
            error(&["--rm", "--restart", "always", "busybox"]),
            "conflicting options: cannot specify both --restart and --rm"
        );
        assert_eq!(
            error(&["--pid", "bogus", "busybox"]),
            "--pid: invalid PID mode"
        );
        assert_eq!(
            error(&["--memory-swappiness", "101", "busybox"]),
            "invalid value: 101. Valid memory swappiness range is 0-100"
        );
        assert_eq!(
            error(&["-p", "80:80/bogus", "busybox"]),
            "invalid proto: bogus"
        );
        assert_eq!(
            error(&["--no-healthcheck", "--health-cmd", "x", "busybox"]),
            "--no-healthcheck conflicts with --health-* options"
        );
        assert_eq!(
            error(&["--device", "/dev/x:rr", "busybox"]),
            "rr is not an absolute path"
        );
        assert!(error(&["--env-file", "/nonexistent/env", "busybox"])
            .starts_with("open /nonexistent/env: no such file or directory"));
    }

    #[test]
    fn networks_devices_and_entrypoint_reset() {
        let b = body(&[
            "--network",
            "host",
            "--entrypoint=",
            "--device",
            "/dev/fuse",
            "busybox",
        ]);
        assert_eq!(b["HostConfig"]["NetworkMode"], "host");
        assert_eq!(b["NetworkingConfig"]["EndpointsConfig"], json!({}));
        assert_eq!(b["Entrypoint"], json!([""]));
        assert_eq!(
            b["HostConfig"]["Devices"],
            json!([{"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"}])
        );
        let b = body(&["--network", "mynet", "--network-alias", "web", "busybox"]);
        assert_eq!(
            b["NetworkingConfig"]["EndpointsConfig"]["mynet"]["Aliases"],
            json!(["web"])
        );
        assert_eq!(
            error(&["--network-alias", "web", "busybox"]),
            "network-scoped aliases are only supported for user-defined networks"
        );
    }

    #[test]
    fn env_files_are_read_before_flags() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("env");
        std::fs::write(
            &f,
            "\u{feff}# comment\nFROM_FILE=1\n  SPACED=2\nBERTH_TEST_SURELY_UNSET\n",
        )
        .unwrap();
        let env = read_kv_strings(&[f.display().to_string()], &["X=y".into()], true).unwrap();
        assert_eq!(env, ["FROM_FILE=1", "SPACED=2", "X=y"]);
        std::fs::write(&f, "BAD KEY=1\n").unwrap();
        let e = read_kv_strings(&[f.display().to_string()], &[], true).unwrap_err();
        assert!(
            e.ends_with("variable 'BAD KEY' contains whitespaces"),
            "{e}"
        );
    }
}
