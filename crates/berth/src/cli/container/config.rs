//! `run`/`create` flags → the `POST /containers/create` body, field for field as
//! docker/cli's `parse` and the Go client build it (`Config` with `HostConfig` and
//! `NetworkingConfig`), including the fields Go always sends empty.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::kvfile::{dedupe_env, read_kv_strings};
use super::mounts::{device, is_cdi_name, split_volumes};
use super::network::network_endpoints;
use super::network::{network_name, validate_mac};
use super::opts::ContainerOptions;
use super::ports::{expose, ports};
use super::values;

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

/// Builds the create body from the flags; errors are docker's texts (the caller adds the
/// `berth: … --help` frame).
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
}
