//! Engine records → the API's container JSON (inspect and the `ps` summary), with every
//! field Docker always sends present, so templates like `{{.State.Error}}` print "".

use berth_engine::containers::{ContainerRecord, Status, ZERO_TIME};
use berth_engine::networks::NetworkRecord;
use serde_json::{json, Map, Value};

use berth_api::units::human_duration;

fn since(ts: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(ts)
        .map(|t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds())
        .unwrap_or(0)
}

fn unix(ts: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(ts)
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

/// container/state.go String().
pub fn status_text(rec: &ContainerRecord) -> String {
    let st = &rec.state;
    match st.status {
        Status::Running | Status::Paused => {
            let mut s = format!("Up {}", human_duration(since(&st.started_at)));
            if st.status == Status::Paused {
                s.push_str(" (Paused)");
            }
            if let Some(h) = &st.health {
                match h.status.as_str() {
                    "starting" => s.push_str(" (health: starting)"),
                    "" => {}
                    other => s.push_str(&format!(" ({other})")),
                }
            }
            s
        }
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            st.exit_code,
            human_duration(since(&st.finished_at))
        ),
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
        Status::Created => "Created".into(),
        Status::Exited => {
            if st.finished_at.is_empty() || st.finished_at == ZERO_TIME {
                format!("Exited ({})", st.exit_code)
            } else {
                format!(
                    "Exited ({}) {} ago",
                    st.exit_code,
                    human_duration(since(&st.finished_at))
                )
            }
        }
    }
}

fn or_zero(t: &str) -> &str {
    if t.is_empty() {
        ZERO_TIME
    } else {
        t
    }
}

fn overlay(mut base: Value, over: Value) -> Value {
    if let (Some(b), Value::Object(o)) = (base.as_object_mut(), over) {
        for (k, v) in o {
            b.insert(k, v);
        }
    }
    base
}

fn host_config_defaults() -> Value {
    json!({
        "Binds": null, "ContainerIDFile": "", "LogConfig": {"Type": "json-file", "Config": {}},
        "NetworkMode": "bridge", "PortBindings": {}, "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
        "AutoRemove": false, "VolumeDriver": "", "VolumesFrom": null, "ConsoleSize": [0, 0],
        "CapAdd": null, "CapDrop": null, "CgroupnsMode": "host", "Dns": [], "DnsOptions": [],
        "DnsSearch": [], "ExtraHosts": null, "GroupAdd": null, "IpcMode": "private", "Cgroup": "",
        "Links": null, "OomScoreAdj": 0, "PidMode": "", "Privileged": false, "PublishAllPorts": false,
        "ReadonlyRootfs": false, "SecurityOpt": null, "UTSMode": "", "UsernsMode": "",
        "ShmSize": 67108864, "Runtime": "runc", "Isolation": "", "CpuShares": 0, "Memory": 0,
        "NanoCpus": 0, "CgroupParent": "", "BlkioWeight": 0, "BlkioWeightDevice": [],
        "BlkioDeviceReadBps": [], "BlkioDeviceWriteBps": [], "BlkioDeviceReadIOps": [],
        "BlkioDeviceWriteIOps": [], "CpuPeriod": 0, "CpuQuota": 0, "CpuRealtimePeriod": 0,
        "CpuRealtimeRuntime": 0, "CpusetCpus": "", "CpusetMems": "", "Devices": [],
        "DeviceCgroupRules": null, "DeviceRequests": null, "MemoryReservation": 0, "MemorySwap": 0,
        "MemorySwappiness": null, "OomKillDisable": false, "PidsLimit": null, "Ulimits": [],
        "CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
        "MaskedPaths": berth_runtime::defaults::MASKED_PATHS,
        "ReadonlyPaths": berth_runtime::defaults::READONLY_PATHS,
    })
}

fn config_defaults() -> Value {
    json!({
        "Hostname": "", "Domainname": "", "User": "", "AttachStdin": false, "AttachStdout": false,
        "AttachStderr": false, "Tty": false, "OpenStdin": false, "StdinOnce": false, "Env": null,
        "Cmd": null, "Image": "", "Volumes": null, "WorkingDir": "", "Entrypoint": null,
        "OnBuild": null, "Labels": {},
    })
}

fn networks(rec: &ContainerRecord, nets: &[NetworkRecord]) -> Value {
    let mode = rec
        .host_config
        .network_mode
        .clone()
        .unwrap_or_else(|| "bridge".into());
    let mut m = Map::new();
    if mode == "host" || mode == "none" {
        let mut ep = endpoint();
        if let Some(n) = nets.iter().find(|n| n.predefined && n.name == mode) {
            ep["NetworkID"] = json!(n.id);
        }
        m.insert(mode, ep);
        return Value::Object(m);
    }
    for e in &rec.network.endpoints {
        let user_net = nets
            .iter()
            .find(|n| n.id == e.network_id)
            .is_some_and(|n| !n.is_default_bridge());
        let mut ep = endpoint();
        ep["NetworkID"] = json!(e.network_id);
        ep["EndpointID"] = json!(e.endpoint_id);
        ep["Gateway"] = json!(e.gateway);
        ep["IPAddress"] = json!(e.ip);
        ep["IPPrefixLen"] = json!(e.prefix_len);
        ep["MacAddress"] = json!(e.mac);
        if let Some(ip) = &e.ipv4_requested {
            ep["IPAMConfig"] = json!({"IPv4Address": ip});
        }
        if !e.aliases.is_empty() {
            ep["Aliases"] = json!(e.aliases);
        }
        if !e.links.is_empty() {
            ep["Links"] = json!(e.links);
        }
        if let Some(o) = &e.driver_opts {
            ep["DriverOpts"] = json!(o);
        }
        if user_net {
            let mut names = vec![rec.name.clone(), rec.id[..12].to_owned()];
            names.extend(e.aliases.iter().cloned());
            ep["DNSNames"] = json!(names);
        }
        m.insert(e.network_name.clone(), ep);
    }
    Value::Object(m)
}

/// `NetworkSettings.Ports`: published ports with their bindings while running, exposed
/// ones as null.
fn ports_map(rec: &ContainerRecord) -> Value {
    let mut m = Map::new();
    if rec.network.sandbox_key.is_empty() {
        return Value::Object(m);
    }
    for p in rec.config.exposed_ports.iter().flatten() {
        let key = if p.contains('/') {
            p.clone()
        } else {
            format!("{p}/tcp")
        };
        m.insert(key, Value::Null);
    }
    for p in &rec.network.ports {
        let key = format!("{}/{}", p.container_port, p.proto);
        let host_ip = if p.host_ip.is_empty() {
            "0.0.0.0"
        } else {
            p.host_ip.as_str()
        };
        let entry = m.entry(key).or_insert(Value::Null);
        if entry.is_null() {
            *entry = json!([]);
        }
        if let Some(a) = entry.as_array_mut() {
            a.push(json!({"HostIp": host_ip, "HostPort": p.host_port.to_string()}));
        }
    }
    Value::Object(m)
}

/// `Ports` of a `GET /containers/json` row.
fn ports_list(rec: &ContainerRecord) -> Value {
    let mut out = Vec::new();
    for p in &rec.network.ports {
        let ip = if p.host_ip.is_empty() {
            "0.0.0.0"
        } else {
            p.host_ip.as_str()
        };
        out.push(json!({"IP": ip, "PrivatePort": p.container_port, "PublicPort": p.host_port, "Type": p.proto}));
    }
    for e in rec.config.exposed_ports.iter().flatten() {
        let (port, proto) = e.split_once('/').unwrap_or((e.as_str(), "tcp"));
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        if !rec
            .network
            .ports
            .iter()
            .any(|p| p.container_port == port && p.proto == proto)
        {
            out.push(json!({"PrivatePort": port, "Type": proto}));
        }
    }
    Value::Array(out)
}

fn network_settings(rec: &ContainerRecord, nets: &[NetworkRecord]) -> Value {
    let mut ns = json!({
        "Bridge": "", "SandboxID": "", "SandboxKey": rec.network.sandbox_key, "Ports": ports_map(rec),
        "HairpinMode": false, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
        "SecondaryIPAddresses": null, "SecondaryIPv6Addresses": null, "EndpointID": "",
        "Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "IPAddress": "",
        "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": "",
        "Networks": networks(rec, nets),
    });
    if !rec.network.sandbox_key.is_empty() {
        ns["SandboxID"] = json!(sandbox_id(&rec.id));
    }
    // The legacy top-level fields describe the default bridge endpoint only, as Docker's.
    let bridge = nets
        .iter()
        .find(|n| n.is_default_bridge())
        .map(|n| n.id.as_str());
    if let Some(e) = rec
        .network
        .endpoints
        .iter()
        .find(|e| Some(e.network_id.as_str()) == bridge && e.is_live())
    {
        ns["EndpointID"] = json!(e.endpoint_id);
        ns["Gateway"] = json!(e.gateway);
        ns["IPAddress"] = json!(e.ip);
        ns["IPPrefixLen"] = json!(e.prefix_len);
        ns["MacAddress"] = json!(e.mac);
    }
    ns
}

/// A stable 64-hex sandbox ID derived from the container's.
fn sandbox_id(container_id: &str) -> String {
    container_id.chars().rev().collect()
}

fn endpoint() -> Value {
    json!({
        "IPAMConfig": null, "Links": null, "Aliases": null, "MacAddress": "", "DriverOpts": null,
        "GwPriority": 0, "NetworkID": "", "EndpointID": "", "Gateway": "", "IPAddress": "",
        "IPPrefixLen": 0, "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "DNSNames": null,
    })
}

fn health(rec: &ContainerRecord) -> Option<Value> {
    rec.state.health.as_ref().map(|h| {
        json!({
            "Status": h.status,
            "FailingStreak": h.failing_streak,
            "Log": h.log.iter().map(|l| json!({
                "Start": l.start, "End": l.end, "ExitCode": l.exit_code, "Output": l.output,
            })).collect::<Vec<_>>(),
        })
    })
}

pub struct Sizes {
    pub rw: i64,
    pub root_fs: i64,
}

/// `GET /containers/{id}/json`.
pub fn inspect(
    rec: &ContainerRecord,
    data_dir: &std::path::Path,
    graph: Value,
    exec_ids: Vec<String>,
    sizes: Option<Sizes>,
    nets: &[NetworkRecord],
) -> Value {
    let st = &rec.state;
    let mut state = json!({
        "Status": st.status.as_str(),
        "Running": st.status.is_running(),
        "Paused": st.status == Status::Paused,
        "Restarting": st.status == Status::Restarting,
        "OOMKilled": st.oom_killed,
        "Dead": st.status == Status::Dead,
        "Pid": st.pid,
        "ExitCode": st.exit_code,
        "Error": st.error,
        "StartedAt": or_zero(&st.started_at),
        "FinishedAt": or_zero(&st.finished_at),
    });
    if let Some(h) = health(rec) {
        state["Health"] = h;
    }
    let host_config = overlay(
        host_config_defaults(),
        serde_json::to_value(&rec.host_config).unwrap_or_default(),
    );
    let config = overlay(
        config_defaults(),
        serde_json::to_value(&rec.config).unwrap_or_default(),
    );
    let mut out = json!({
        "Id": rec.id,
        "Created": rec.created,
        "Path": rec.path,
        "Args": rec.args,
        "State": state,
        "Image": rec.image,
        "ResolvConfPath": data_dir.join("resolv.conf"),
        "HostnamePath": data_dir.join("hostname"),
        "HostsPath": data_dir.join("hosts"),
        "LogPath": rec.log_path,
        "Name": format!("/{}", rec.name),
        "RestartCount": rec.restart_count,
        "Driver": rec.driver,
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": if exec_ids.is_empty() { Value::Null } else { json!(exec_ids) },
        "HostConfig": host_config,
        "GraphDriver": graph,
        "Mounts": mounts(rec),
        "Config": config,
        "NetworkSettings": network_settings(rec, nets),
    });
    if let Some(s) = sizes {
        out["SizeRw"] = json!(s.rw);
        out["SizeRootFs"] = json!(s.root_fs);
    }
    out
}

/// One row of `GET /containers/json`.
pub fn summary(rec: &ContainerRecord, sizes: Option<Sizes>, nets: &[NetworkRecord]) -> Value {
    // moby quotes arguments that contain a space.
    let mut command = rec.path.clone();
    for a in &rec.args {
        command.push(' ');
        if a.contains(' ') {
            command.push_str(&format!("'{a}'"));
        } else {
            command.push_str(a);
        }
    }
    let mut out = json!({
        "Id": rec.id,
        "Names": [format!("/{}", rec.name)],
        "Image": rec.config.image.clone().unwrap_or_default(),
        "ImageID": rec.image,
        "Command": command,
        "Created": unix(&rec.created),
        "Ports": ports_list(rec),
        "Labels": rec.config.labels.clone().unwrap_or_default(),
        "State": rec.state.status.as_str(),
        "Status": status_text(rec),
        "HostConfig": {"NetworkMode": rec.host_config.network_mode.clone().unwrap_or_else(|| "bridge".into())},
        "NetworkSettings": {"Networks": networks(rec, nets)},
        "Mounts": mounts(rec),
    });
    if let Some(s) = sizes {
        out["SizeRw"] = json!(s.rw);
        out["SizeRootFs"] = json!(s.root_fs);
    }
    out
}

/// inspect's and ps's `Mounts`: moby's `MountPoint` JSON (Name and Driver only for volumes).
fn mounts(rec: &ContainerRecord) -> Value {
    rec.mount_points
        .iter()
        .map(|m| {
            let mut v = json!({"Type": m.kind.as_str()});
            if !m.name.is_empty() {
                v["Name"] = json!(m.name);
            }
            v["Source"] = json!(m.source);
            v["Destination"] = json!(m.destination);
            if !m.driver.is_empty() {
                v["Driver"] = json!(m.driver);
            }
            v["Mode"] = json!(m.mode);
            v["RW"] = json!(m.rw);
            v["Propagation"] = json!(m.propagation);
            v
        })
        .collect()
}
