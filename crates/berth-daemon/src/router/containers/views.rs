//! Engine records → the API's container JSON (inspect and the `ps` summary), with every
//! field Docker always sends present, so templates like `{{.State.Error}}` print "".

use berth_engine::containers::{ContainerRecord, Status, ZERO_TIME};
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

fn networks(rec: &ContainerRecord) -> Value {
    let mode = rec
        .host_config
        .network_mode
        .clone()
        .unwrap_or_else(|| "bridge".into());
    if mode == "none" || mode.starts_with("container:") {
        if mode == "none" {
            return json!({"none": endpoint()});
        }
        return json!({});
    }
    let name = if mode == "default" {
        "bridge".to_owned()
    } else {
        mode
    };
    let mut m = Map::new();
    m.insert(name, endpoint());
    Value::Object(m)
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
        "Mounts": [],
        "Config": config,
        "NetworkSettings": {
            "Bridge": "", "SandboxID": "", "SandboxKey": "", "Ports": {}, "HairpinMode": false,
            "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
            "SecondaryIPAddresses": null, "SecondaryIPv6Addresses": null, "EndpointID": "",
            "Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "IPAddress": "",
            "IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": "",
            "Networks": networks(rec),
        },
    });
    if let Some(s) = sizes {
        out["SizeRw"] = json!(s.rw);
        out["SizeRootFs"] = json!(s.root_fs);
    }
    out
}

/// One row of `GET /containers/json`.
pub fn summary(rec: &ContainerRecord, sizes: Option<Sizes>) -> Value {
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
        "Ports": [],
        "Labels": rec.config.labels.clone().unwrap_or_default(),
        "State": rec.state.status.as_str(),
        "Status": status_text(rec),
        "HostConfig": {"NetworkMode": rec.host_config.network_mode.clone().unwrap_or_else(|| "bridge".into())},
        "NetworkSettings": {"Networks": networks(rec)},
        "Mounts": [],
    });
    if let Some(s) = sizes {
        out["SizeRw"] = json!(s.rw);
        out["SizeRootFs"] = json!(s.root_fs);
    }
    out
}
