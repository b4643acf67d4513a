//! Host devices for the spec: `--device` mappings, and every host device for
//! `--privileged`, each as an OCI device node plus its cgroup allow rule.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use serde_json::{json, Value};

use crate::spec::{ContainerSpec, SpecError};

fn node(host: &Path, in_container: &str, permissions: &str) -> Result<(Value, Value), String> {
    let meta = std::fs::metadata(host).map_err(|e| e.to_string())?;
    let ft = meta.file_type();
    let typ = if ft.is_char_device() {
        "c"
    } else if ft.is_block_device() {
        "b"
    } else {
        return Err("not a device node".into());
    };
    let rdev = meta.rdev();
    let (major, minor) = (nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev));
    let dev = json!({
        "path": in_container, "type": typ, "major": major, "minor": minor,
        "fileMode": meta.mode() & 0o777, "uid": meta.uid(), "gid": meta.gid(),
    });
    let rule =
        json!({"allow": true, "type": typ, "major": major, "minor": minor, "access": permissions});
    Ok((dev, rule))
}

/// Every device node under the host's /dev (not pts, shm, mqueue or console), as Docker
/// gives a privileged container.
fn host_devices(dir: &Path, out: &mut Vec<Value>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        let name = e.file_name();
        if ft.is_dir() {
            if !matches!(
                name.to_str(),
                Some("pts" | "shm" | "mqueue" | ".lxc" | ".udev")
            ) {
                host_devices(&path, out);
            }
            continue;
        }
        if name == "console" || !(ft.is_char_device() || ft.is_block_device()) {
            continue;
        }
        let in_container = path.to_string_lossy().into_owned();
        if let Ok((dev, _)) = node(&path, &in_container, "rwm") {
            out.push(dev);
        }
    }
}

/// The spec's `linux.devices` and the extra cgroup rules.
pub fn resolve(c: &ContainerSpec) -> Result<(Vec<Value>, Vec<Value>), SpecError> {
    let mut devices = Vec::new();
    let mut rules = Vec::new();
    if c.privileged {
        host_devices(Path::new("/dev"), &mut devices);
    }
    for d in &c.devices {
        let perms = if d.permissions.is_empty() {
            "rwm"
        } else {
            &d.permissions
        };
        let (dev, rule) = node(&d.path_on_host, &d.path_in_container, perms)
            .map_err(|e| SpecError::Device(d.path_on_host.display().to_string(), e))?;
        devices.retain(|v| v["path"] != dev["path"]);
        devices.push(dev);
        rules.push(rule);
    }
    Ok((devices, rules))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Device;

    #[test]
    fn device_mappings_become_nodes_and_allow_rules() {
        let c = ContainerSpec {
            devices: vec![Device {
                path_on_host: "/dev/null".into(),
                path_in_container: "/dev/mynull".into(),
                permissions: "rw".into(),
            }],
            ..Default::default()
        };
        let (devs, rules) = resolve(&c).unwrap();
        assert_eq!(devs.len(), 1);
        assert_eq!(devs[0]["path"], "/dev/mynull");
        assert_eq!(
            (devs[0]["major"].as_u64(), devs[0]["minor"].as_u64()),
            (Some(1), Some(3))
        );
        assert_eq!(rules[0]["access"], "rw");
        let missing = ContainerSpec {
            devices: vec![Device {
                path_on_host: "/dev/does-not-exist".into(),
                path_in_container: "/dev/x".into(),
                permissions: "rwm".into(),
            }],
            ..Default::default()
        };
        assert!(resolve(&missing).is_err());
    }

    #[test]
    fn privileged_gets_the_hosts_devices() {
        let c = ContainerSpec {
            privileged: true,
            ..Default::default()
        };
        let (devs, _) = resolve(&c).unwrap();
        assert!(devs.iter().any(|d| d["path"] == "/dev/null"));
        assert!(!devs
            .iter()
            .any(|d| d["path"].as_str().unwrap().starts_with("/dev/pts/")));
    }
}
