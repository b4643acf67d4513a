//! A container record (Config + HostConfig) → berth-runtime's resolved [`ContainerSpec`].
//! Validation that Docker does at create time lives in [`validate`]; what needs the
//! mounted root (users, working dir) is resolved at start.

use std::collections::BTreeMap;
use std::path::PathBuf;

use berth_api::models::{HostConfig, HostConfigCgroupnsModeEnum};
use berth_runtime::{ContainerSpec, Device, NamespaceMode, Resources, SeccompMode, Ulimit};
use serde_json::{json, Value};

use super::record::{ContainerPaths, ContainerRecord};
use super::user::ExecUser;

/// Where `--init` puts its program, as Docker does.
pub const INIT_IN_CONTAINER: &str = "/sbin/docker-init";

/// Docker's create-time checks of HostConfig; `Err` is a 400 message.
pub fn validate(hc: &HostConfig) -> Result<(), String> {
    if let Some(policy) = &hc.restart_policy {
        let name = policy.name.map(|n| n.to_string()).unwrap_or_default();
        let max = policy.maximum_retry_count.unwrap_or(0);
        match name.as_str() {
            "" | "no" | "always" | "unless-stopped" if max != 0 => return Err(
                "invalid restart policy: maximum retry count can only be used with 'on-failure'"
                    .into(),
            ),
            "on-failure" if max < 0 => {
                return Err("invalid restart policy: maximum retry count cannot be negative".into())
            }
            _ => {}
        }
        if hc.auto_remove == Some(true) && !matches!(name.as_str(), "" | "no") {
            return Err("can't create 'AutoRemove' container with restart policy".into());
        }
    }
    if let (Some(mem), Some(swap)) = (hc.memory, hc.memory_swap) {
        if mem > 0 && swap > 0 && swap < mem {
            return Err(
                "Minimum memoryswap limit should be larger than memory limit, see usage".into(),
            );
        }
    }
    if hc.memory.is_some_and(|m| m > 0 && m < 6 * 1024 * 1024) {
        return Err("Minimum memory limit allowed is 6MB".into());
    }
    if hc.nano_cpus.is_some_and(|n| n > 0)
        && (hc.cpu_quota.is_some_and(|q| q > 0) || hc.cpu_period.is_some_and(|p| p > 0))
    {
        return Err("Conflicting options: Nano CPUs and CPU Period cannot both be set".into());
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    if let Some(n) = hc.nano_cpus.filter(|n| *n > cpus * 1_000_000_000) {
        let _ = n;
        return Err(format!(
            "range of CPUs is from 0.01 to {cpus}.00, as there are only {cpus} CPUs available"
        ));
    }
    if hc
        .oom_score_adj
        .is_some_and(|a| !(-1000..=1000).contains(&a))
    {
        return Err("Invalid value, OOM score adjust should be in range [-1000, 1000]".into());
    }
    for opt in hc.security_opt.iter().flatten() {
        parse_security_opt(opt)?;
    }
    for mode in [&hc.ipc_mode, &hc.pid_mode, &hc.uts_mode] {
        if let Some(m) = mode.as_deref() {
            if !matches!(m, "" | "private" | "host" | "shareable" | "none")
                && !m.starts_with("container:")
            {
                return Err(format!("invalid IPC mode: {m}"));
            }
        }
    }
    if let Some(mode) = hc.network_mode.as_deref() {
        if mode == "container:" {
            return Err("invalid container format container:<name|id>".into());
        }
    }
    Ok(())
}

#[derive(Debug, Default, PartialEq)]
struct SecurityOpts {
    no_new_privileges: bool,
    seccomp: SeccompMode,
}

fn parse_security_opt(opt: &str) -> Result<Option<(String, String)>, String> {
    if opt == "no-new-privileges" {
        return Ok(Some(("no-new-privileges".into(), "true".into())));
    }
    let (k, v) = opt
        .split_once(['=', ':'])
        .ok_or_else(|| format!("invalid --security-opt 1: {opt:?}"))?;
    match k {
        "no-new-privileges" => {
            v.parse::<bool>()
                .map_err(|_| format!("invalid --security-opt 2: {opt:?}"))?;
        }
        "seccomp" | "label" | "apparmor" | "systempaths" => {}
        _ => return Err(format!("invalid --security-opt 2: {opt:?}")),
    }
    Ok(Some((k.to_owned(), v.to_owned())))
}

fn security_opts(hc: &HostConfig) -> Result<SecurityOpts, String> {
    let mut out = SecurityOpts::default();
    for opt in hc.security_opt.iter().flatten() {
        let Some((k, v)) = parse_security_opt(opt)? else {
            continue;
        };
        match k.as_str() {
            "no-new-privileges" => out.no_new_privileges = v == "true",
            "seccomp" if v == "unconfined" => out.seccomp = SeccompMode::Unconfined,
            // The CLI reads the profile file and sends its JSON; a path here came from
            // an API client, so read it on the daemon's side as dockerd does.
            "seccomp" => {
                let text = if v.trim_start().starts_with('{') {
                    v.clone()
                } else {
                    std::fs::read_to_string(&v)
                        .map_err(|e| format!("opening seccomp profile ({v}) failed: {e}"))?
                };
                let profile: Value = serde_json::from_str(&text)
                    .map_err(|e| format!("Decoding seccomp profile failed: {e}"))?;
                out.seccomp = SeccompMode::Custom(profile);
            }
            _ => {}
        }
    }
    Ok(out)
}

fn namespace(
    mode: Option<&str>,
    resolve_container: &dyn Fn(&str, &str) -> Result<PathBuf, String>,
    ns: &str,
) -> Result<NamespaceMode, String> {
    match mode.unwrap_or("") {
        "host" => Ok(NamespaceMode::Host),
        m if m.starts_with("container:") => Ok(NamespaceMode::Join(resolve_container(
            &m["container:".len()..],
            ns,
        )?)),
        _ => Ok(NamespaceMode::Private),
    }
}

fn tmpfs_mount(target: &str, opts: &str) -> Value {
    let mut options = vec!["noexec".to_owned(), "nosuid".to_owned(), "nodev".to_owned()];
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        let flag = match o {
            "exec" => Some("noexec"),
            "suid" => Some("nosuid"),
            "dev" => Some("nodev"),
            _ => None,
        };
        if let Some(f) = flag {
            options.retain(|x| x != f);
        } else {
            options.push(o.to_owned());
        }
    }
    json!({"destination": target, "type": "tmpfs", "source": "tmpfs", "options": options})
}

fn bind_file(src: &std::path::Path, dest: &str, readonly: bool) -> Value {
    let mut options = vec!["rbind", "rprivate"];
    if readonly {
        options.push("ro");
    }
    json!({"destination": dest, "type": "bind", "source": src, "options": options})
}

/// Everything the runtime needs for `rec`, given the resolved user and the rootfs.
#[allow(clippy::too_many_arguments)]
pub fn build(
    rec: &ContainerRecord,
    paths: &ContainerPaths,
    user: &ExecUser,
    cgroups_path: String,
    init_path: Option<&std::path::Path>,
    netns: Option<&std::path::Path>,
    resolve_container: &dyn Fn(&str, &str) -> Result<PathBuf, String>,
    user_mounts: super::mounts::PreparedMounts,
    ipc: super::ipc::IpcSetup,
) -> Result<ContainerSpec, String> {
    let hc = &rec.host_config;
    let cfg = &rec.config;
    let sec = security_opts(hc)?;
    let mut env = cfg.env.clone().unwrap_or_default();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(
            0,
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        );
    }
    if !env.iter().any(|e| e.starts_with("HOSTNAME=")) {
        env.insert(
            1.min(env.len()),
            format!("HOSTNAME={}", cfg.hostname.clone().unwrap_or_default()),
        );
    }
    if cfg.tty.unwrap_or(false) && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    if !env.iter().any(|e| e.starts_with("HOME=")) {
        env.push(format!("HOME={}", user.home));
    }
    let mut args = vec![rec.path.clone()];
    args.extend(rec.args.iter().cloned());
    let mut init_mount = None;
    if hc.init == Some(true) {
        let path = init_path.ok_or("--init is not available: the daemon has no init program")?;
        args.splice(0..0, [INIT_IN_CONTAINER.to_owned(), "--".to_owned()]);
        init_mount = Some(bind_file(path, INIT_IN_CONTAINER, true));
    }

    let readonly_etc = hc.readonly_rootfs.unwrap_or(false);
    let mut mounts = user_mounts.oci;
    let mut tmpfs: Vec<(&String, &String)> = hc.tmpfs.iter().flatten().collect();
    tmpfs.sort();
    for (target, opts) in tmpfs {
        mounts.push(tmpfs_mount(target, opts));
    }
    // The user's own /etc/hosts (etc.) wins over the generated one, as in Docker.
    let taken = |dest: &str| mounts.iter().any(|m| m["destination"] == dest);
    let etc: Vec<Value> = [
        (paths.resolv_conf(), "/etc/resolv.conf"),
        (paths.hostname(), "/etc/hostname"),
        (paths.hosts(), "/etc/hosts"),
    ]
    .into_iter()
    .filter(|(_, dest)| !taken(dest))
    .map(|(src, dest)| bind_file(&src, dest, readonly_etc))
    .collect();
    mounts.extend(etc);
    mounts.extend(init_mount);
    // Parents before children, keeping the given order otherwise (moby sorts by depth).
    mounts.sort_by_key(|m| {
        m["destination"]
            .as_str()
            .map(|d| d.trim_end_matches('/').matches('/').count())
            .unwrap_or(0)
    });

    let devices = hc
        .devices
        .iter()
        .flatten()
        .map(|d| {
            let host = d.path_on_host.clone().unwrap_or_default();
            let inside = d
                .path_in_container
                .clone()
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| host.clone());
            Device {
                path_on_host: host.into(),
                path_in_container: inside,
                permissions: d.cgroup_permissions.clone().unwrap_or_else(|| "rwm".into()),
            }
        })
        .collect();

    let ulimits = hc
        .ulimits
        .iter()
        .flatten()
        .map(|u| Ulimit {
            name: u.name.clone().unwrap_or_default(),
            soft: u.soft.unwrap_or(0).max(0) as u64,
            hard: u.hard.unwrap_or(0).max(0) as u64,
        })
        .collect();

    let network = match (netns, hc.network_mode.as_deref()) {
        (Some(ns), _) => NamespaceMode::Join(ns.into()),
        (None, Some("host")) => NamespaceMode::Host,
        (None, Some(m)) if m.starts_with("container:") => {
            NamespaceMode::Join(resolve_container(&m["container:".len()..], "net")?)
        }
        _ => NamespaceMode::Private,
    };

    Ok(ContainerSpec {
        rootfs_propagation: user_mounts.rootfs_propagation,
        rootfs: paths.rootfs(),
        readonly_rootfs: hc.readonly_rootfs.unwrap_or(false),
        args,
        env,
        cwd: cfg
            .working_dir
            .clone()
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "/".into()),
        uid: user.uid,
        gid: user.gid,
        additional_gids: user.additional_gids.clone(),
        hostname: cfg.hostname.clone().unwrap_or_default(),
        domainname: cfg.domainname.clone().unwrap_or_default(),
        tty: cfg.tty.unwrap_or(false),
        privileged: hc.privileged.unwrap_or(false),
        cap_add: hc.cap_add.clone().unwrap_or_default(),
        cap_drop: hc.cap_drop.clone().unwrap_or_default(),
        no_new_privileges: sec.no_new_privileges,
        seccomp: sec.seccomp,
        shm_size: hc.shm_size.filter(|s| *s > 0).map(|s| s as u64),
        sysctls: hc
            .sysctls
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        ulimits,
        resources: resources(hc),
        oom_score_adj: hc.oom_score_adj.filter(|a| *a != 0).map(|a| a as i32),
        cgroups_path,
        network,
        ipc: ipc.namespace,
        dev_shm: ipc.dev_shm,
        pid: namespace(hc.pid_mode.as_deref(), resolve_container, "pid")?,
        uts: namespace(hc.uts_mode.as_deref(), resolve_container, "uts")?,
        cgroup_namespace: hc.cgroupns_mode == Some(HostConfigCgroupnsModeEnum::PRIVATE),
        mounts,
        devices,
        // Set by the lifecycle, which knows the sandbox (`crate::userns::spec_namespace`).
        user_namespace: None,
    })
}

pub fn resources(hc: &HostConfig) -> Resources {
    Resources {
        memory: hc.memory,
        memory_swap: hc.memory_swap,
        memory_reservation: hc.memory_reservation,
        nano_cpus: hc.nano_cpus,
        cpu_shares: hc.cpu_shares.filter(|s| *s > 0).map(|s| s as u64),
        cpu_quota: hc.cpu_quota,
        cpu_period: hc.cpu_period.filter(|p| *p > 0).map(|p| p as u64),
        cpuset_cpus: hc.cpuset_cpus.clone(),
        pids_limit: hc.pids_limit.filter(|p| *p > 0),
        blkio_weight: hc.blkio_weight.filter(|w| *w > 0),
        oom_kill_disable: hc.oom_kill_disable.unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::models::{RestartPolicy, RestartPolicyNameEnum};

    #[test]
    fn restart_policy_and_resource_checks_match_dockers() {
        let mut hc = HostConfig {
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::ALWAYS),
                maximum_retry_count: Some(2),
            }),
            ..Default::default()
        };
        assert!(validate(&hc).unwrap_err().contains("maximum retry count"));
        hc.restart_policy = None;
        hc.memory = Some(1024);
        assert_eq!(
            validate(&hc).unwrap_err(),
            "Minimum memory limit allowed is 6MB"
        );
        hc.memory = None;
        hc.security_opt = Some(vec!["bogus=1".into()]);
        assert!(validate(&hc).is_err());
        hc.security_opt = Some(vec![
            "no-new-privileges".into(),
            "seccomp=unconfined".into(),
        ]);
        validate(&hc).unwrap();
        let sec = security_opts(&hc).unwrap();
        assert!(sec.no_new_privileges);
        assert_eq!(sec.seccomp, SeccompMode::Unconfined);
    }

    #[test]
    fn tmpfs_defaults_are_noexec_nosuid_nodev_unless_overridden() {
        let m = tmpfs_mount("/t", "size=1m,exec");
        assert_eq!(m["options"], json!(["nosuid", "nodev", "size=1m"]));
    }
}
