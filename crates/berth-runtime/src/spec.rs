//! Building the OCI runtime spec for one container.

use std::collections::BTreeMap;
use std::path::PathBuf;

use nix::sys::resource::Resource;
use oci_spec::runtime::Spec;
use serde_json::{json, Value};

use crate::defaults;
use crate::rlimit;

/// How a namespace is set up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NamespaceMode {
    /// A new namespace of the container's own.
    #[default]
    Private,
    /// The host's namespace (no namespace entry in the spec).
    Host,
    /// Join an existing namespace, e.g. another container's (`/proc/<pid>/ns/net`).
    Join(PathBuf),
}

/// What a container gets at `/dev/shm` (Docker's IPC modes decide it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DevShm {
    /// A tmpfs of its own, `shm_size` bytes (`private` IPC).
    #[default]
    Tmpfs,
    /// A host directory bound in read-write: the tmpfs the daemon mounted for a
    /// `shareable` container (or its donor's, for `container:X`), or the host's /dev/shm.
    Bind(PathBuf),
    /// No /dev/shm mount at all (`none` IPC).
    None,
}

/// The user namespace of a container under `--userns-remap`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserNamespace {
    /// Join this namespace (one made with its network namespace, or another container's);
    /// `None` makes a new one with `mapping`.
    pub join: Option<PathBuf>,
    /// The UID and GID mappings (written to the spec only for a new namespace).
    pub mapping: berth_core::IdMapping,
}

/// Which seccomp filter a container runs under (`--security-opt seccomp=…`).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SeccompMode {
    /// Berth's default profile (Docker's shape).
    #[default]
    Default,
    /// No filter (`seccomp=unconfined`, and always with `--privileged`).
    Unconfined,
    /// A profile given by the user, in OCI (or Docker's) JSON form.
    Custom(Value),
}

/// A `--ulimit name=soft:hard`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ulimit {
    pub name: String,
    pub soft: u64,
    pub hard: u64,
}

/// cgroup limits (zero or `None` means unset).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    pub memory: Option<i64>,
    pub memory_swap: Option<i64>,
    pub memory_reservation: Option<i64>,
    pub nano_cpus: Option<i64>,
    pub cpu_shares: Option<u64>,
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<u64>,
    pub cpuset_cpus: Option<String>,
    pub pids_limit: Option<i64>,
    pub blkio_weight: Option<u16>,
    pub oom_kill_disable: bool,
}

/// A container's configuration, fully resolved (user names looked up, image defaults
/// merged), as the runtime needs it.
#[derive(Debug, Clone, Default)]
pub struct ContainerSpec {
    pub rootfs: PathBuf,
    pub readonly_rootfs: bool,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub hostname: String,
    pub domainname: String,
    pub tty: bool,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub no_new_privileges: bool,
    pub seccomp: SeccompMode,
    pub shm_size: Option<u64>,
    pub sysctls: BTreeMap<String, String>,
    pub ulimits: Vec<Ulimit>,
    pub resources: Resources,
    pub oom_score_adj: Option<i32>,
    pub cgroups_path: String,
    pub network: NamespaceMode,
    pub ipc: NamespaceMode,
    pub pid: NamespaceMode,
    pub uts: NamespaceMode,
    /// A cgroup namespace of the container's own (`--cgroupns=private`, Docker's default on
    /// cgroup v2), so it sees its cgroup as `/`; false: the host's.
    pub cgroup_namespace: bool,
    /// The /dev/shm mount; a mount in `mounts` at /dev/shm replaces it.
    pub dev_shm: DevShm,
    /// Extra mounts (volumes, binds, /etc/hosts, …) as OCI mount objects.
    pub mounts: Vec<Value>,
    /// `--device` mappings (host devices made inside the container and allowed).
    pub devices: Vec<Device>,
    /// `rshared`/`rslave` when a bind asks for shared or slave propagation (Docker's rule).
    pub rootfs_propagation: Option<String>,
    /// `None`: the host's user namespace (no remapping, or `--userns=host`).
    pub user_namespace: Option<UserNamespace>,
}

/// A `--device PATH_ON_HOST[:PATH_IN_CONTAINER[:PERMISSIONS]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub path_on_host: PathBuf,
    pub path_in_container: String,
    pub permissions: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("invalid capability {0:?}")]
    UnknownCapability(String),
    #[error("invalid ulimit type: {0}")]
    UnknownUlimit(String),
    #[error("building the runtime spec: {0}")]
    Spec(String),
    #[error("error gathering device information while adding custom device {0:?}: {1}")]
    Device(String, String),
}

impl SpecError {
    pub fn kind(&self) -> berth_core::ErrorKind {
        match self {
            Self::Spec(_) => berth_core::ErrorKind::Internal,
            _ => berth_core::ErrorKind::InvalidParameter,
        }
    }
}

/// The daemon's own bounding set (bit per capability number), from /proc/self/status.
fn own_bounding_set() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapBnd:"))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
        })
        .unwrap_or(u64::MAX)
}

/// "All capabilities" means all the daemon can grant: a capability outside its own
/// bounding set (CAP_SYS_RESOURCE on a host that withholds it) cannot be given, and
/// asking for it would fail the container's start.
fn grantable(caps: impl Iterator<Item = String>) -> Vec<String> {
    let own = own_bounding_set();
    caps.filter(|c| {
        defaults::ALL_CAPABILITIES
            .iter()
            .position(|k| k == c)
            .is_none_or(|bit| own & (1u64 << bit) != 0)
    })
    .collect()
}

/// Every capability the daemon can grant: what a privileged container or exec gets.
pub fn all_grantable_capabilities() -> Vec<String> {
    grantable(defaults::ALL_CAPABILITIES.iter().map(|c| c.to_string()))
}

/// `chown` → `CAP_CHOWN`, as docker accepts either spelling in any case.
fn normalize_cap(name: &str) -> Result<String, SpecError> {
    let upper = name.trim().to_ascii_uppercase();
    if upper == "ALL" {
        return Ok(upper);
    }
    let cap = if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    };
    if defaults::ALL_CAPABILITIES.contains(&cap.as_str()) {
        Ok(cap)
    } else {
        Err(SpecError::UnknownCapability(name.to_owned()))
    }
}

/// The capability set after `--cap-add`/`--cap-drop`, in Docker's order of application:
/// drops of ALL first, then adds, then individual drops.
pub fn capabilities(c: &ContainerSpec) -> Result<Vec<String>, SpecError> {
    if c.privileged {
        return Ok(grantable(
            defaults::ALL_CAPABILITIES.iter().map(|s| s.to_string()),
        ));
    }
    let add: Vec<String> = c
        .cap_add
        .iter()
        .map(|s| normalize_cap(s))
        .collect::<Result<_, _>>()?;
    let drop: Vec<String> = c
        .cap_drop
        .iter()
        .map(|s| normalize_cap(s))
        .collect::<Result<_, _>>()?;
    let mut caps: Vec<String> = if drop.iter().any(|d| d == "ALL") {
        Vec::new()
    } else {
        defaults::CAPABILITIES
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    if add.iter().any(|a| a == "ALL") {
        caps = grantable(defaults::ALL_CAPABILITIES.iter().map(|s| s.to_string()));
    } else {
        for a in add {
            if !caps.contains(&a) {
                caps.push(a);
            }
        }
    }
    caps.retain(|c| !drop.contains(c));
    Ok(caps)
}

fn rlimit_resource(name: &str) -> Option<(&'static str, Resource)> {
    Some(match name {
        "core" => ("RLIMIT_CORE", Resource::RLIMIT_CORE),
        "cpu" => ("RLIMIT_CPU", Resource::RLIMIT_CPU),
        "data" => ("RLIMIT_DATA", Resource::RLIMIT_DATA),
        "fsize" => ("RLIMIT_FSIZE", Resource::RLIMIT_FSIZE),
        "locks" => ("RLIMIT_LOCKS", Resource::RLIMIT_LOCKS),
        "memlock" => ("RLIMIT_MEMLOCK", Resource::RLIMIT_MEMLOCK),
        "msgqueue" => ("RLIMIT_MSGQUEUE", Resource::RLIMIT_MSGQUEUE),
        "nice" => ("RLIMIT_NICE", Resource::RLIMIT_NICE),
        "nofile" => ("RLIMIT_NOFILE", Resource::RLIMIT_NOFILE),
        "nproc" => ("RLIMIT_NPROC", Resource::RLIMIT_NPROC),
        "rss" => ("RLIMIT_RSS", Resource::RLIMIT_RSS),
        "rtprio" => ("RLIMIT_RTPRIO", Resource::RLIMIT_RTPRIO),
        "rttime" => ("RLIMIT_RTTIME", Resource::RLIMIT_RTTIME),
        "sigpending" => ("RLIMIT_SIGPENDING", Resource::RLIMIT_SIGPENDING),
        "stack" => ("RLIMIT_STACK", Resource::RLIMIT_STACK),
        "as" => ("RLIMIT_AS", Resource::RLIMIT_AS),
        _ => return None,
    })
}

/// Requested ulimits, clamped to the daemon's own hard limits. Without a request the
/// container inherits the daemon's limits (no rlimit entry), so nothing can exceed them.
fn rlimits(c: &ContainerSpec) -> Result<Vec<Value>, SpecError> {
    c.ulimits
        .iter()
        .map(|u| {
            let (typ, res) =
                rlimit_resource(&u.name).ok_or_else(|| SpecError::UnknownUlimit(u.name.clone()))?;
            let (_, ceiling) = rlimit::own_limit(res);
            let (soft, hard) = rlimit::clamp(u.soft, u.hard, ceiling);
            Ok(json!({"type": typ, "soft": soft, "hard": hard}))
        })
        .collect()
}

fn namespaces(c: &ContainerSpec) -> Vec<Value> {
    let mut out = vec![json!({"type": "mount"})];
    match c.user_namespace.as_ref().map(|u| &u.join) {
        Some(Some(path)) => out.push(json!({"type": "user", "path": path})),
        Some(None) => out.push(json!({"type": "user"})),
        None => {}
    }
    for (typ, mode) in [
        ("network", &c.network),
        ("ipc", &c.ipc),
        ("pid", &c.pid),
        ("uts", &c.uts),
    ] {
        match mode {
            NamespaceMode::Private => out.push(json!({"type": typ})),
            NamespaceMode::Join(path) => out.push(json!({"type": typ, "path": path})),
            NamespaceMode::Host => {}
        }
    }
    if c.cgroup_namespace {
        out.push(json!({"type": "cgroup"}));
    }
    out
}

fn default_mounts(c: &ContainerSpec) -> Vec<Value> {
    let shm = c.shm_size.unwrap_or(defaults::SHM_SIZE);
    let sys_opts = if c.privileged {
        json!(["nosuid", "noexec", "nodev"])
    } else {
        json!(["nosuid", "noexec", "nodev", "ro"])
    };
    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": sys_opts}),
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}),
    ];
    match &c.dev_shm {
        DevShm::Tmpfs => mounts.push(json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", format!("size={shm}")]})),
        DevShm::Bind(source) => mounts.push(json!({"destination": "/dev/shm", "type": "bind", "source": source, "options": ["rbind", "rprivate"]})),
        DevShm::None => {}
    }
    mounts
}

fn resources(r: &Resources, extra_devices: &[Value], privileged: bool) -> Value {
    let mut memory = serde_json::Map::new();
    if let Some(m) = r.memory.filter(|m| *m > 0) {
        memory.insert("limit".into(), json!(m));
    }
    if let Some(s) = r.memory_swap.filter(|s| *s != 0) {
        memory.insert("swap".into(), json!(s));
    }
    if let Some(m) = r.memory_reservation.filter(|m| *m > 0) {
        memory.insert("reservation".into(), json!(m));
    }
    if r.oom_kill_disable {
        memory.insert("disableOOMKiller".into(), json!(true));
    }
    let mut cpu = serde_json::Map::new();
    if let Some(shares) = r.cpu_shares.filter(|s| *s > 0) {
        cpu.insert("shares".into(), json!(shares));
    }
    match r.nano_cpus.filter(|n| *n > 0) {
        // --cpus: a quota over Docker's fixed 100ms period.
        Some(nano) => {
            cpu.insert("period".into(), json!(100_000u64));
            cpu.insert("quota".into(), json!(nano / 10_000));
        }
        None => {
            if let Some(p) = r.cpu_period.filter(|p| *p > 0) {
                cpu.insert("period".into(), json!(p));
            }
            if let Some(q) = r.cpu_quota.filter(|q| *q != 0) {
                cpu.insert("quota".into(), json!(q));
            }
        }
    }
    if let Some(cpus) = r.cpuset_cpus.as_ref().filter(|c| !c.is_empty()) {
        cpu.insert("cpus".into(), json!(cpus));
    }
    let mut out = json!({
        // Deny every device, then allow the ones a container gets by default.
        "devices": [
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 7, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 8, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 9, "access": "rwm"},
            {"allow": true, "type": "c", "major": 5, "minor": 0, "access": "rwm"},
            {"allow": true, "type": "c", "major": 5, "minor": 1, "access": "rwm"},
            {"allow": true, "type": "c", "major": 5, "minor": 2, "access": "rwm"},
            {"allow": true, "type": "c", "major": 136, "access": "rwm"},
            {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwm"},
        ]
    });
    if privileged {
        out["devices"] = json!([{"allow": true, "access": "rwm"}]);
    } else if let Some(list) = out["devices"].as_array_mut() {
        list.extend(extra_devices.iter().cloned());
    }
    if !memory.is_empty() {
        out["memory"] = Value::Object(memory);
    }
    if !cpu.is_empty() {
        out["cpu"] = Value::Object(cpu);
    }
    if let Some(p) = r.pids_limit.filter(|p| *p != 0) {
        out["pids"] = json!({"limit": p});
    }
    if let Some(w) = r.blkio_weight.filter(|w| *w > 0) {
        out["blockIO"] = json!({"weight": w});
    }
    out
}

fn id_mappings(maps: &[berth_core::IdMap]) -> Value {
    maps.iter()
        .map(|m| json!({"containerID": m.container_id, "hostID": m.host_id, "size": m.size}))
        .collect()
}

/// The OCI spec for `c`, with Docker's defaults.
pub fn build_spec(c: &ContainerSpec) -> Result<Spec, SpecError> {
    let caps = capabilities(c)?;
    let mut process = json!({
        "terminal": c.tty,
        "user": {"uid": c.uid, "gid": c.gid, "additionalGids": c.additional_gids},
        "args": c.args,
        "env": c.env,
        "cwd": if c.cwd.is_empty() { "/" } else { c.cwd.as_str() },
        "capabilities": {
            "bounding": caps, "effective": caps, "permitted": caps,
            "inheritable": [], "ambient": []
        },
        "rlimits": rlimits(c)?,
    });
    // Only when asked: youki loads the seccomp filter before dropping capabilities only if
    // the field is absent; an explicit `false` would make it load afterwards, without
    // CAP_SYS_ADMIN or no_new_privs, which the kernel refuses.
    if c.no_new_privileges {
        process["noNewPrivileges"] = json!(true);
    }
    if let Some(adj) = c.oom_score_adj {
        process["oomScoreAdj"] = json!(adj);
    }
    // A user mount replaces the default one at the same place (e.g. a volume on /dev/shm).
    let mut mounts: Vec<Value> = default_mounts(c)
        .into_iter()
        .filter(|d| {
            !c.mounts
                .iter()
                .any(|m| m.get("destination") == d.get("destination"))
        })
        .collect();
    mounts.extend(c.mounts.iter().cloned());
    let (devices, device_rules) = crate::devices::resolve(c)?;
    let mut linux = json!({
        "namespaces": namespaces(c),
        "devices": devices,
        "resources": resources(&c.resources, &device_rules, c.privileged),
        "cgroupsPath": c.cgroups_path,
        "sysctl": c.sysctls,
    });
    if let Some(p) = &c.rootfs_propagation {
        linux["rootfsPropagation"] = json!(p);
    }
    if let Some(userns) = c.user_namespace.as_ref().filter(|u| u.join.is_none()) {
        linux["uidMappings"] = id_mappings(&userns.mapping.uids);
        linux["gidMappings"] = id_mappings(&userns.mapping.gids);
    }
    if !c.privileged {
        linux["maskedPaths"] = json!(defaults::MASKED_PATHS);
        linux["readonlyPaths"] = json!(defaults::READONLY_PATHS);
        match &c.seccomp {
            SeccompMode::Default => linux["seccomp"] = crate::seccomp::default_profile(&caps),
            SeccompMode::Custom(profile) => linux["seccomp"] = profile.clone(),
            SeccompMode::Unconfined => {}
        }
    }
    let spec = json!({
        "ociVersion": "1.0.2",
        "process": process,
        "root": {"path": c.rootfs, "readonly": c.readonly_rootfs},
        "hostname": c.hostname,
        "domainname": c.domainname,
        "mounts": mounts,
        "linux": linux,
    });
    serde_json::from_value(spec).map_err(|e| SpecError::Spec(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ContainerSpec {
        ContainerSpec {
            rootfs: "/rootfs".into(),
            args: vec!["sh".into()],
            env: vec!["PATH=/bin".into()],
            hostname: "abc".into(),
            cgroups_path: "/berth/abc".into(),
            ..Default::default()
        }
    }

    #[test]
    fn default_container_gets_dockers_14_capabilities_and_masks() {
        let spec = build_spec(&base()).unwrap();
        let process = spec.process().as_ref().unwrap();
        let caps = process.capabilities().as_ref().unwrap();
        assert_eq!(caps.bounding().as_ref().unwrap().len(), 14);
        assert_eq!(caps.effective().as_ref().unwrap().len(), 14);
        assert!(caps.inheritable().as_ref().unwrap().is_empty());
        assert!(caps.ambient().as_ref().unwrap().is_empty());
        let linux = spec.linux().as_ref().unwrap();
        assert!(linux
            .masked_paths()
            .as_ref()
            .unwrap()
            .contains(&"/proc/kcore".to_owned()));
        assert!(linux
            .readonly_paths()
            .as_ref()
            .unwrap()
            .contains(&"/proc/sys".to_owned()));
        let ns: Vec<String> = linux
            .namespaces()
            .as_ref()
            .unwrap()
            .iter()
            .map(|n| format!("{:?}", n.typ()))
            .collect();
        assert_eq!(ns.len(), 5, "{ns:?}");
        let shm = spec
            .mounts()
            .as_ref()
            .unwrap()
            .iter()
            .find(|m| m.destination().to_str() == Some("/dev/shm"))
            .unwrap();
        assert!(shm
            .options()
            .as_ref()
            .unwrap()
            .contains(&format!("size={}", defaults::SHM_SIZE)));
    }

    #[test]
    fn cap_add_and_drop_follow_docker() {
        let mut c = base();
        c.cap_drop = vec!["ALL".into()];
        c.cap_add = vec!["chown".into(), "CAP_NET_ADMIN".into()];
        assert_eq!(capabilities(&c).unwrap(), ["CAP_CHOWN", "CAP_NET_ADMIN"]);
        c.cap_drop = vec!["net_raw".into()];
        c.cap_add = vec![];
        let caps = capabilities(&c).unwrap();
        assert_eq!(caps.len(), 13);
        assert!(!caps.contains(&"CAP_NET_RAW".to_owned()));
        c.cap_add = vec!["NOT_A_CAP".into()];
        assert!(matches!(
            capabilities(&c),
            Err(SpecError::UnknownCapability(_))
        ));
    }

    #[test]
    fn privileged_gets_every_capability_and_no_masks() {
        let mut c = base();
        c.privileged = true;
        let spec = build_spec(&c).unwrap();
        let linux = spec.linux().as_ref().unwrap();
        assert!(linux.masked_paths().is_none());
        assert!(
            linux.seccomp().is_none(),
            "privileged containers run unconfined"
        );
        let caps = spec
            .process()
            .as_ref()
            .unwrap()
            .capabilities()
            .as_ref()
            .unwrap();
        // Every capability the daemon itself holds, and none it lacks.
        let own = own_bounding_set();
        let expected = (0..defaults::ALL_CAPABILITIES.len())
            .filter(|bit| own & (1u64 << bit) != 0)
            .count();
        assert_eq!(caps.bounding().as_ref().unwrap().len(), expected);
        assert!(expected > 30);
    }

    #[test]
    fn ulimits_never_exceed_the_daemons_hard_limit() {
        let mut c = base();
        c.ulimits = vec![Ulimit {
            name: "nofile".into(),
            soft: u64::MAX / 2,
            hard: u64::MAX / 2,
        }];
        let spec = build_spec(&c).unwrap();
        let rl = &spec.process().as_ref().unwrap().rlimits().as_ref().unwrap()[0];
        let (_, hard) = rlimit::own_limit(Resource::RLIMIT_NOFILE);
        assert_eq!(rl.hard(), hard);
        assert!(rl.soft() <= rl.hard());
        c.ulimits = vec![Ulimit {
            name: "bogus".into(),
            soft: 1,
            hard: 1,
        }];
        assert!(matches!(build_spec(&c), Err(SpecError::UnknownUlimit(_))));
    }

    #[test]
    fn cpus_become_a_quota_over_100ms_and_limits_apply() {
        let mut c = base();
        c.resources = Resources {
            nano_cpus: Some(500_000_000),
            memory: Some(16 << 20),
            pids_limit: Some(20),
            ..Default::default()
        };
        let spec = build_spec(&c).unwrap();
        let r = spec.linux().as_ref().unwrap().resources().as_ref().unwrap();
        let cpu = r.cpu().as_ref().unwrap();
        assert_eq!(cpu.quota(), Some(50_000));
        assert_eq!(cpu.period(), Some(100_000));
        assert_eq!(r.memory().as_ref().unwrap().limit(), Some(16 << 20));
        assert_eq!(r.pids().as_ref().unwrap().limit(), 20);
    }

    fn dev_shm_mount(c: &ContainerSpec) -> Option<oci_spec::runtime::Mount> {
        build_spec(c)
            .unwrap()
            .mounts()
            .as_ref()
            .unwrap()
            .iter()
            .find(|m| m.destination().to_str() == Some("/dev/shm"))
            .cloned()
    }

    #[test]
    fn dev_shm_is_a_tmpfs_a_bind_or_absent() {
        let mut c = base();
        c.shm_size = Some(1 << 20);
        let tmpfs = dev_shm_mount(&c).unwrap();
        assert_eq!(tmpfs.typ().as_deref(), Some("tmpfs"));
        let options = tmpfs.options().clone().unwrap();
        assert!(options.contains(&"size=1048576".to_owned()));
        let shm = std::path::Path::new("/var/lib/berth/containers/x/mounts/shm");
        c.dev_shm = DevShm::Bind(shm.into());
        let bind = dev_shm_mount(&c).unwrap();
        assert_eq!(bind.typ().as_deref(), Some("bind"));
        assert_eq!(bind.source().as_deref(), Some(shm));
        c.dev_shm = DevShm::None;
        assert!(dev_shm_mount(&c).is_none());
    }

    #[test]
    fn host_and_joined_namespaces() {
        let mut c = base();
        c.network = NamespaceMode::Host;
        c.ipc = NamespaceMode::Join("/proc/1/ns/ipc".into());
        let spec = build_spec(&c).unwrap();
        let ns = spec
            .linux()
            .as_ref()
            .unwrap()
            .namespaces()
            .as_ref()
            .unwrap();
        assert_eq!(ns.len(), 4);
        let ipc = ns
            .iter()
            .find(|n| format!("{:?}", n.typ()) == "Ipc")
            .unwrap();
        assert_eq!(
            ipc.path().as_ref().unwrap().to_str(),
            Some("/proc/1/ns/ipc")
        );
    }
}

#[cfg(test)]
mod user_namespace_tests {
    use super::*;

    fn remapped(join: Option<PathBuf>) -> ContainerSpec {
        let range = vec![berth_core::IdMap {
            container_id: 0,
            host_id: 100_000,
            size: 65536,
        }];
        ContainerSpec {
            rootfs: "/r".into(),
            user_namespace: Some(UserNamespace {
                join,
                mapping: berth_core::IdMapping {
                    uids: range.clone(),
                    gids: range,
                },
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_new_user_namespace_carries_the_mappings_and_a_joined_one_only_its_path() {
        let spec = build_spec(&remapped(None)).unwrap();
        let linux = spec.linux().as_ref().unwrap();
        let user = linux
            .namespaces()
            .as_ref()
            .unwrap()
            .iter()
            .find(|n| format!("{:?}", n.typ()) == "User")
            .unwrap();
        assert!(user.path().is_none());
        let uids = linux.uid_mappings().as_ref().unwrap();
        assert_eq!(
            (uids[0].container_id(), uids[0].host_id(), uids[0].size()),
            (0, 100_000, 65536)
        );
        assert_eq!(linux.gid_mappings().as_ref().unwrap().len(), 1);

        let spec = build_spec(&remapped(Some("/run/x/userns".into()))).unwrap();
        let linux = spec.linux().as_ref().unwrap();
        let user = linux
            .namespaces()
            .as_ref()
            .unwrap()
            .iter()
            .find(|n| format!("{:?}", n.typ()) == "User")
            .unwrap();
        assert_eq!(
            user.path().as_ref().unwrap().to_str(),
            Some("/run/x/userns")
        );
        assert!(linux.uid_mappings().is_none());

        let host = build_spec(&ContainerSpec::default()).unwrap();
        assert!(!host
            .linux()
            .as_ref()
            .unwrap()
            .namespaces()
            .as_ref()
            .unwrap()
            .iter()
            .any(|n| format!("{:?}", n.typ()) == "User"));
    }
}

#[cfg(test)]
mod seccomp_mode_tests {
    use super::*;

    #[test]
    fn unconfined_has_no_filter_and_custom_is_used_as_given() {
        let mut c = ContainerSpec {
            rootfs: "/r".into(),
            seccomp: SeccompMode::Unconfined,
            ..Default::default()
        };
        assert!(build_spec(&c)
            .unwrap()
            .linux()
            .as_ref()
            .unwrap()
            .seccomp()
            .is_none());
        c.seccomp = SeccompMode::Custom(json!({"defaultAction": "SCMP_ACT_ALLOW"}));
        let spec = build_spec(&c).unwrap();
        let sc = spec.linux().as_ref().unwrap().seccomp().as_ref().unwrap();
        assert_eq!(format!("{:?}", sc.default_action()), "ScmpActAllow");
    }
}
