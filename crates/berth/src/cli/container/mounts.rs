//! Storage flags: `-v` (binds and anonymous volumes, as the compose loader's
//! `ParseVolume` tells them apart), `--mount` (docker's `MountOpt`) and `--device`.

use serde_json::{json, Map, Value};

use super::values::{csv_fields, go_bool, ram_in_bytes};

fn abs_if_relative_dot(src: &str) -> String {
    if !src.starts_with('/') && src.starts_with('.') {
        if let Ok(cwd) = std::env::current_dir() {
            return clean_path(&cwd.join(src).to_string_lossy());
        }
    }
    src.to_owned()
}

/// Go's `path.Clean` for absolute paths.
pub fn clean_path(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            x => out.push(x),
        }
    }
    let joined = out.join("/");
    if p.starts_with('/') {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".into()
    } else {
        joined
    }
}

/// `--mount type=bind,source=/a,target=/b,readonly`: one `Mount` of the API.
pub fn mount(s: &str) -> Result<Value, String> {
    let fields = csv_fields(s)?;
    let mut m = Map::new();
    let mut kind = "volume".to_owned();
    let mut source: Option<String> = None;
    let mut target: Option<String> = None;
    let mut read_only: Option<bool> = None;
    let mut consistency: Option<String> = None;
    let mut bind = Map::new();
    let mut has_bind = false;
    let mut volume = Map::new();
    let mut has_volume = false;
    let mut vol_labels = Map::new();
    let mut driver = Map::new();
    let mut image = Map::new();
    let mut has_image = false;
    let mut tmpfs = Map::new();
    let mut has_tmpfs = false;
    let bool_of =
        |key: &str, v: &str| go_bool(v).map_err(|_| format!("invalid value for {key}: {v}"));
    for field in &fields {
        let (key, val) = match field.split_once('=') {
            Some((k, v)) => (k.to_lowercase(), Some(v)),
            None => (field.to_lowercase(), None),
        };
        let Some(val) = val else {
            match key.as_str() {
                "readonly" | "ro" => read_only = Some(true),
                "volume-nocopy" => {
                    has_volume = true;
                    volume.insert("NoCopy".into(), json!(true));
                }
                "bind-nonrecursive" => {
                    has_bind = true;
                    bind.insert("NonRecursive".into(), json!(true));
                }
                _ => return Err(format!("invalid field '{field}' must be a key=value pair")),
            }
            continue;
        };
        match key.as_str() {
            "type" => kind = val.to_lowercase(),
            "source" | "src" => source = Some(abs_if_relative_dot(val)),
            "target" | "dst" | "destination" => target = Some(val.to_owned()),
            "readonly" | "ro" => read_only = Some(bool_of(&key, val)?),
            "consistency" => consistency = Some(val.to_lowercase()),
            "bind-propagation" => {
                has_bind = true;
                bind.insert("Propagation".into(), json!(val.to_lowercase()));
            }
            "bind-nonrecursive" => {
                has_bind = true;
                bind.insert("NonRecursive".into(), json!(bool_of(&key, val)?));
            }
            "bind-recursive" => {
                has_bind = true;
                match val {
                    "enabled" => {}
                    "disabled" => {
                        bind.insert("NonRecursive".into(), json!(true));
                    }
                    "writable" => {
                        bind.insert("ReadOnlyNonRecursive".into(), json!(true));
                    }
                    "readonly" => {
                        bind.insert("ReadOnlyForceRecursive".into(), json!(true));
                    }
                    _ => return Err(format!("invalid value for {key}: {val} (must be \"enabled\", \"disabled\", \"writable\", or \"readonly\")")),
                }
            }
            "volume-subpath" => {
                has_volume = true;
                volume.insert("Subpath".into(), json!(val));
            }
            "volume-nocopy" => {
                has_volume = true;
                let b =
                    go_bool(val).map_err(|_| format!("invalid value for volume-nocopy: {val}"))?;
                volume.insert("NoCopy".into(), json!(b));
            }
            "volume-label" => {
                has_volume = true;
                let (k, v) = val.split_once('=').unwrap_or((val, ""));
                if !k.is_empty() {
                    vol_labels.insert(k.into(), json!(v));
                }
            }
            "volume-driver" => {
                has_volume = true;
                driver.insert("Name".into(), json!(val));
            }
            "volume-opt" => {
                has_volume = true;
                let (k, v) = val.split_once('=').unwrap_or((val, ""));
                let opts = driver
                    .entry("Options")
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .expect("an object");
                if !k.is_empty() {
                    opts.insert(k.into(), json!(v));
                }
            }
            "image-subpath" => {
                has_image = true;
                image.insert("Subpath".into(), json!(val));
            }
            "tmpfs-size" => {
                has_tmpfs = true;
                let n = ram_in_bytes(val).map_err(|_| format!("invalid value for {key}: {val}"))?;
                tmpfs.insert("SizeBytes".into(), json!(n));
            }
            "tmpfs-mode" => {
                has_tmpfs = true;
                let mode = u32::from_str_radix(val, 8)
                    .map_err(|_| format!("invalid value for {key}: {val}"))?;
                tmpfs.insert("Mode".into(), json!(mode));
            }
            _ => return Err(format!("unexpected key '{key}' in '{field}'")),
        }
    }
    if kind.is_empty() {
        return Err("type is required".into());
    }
    let Some(target) = target.filter(|t| !t.is_empty()) else {
        return Err("target is required".into());
    };
    for (present, wanted, what) in [
        (has_volume, "volume", "volume-*"),
        (has_image, "image", "image-*"),
        (has_bind, "bind", "bind-*"),
        (has_tmpfs, "tmpfs", "tmpfs-*"),
    ] {
        if present && kind != wanted {
            return Err(format!(
                "cannot mix '{what}' options with mount type '{kind}'"
            ));
        }
    }
    let read_only = read_only.unwrap_or(false);
    if bind.contains_key("ReadOnlyNonRecursive") && !read_only {
        return Err(
            "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction"
                .into(),
        );
    }
    if bind.contains_key("ReadOnlyForceRecursive") {
        if !read_only {
            return Err("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction".into());
        }
        if bind.get("Propagation") != Some(&json!("rprivate")) {
            return Err("option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction".into());
        }
    }
    m.insert("Type".into(), json!(kind));
    if let Some(src) = source.filter(|s| !s.is_empty()) {
        m.insert("Source".into(), json!(src));
    }
    m.insert("Target".into(), json!(target));
    if read_only {
        m.insert("ReadOnly".into(), json!(true));
    }
    if let Some(c) = consistency.filter(|c| !c.is_empty()) {
        m.insert("Consistency".into(), json!(c));
    }
    if has_bind {
        m.insert("BindOptions".into(), omit_empty(bind));
    }
    if has_volume {
        volume.insert("Labels".into(), Value::Object(vol_labels));
        let mut volume = match omit_empty(volume) {
            Value::Object(v) => v,
            _ => unreachable!("omit_empty keeps objects"),
        };
        // A pointer in Go: present (if empty) whenever any volume option is given.
        volume.insert("DriverConfig".into(), omit_empty(driver));
        m.insert("VolumeOptions".into(), Value::Object(volume));
    }
    if has_image {
        m.insert("ImageOptions".into(), omit_empty(image));
    }
    if has_tmpfs {
        m.insert("TmpfsOptions".into(), omit_empty(tmpfs));
    }
    Ok(Value::Object(m))
}

/// Drops what Go's `omitempty` drops: false, zero, "" and empty maps.
fn omit_empty(map: Map<String, Value>) -> Value {
    Value::Object(
        map.into_iter()
            .filter(|(_, v)| match v {
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                Value::Object(o) => !o.is_empty(),
                Value::Null => false,
                Value::Array(a) => !a.is_empty(),
            })
            .collect(),
    )
}

/// `-v` values: binds (with a source) go to `HostConfig.Binds`, anonymous volumes to
/// `Config.Volumes`; `./rel` sources become absolute, as docker does.
pub fn split_volumes(specs: &[String]) -> Result<(Vec<String>, Map<String, Value>), String> {
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
                        .map(|d| clean_path(&d.join(host).to_string_lossy()))
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

/// A CDI device name: `vendor.com/class=name`.
pub fn is_cdi_name(d: &str) -> bool {
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
pub fn device(spec: &str) -> Result<Value, String> {
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
        clean_path(src)
    } else {
        src.to_owned()
    };
    let dst = if dst.is_empty() {
        src.clone()
    } else if parts.len() == 2 {
        clean_path(dst)
    } else {
        dst.to_owned()
    };
    Ok(json!({"PathOnHost": src, "PathInContainer": dst, "CgroupPermissions": perms}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_parse_as_mount_opt() {
        assert_eq!(
            mount("type=bind,source=/a,target=/b,readonly").unwrap(),
            json!({"Type": "bind", "Source": "/a", "Target": "/b", "ReadOnly": true})
        );
        assert_eq!(
            mount("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1777").unwrap(),
            json!({"Type": "tmpfs", "Target": "/t", "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 1023}})
        );
        assert_eq!(
            mount("src=vol,dst=/v,volume-label=a=b").unwrap(),
            json!({"Type": "volume", "Source": "vol", "Target": "/v", "VolumeOptions": {"Labels": {"a": "b"}, "DriverConfig": {}}})
        );
        assert_eq!(
            mount("type=volume,dst=/v,volume-nocopy=false").unwrap(),
            json!({"Type": "volume", "Target": "/v", "VolumeOptions": {"DriverConfig": {}}})
        );
        assert_eq!(mount("type=bind,src=/a").unwrap_err(), "target is required");
        assert_eq!(
            mount("type=tmpfs,dst=/t,bind-propagation=shared").unwrap_err(),
            "cannot mix 'bind-*' options with mount type 'tmpfs'"
        );
        assert_eq!(
            mount("type=bind,bogus=1,dst=/x").unwrap_err(),
            "unexpected key 'bogus' in 'bogus=1'"
        );
    }

    #[test]
    fn volume_specs_split_into_binds_and_volumes() {
        let specs: Vec<String> = ["/host:/c:ro", "/anon", "named:/data", "/host:/c:ro"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (binds, volumes) = split_volumes(&specs).unwrap();
        assert_eq!(binds, ["/host:/c:ro", "named:/data"]);
        assert_eq!(
            volumes,
            serde_json::from_str::<Map<String, Value>>(r#"{"/anon": {}}"#).unwrap()
        );
        assert_eq!(
            split_volumes(&["a:b:c:d".into()]).unwrap_err(),
            "invalid spec: a:b:c:d: too many colons"
        );
        assert_eq!(clean_path("/a/./b/../c/"), "/a/c");
    }

    #[test]
    fn devices() {
        assert_eq!(
            device("/dev/null:/dev/n2:r").unwrap(),
            json!({"PathOnHost": "/dev/null", "PathInContainer": "/dev/n2", "CgroupPermissions": "r"})
        );
        assert_eq!(
            device("/dev/fuse:rw").unwrap(),
            json!({"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rw"})
        );
        assert_eq!(device("/dev/x:y:z").unwrap_err(), "bad mode specified: z");
        assert!(is_cdi_name("nvidia.com/gpu=all"));
        assert!(!is_cdi_name("/dev/fuse"));
    }
}
