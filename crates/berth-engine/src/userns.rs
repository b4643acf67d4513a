//! `--userns-remap`: the daemon-wide remapped root, as dockerd sets it up.
//!
//! The option names a user (and group) whose subordinate ranges in /etc/subuid and
//! /etc/subgid become every container's UID and GID mappings (`default` creates and uses
//! `dockremap`, moby's `parseRemappedRoot` + `LoadIdentityMapping`). The daemon then keeps
//! its state under `<data-root>/<uid>.<gid>` (the remapped root's host IDs), so layers
//! unpacked with shifted owners never mix with unshifted ones, and makes the directories a
//! container must reach traversable for that root (`setupDaemonRoot`). The per-container
//! pieces (create-time checks, the spec's user namespace) are here too.

use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use berth_api::models::HostConfig;
use berth_core::{ErrorKind, IdMap, IdMapping};

use crate::error::EngineError;

/// `--userns-remap=default` means this user, created when missing.
const DEFAULT_SPECIFIER: &str = "default";
const DEFAULT_REMAP_USER: &str = "dockremap";
/// The range moby gives `dockremap`: the first free 65536 IDs from 100000 up.
const RANGE_LEN: u64 = 65536;
const RANGE_START: u64 = 100_000;

/// The resolved remapped root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemappedRoot {
    pub user: String,
    pub group: String,
    pub mapping: IdMapping,
}

fn failed(msg: String) -> EngineError {
    EngineError::Other(ErrorKind::InvalidParameter, msg)
}

/// Resolves `--userns-remap` (None when empty, or when it names root itself, which moby
/// turns into "user namespaces are OFF").
pub fn resolve(spec: &str) -> Result<Option<RemappedRoot>, EngineError> {
    if spec.is_empty() {
        return Ok(None);
    }
    let (user, group) = parse_remapped_root(spec).map_err(failed)?;
    if user == "root" {
        tracing::warn!(
            "User namespaces: root cannot be remapped with itself; user namespaces are OFF"
        );
        return Ok(None);
    }
    tracing::info!("User namespaces: ID ranges will be mapped to subuid/subgid ranges of: {user}");
    let mapping =
        load_mapping(&user).map_err(|e| failed(format!("error creating ID mappings: {e}")))?;
    Ok(Some(RemappedRoot {
        user,
        group,
        mapping,
    }))
}

/// A `passwd` or `group` entry: name, ID, and (passwd) primary group.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    name: String,
    id: u32,
    gid: u32,
}

fn parse_entries(text: &str, passwd: bool) -> Vec<Entry> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            let id = f.get(2)?.parse().ok()?;
            let gid = if passwd { f.get(3)?.parse().ok()? } else { id };
            Some(Entry {
                name: f[0].to_owned(),
                id,
                gid,
            })
        })
        .collect()
}

/// Looks `key` (a name, or an ID when numeric) up in /etc/passwd or /etc/group, then with
/// `getent` (other NSS sources), as moby's `usergroup` lookups do; the error is getent's.
fn lookup(database: &str, key: &str) -> Result<Entry, String> {
    let passwd = database == "passwd";
    let file = format!("/etc/{database}");
    let by_id: Option<u32> = key.parse().ok();
    let matches = |e: &Entry| match by_id {
        Some(id) => e.id == id,
        None => e.name == key,
    };
    if let Ok(text) = std::fs::read_to_string(&file) {
        if let Some(e) = parse_entries(&text, passwd).into_iter().find(matches) {
            return Ok(e);
        }
    }
    let out = Command::new("getent")
        .args([database, key])
        .output()
        .map_err(|e| format!("unable to find getent command: {e}"))?;
    match out.status.code() {
        Some(0) => parse_entries(&String::from_utf8_lossy(&out.stdout), passwd)
            .into_iter()
            .next()
            .ok_or_else(|| {
                let what = if passwd { "passwd" } else { "groups" };
                format!("getent failed to find {what} entry for {key:?}")
            }),
        Some(1) => Err("getent reported invalid parameters/database unknown".into()),
        Some(2) => Err(format!(
            "getent unable to find entry {key:?} in {database} database"
        )),
        Some(3) => Err("getent database doesn't support enumeration".into()),
        _ => Err(format!("getent {database} {key}: {}", out.status)),
    }
}

/// Go's `strconv.ParseInt(s, 10, 32)` success: what moby takes for a numeric ID.
fn numeric(s: &str) -> Option<i32> {
    s.parse().ok()
}

/// moby's `parseRemappedRoot`: `user`, `user:group`, `uid`, `uid:gid`, or `default`;
/// returns the user and group names.
fn parse_remapped_root(spec: &str) -> Result<(String, String), String> {
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.len() > 2 {
        return Err(format!(
            "Invalid user/group specification in --userns-remap: {spec:?}"
        ));
    }
    let mut group = String::new();
    let user = if let Some(uid) = numeric(parts[0]) {
        let u = lookup("passwd", &uid.to_string())
            .map_err(|e| format!("Uid {uid} has no entry in /etc/passwd: {e}"))?;
        if parts.len() == 1 {
            let g = lookup("group", &uid.to_string())
                .map_err(|e| format!("Gid {uid} has no entry in /etc/group: {e}"))?;
            group = g.name;
        }
        u.name
    } else {
        let name = if parts[0] == DEFAULT_SPECIFIER {
            DEFAULT_REMAP_USER
        } else {
            parts[0]
        };
        let u = match lookup("passwd", name) {
            Ok(u) => u,
            Err(e) if parts[0] != DEFAULT_SPECIFIER => {
                return Err(format!("Error during uid lookup for {name:?}: {e}"))
            }
            Err(_) => {
                add_namespace_ranges_user(DEFAULT_REMAP_USER).map_err(|e| {
                    format!("Error during {DEFAULT_REMAP_USER:?} user creation: {e}")
                })?;
                return Ok((DEFAULT_REMAP_USER.into(), DEFAULT_REMAP_USER.into()));
            }
        };
        if parts.len() == 1 {
            let g = lookup("group", name)
                .map_err(|e| format!("Error during gid lookup for {name:?}: {e}"))?;
            group = g.name;
        }
        u.name
    };
    if let Some(g) = parts.get(1) {
        group = match numeric(g) {
            Some(gid) => {
                lookup("group", &gid.to_string())
                    // moby's message names /etc/passwd here.
                    .map_err(|e| format!("Gid {gid} has no entry in /etc/passwd: {e}"))?
                    .name
            }
            None => {
                lookup("group", g)
                    .map_err(|e| format!("Error during groupname lookup for {g:?}: {e}"))?;
                (*g).to_owned()
            }
        };
    }
    Ok((user, group))
}

/// One line of /etc/subuid or /etc/subgid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SubId<'a> {
    name: &'a str,
    start: u64,
    count: u64,
}

fn parse_subids<'a>(text: &'a str, file: &str) -> Result<Vec<SubId<'a>>, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let bad = || {
                format!("Cannot parse subuid/gid information: Format not correct for {file} file")
            };
            let f: Vec<&str> = l.split(':').collect();
            if f.len() != 3 || f[0].is_empty() {
                return Err(bad());
            }
            Ok(SubId {
                name: f[0],
                start: f[1].parse().map_err(|_| bad())?,
                count: f[2].parse().map_err(|_| bad())?,
            })
        })
        .collect()
}

fn read_subids(file: &str) -> Result<String, String> {
    match std::fs::read_to_string(file) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(format!("open {file}: {e}")),
    }
}

/// The ranges of `user` (by name or by UID) in one subordinate ID file, as consecutive
/// mappings from container ID 0 up (moby's `lookupSubRangesFile`).
fn ranges_for(text: &str, file: &str, user: &Entry) -> Result<Vec<IdMap>, String> {
    let uid = user.id.to_string();
    let mut maps = Vec::new();
    let mut next: u64 = 0;
    for s in parse_subids(text, file)? {
        if s.name != user.name && s.name != uid {
            continue;
        }
        let fits = |v: u64| u32::try_from(v).ok();
        let (Some(container_id), Some(host_id), Some(size)) =
            (fits(next), fits(s.start), fits(s.count))
        else {
            return Err(format!(
                "subordinate range {}:{}:{} in {file} is out of bounds",
                s.name, s.start, s.count
            ));
        };
        maps.push(IdMap {
            container_id,
            host_id,
            size,
        });
        next += s.count;
    }
    if maps.is_empty() {
        // moby says "subuid" for both files.
        return Err(format!("no subuid ranges found for user {:?}", user.name));
    }
    Ok(maps)
}

fn load_mapping(user: &str) -> Result<IdMapping, String> {
    let entry = lookup("passwd", user)
        .map_err(|e| format!("could not get user for username {user}: {e}"))?;
    let uids = ranges_for(&read_subids("/etc/subuid")?, "/etc/subuid", &entry)?;
    let gids = ranges_for(&read_subids("/etc/subgid")?, "/etc/subgid", &entry)?;
    Ok(IdMapping { uids, gids })
}

/// moby's `AddNamespaceRangesUser`: a system user (and group) to hold the ranges, and a
/// free 65536-ID range in each subordinate file unless the distribution's tools made one.
fn add_namespace_ranges_user(name: &str) -> Result<(), String> {
    let found = |bin: &str| {
        std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(bin).is_file()))
            .unwrap_or(false)
    };
    let (cmd, args): (&str, Vec<&str>) = if found("adduser") {
        (
            "adduser",
            vec![
                "--system",
                "--shell",
                "/bin/false",
                "--no-create-home",
                "--disabled-login",
                "--disabled-password",
                "--group",
                name,
            ],
        )
    } else if found("useradd") {
        ("useradd", vec!["-r", "-s", "/bin/false", name])
    } else {
        return Err(format!(
            "error adding user {name:?}: cannot add user; no useradd/adduser binary found"
        ));
    };
    run(cmd, &args)
        .map_err(|e| format!("error adding user {name:?}: failed to add user with error: {e}"))?;
    for (file, flag) in [("/etc/subuid", "-v"), ("/etc/subgid", "-w")] {
        let text =
            read_subids(file).map_err(|e| format!("couldn't create subordinate ID ranges: {e}"))?;
        let all = parse_subids(&text, file)
            .map_err(|e| format!("couldn't create subordinate ID ranges: {e}"))?;
        if all.iter().any(|s| s.name == name) {
            continue;
        }
        let start = next_range_start(&all);
        let range = format!("{start}-{}", start + RANGE_LEN - 1);
        run("usermod", &[flag, &range, name]).map_err(|e| {
            format!("couldn't create subordinate ID ranges: unable to add subordinate range to user: {name:?}; {e}")
        })?;
    }
    Ok(())
}

fn run(cmd: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}; output: {:?}",
            out.status,
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// moby's `findNextRangeStart`: from 100000 up, past every range (of any user) the new
/// 65536 IDs would overlap, in start order.
fn next_range_start(ranges: &[SubId<'_>]) -> u64 {
    let mut sorted: Vec<&SubId<'_>> = ranges.iter().collect();
    sorted.sort_by_key(|s| s.start);
    let mut start = RANGE_START;
    for r in sorted {
        let (low, high) = (start, start + RANGE_LEN);
        let end = r.start + r.count;
        if (low >= r.start && low <= end) || (high <= end && high >= r.start) {
            start = end;
        }
    }
    start
}

/// moby's `setupDaemonRoot` with a remapped root: `base` and `<base>/<uid>.<gid>` become
/// 0710, owned by root and the remapped root's group (so its processes can traverse them),
/// and every directory above must let that root through. Returns the new data root.
pub fn setup_data_root(base: &Path, mapping: &IdMapping) -> Result<PathBuf, EngineError> {
    let (uid, gid) = mapping.root_pair();
    let sub = base.join(format!("{uid}.{gid}"));
    for dir in [base, sub.as_path()] {
        std::fs::create_dir_all(dir).map_err(|e| EngineError::io("create directory", dir, e))?;
        std::os::unix::fs::chown(dir, Some(0), Some(gid))
            .map_err(|e| EngineError::io("chown", dir, e))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o710))
            .map_err(|e| EngineError::io("chmod", dir, e))?;
    }
    let mut dir = base.to_path_buf();
    loop {
        if !can_access(&dir, uid, gid) {
            return Err(failed(format!(
                "a subdirectory in your graphroot path ({}) restricts access to the remapped root uid/gid; please fix by allowing 'o+x' permissions on existing directories",
                sub.display()
            )));
        }
        match dir.parent() {
            Some(p) if p != Path::new("/") && !p.as_os_str().is_empty() => dir = p.to_path_buf(),
            _ => break,
        }
    }
    Ok(sub)
}

/// moby's `canAccess`: the execute bit for others, or for the owner or group the remapped
/// root is.
fn can_access(path: &Path, uid: u32, gid: u32) -> bool {
    let Ok(m) = std::fs::metadata(path) else {
        return false;
    };
    let perm = m.mode() & 0o777;
    perm & 0o001 != 0
        || (m.uid() == uid && perm & 0o100 != 0)
        || (m.gid() == gid && perm & 0o010 != 0)
}

/// Whether a container with this HostConfig runs in a user namespace of the daemon's
/// remapping (moby's `UsernsMode.IsPrivate` with a remapped root).
pub fn is_remapped(mapping: &IdMapping, hc: &HostConfig) -> bool {
    !mapping.is_empty() && hc.userns_mode.as_deref() != Some("host")
}

/// moby's create-time checks of options that user namespaces rule out.
pub fn check_host_config(mapping: &IdMapping, hc: &HostConfig) -> Result<(), String> {
    if !is_remapped(mapping, hc) {
        return Ok(());
    }
    if hc.privileged == Some(true) {
        return Err("privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode".into());
    }
    if hc.network_mode.as_deref() == Some("host") {
        return Err(
            "cannot share the host's network namespace when user namespaces are enabled".into(),
        );
    }
    if hc.pid_mode.as_deref() == Some("host") {
        return Err("cannot share the host PID namespace when user namespaces are enabled".into());
    }
    Ok(())
}

/// A directory of the daemon's that a remapped container's root must pass through (a
/// container's data and exec directories): 0710, group of the remapped root, as moby makes
/// them. A no-op without remapping.
pub fn make_traversable(dir: &Path, mapping: &IdMapping) -> io::Result<()> {
    if mapping.is_empty() {
        return Ok(());
    }
    let (_, gid) = mapping.root_pair();
    std::os::unix::fs::chown(dir, Some(0), Some(gid))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o710))
}

/// Gives `path` to the remapped root (a file or directory the container owns: its /etc
/// files, a new volume's data). A no-op without remapping.
pub fn give_to_root(path: &Path, mapping: &IdMapping) -> io::Result<()> {
    if mapping.is_empty() {
        return Ok(());
    }
    let (uid, gid) = mapping.root_pair();
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
}

/// What a start of a remapped container needs before the runtime runs: its exec
/// directory (where its rootfs is mounted) and a shareable /dev/shm of its own reachable
/// and owned by the remapped root.
pub(crate) fn prepare_start(
    mapping: &IdMapping,
    paths: &crate::containers::ContainerPaths,
    dev_shm: &berth_runtime::DevShm,
) -> io::Result<()> {
    if mapping.is_empty() {
        return Ok(());
    }
    make_traversable(&paths.exec, mapping)?;
    if let berth_runtime::DevShm::Bind(shm) = dev_shm {
        if shm.starts_with(&paths.data) {
            if let Some(parent) = shm.parent().filter(|p| *p != paths.data) {
                make_traversable(parent, mapping)?;
            }
            give_to_root(shm, mapping)?;
        }
    }
    Ok(())
}

/// The container's /etc/hostname, hosts and resolv.conf belong to its root, so root
/// inside can edit them as it can without remapping.
pub(crate) fn give_etc_files(
    mapping: &IdMapping,
    paths: &crate::containers::ContainerPaths,
) -> io::Result<()> {
    for f in [paths.hostname(), paths.hosts(), paths.resolv_conf()] {
        give_to_root(&f, mapping)?;
    }
    Ok(())
}

/// The maps in `/proc/<pid>/uid_map` form.
pub fn proc_maps(mapping: &IdMapping) -> berth_net::UsernsMaps {
    let lines = |maps: &[IdMap]| {
        maps.iter()
            .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size))
            .collect::<String>()
    };
    berth_net::UsernsMaps {
        uid_map: lines(&mapping.uids),
        gid_map: lines(&mapping.gids),
    }
}

/// Which user namespace a container runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsernsPlan {
    /// The host's: no remapping, `--userns=host`, or a donor that runs in the host's.
    Host,
    /// One of its own, made at start and kept at this path (see [`own_userns_file`]).
    Own(PathBuf),
    /// A `container:` donor's (its network, IPC or PID namespace can only be joined from
    /// inside the user namespace that owns it, as moby's `WithNamespaces` joins it).
    Join(PathBuf),
}

impl UsernsPlan {
    /// The namespace file to join, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Host => None,
            Self::Own(p) | Self::Join(p) => Some(p),
        }
    }

    /// The spec's user namespace.
    pub fn spec(&self, mapping: &IdMapping) -> Option<berth_runtime::UserNamespace> {
        self.path().map(|p| berth_runtime::UserNamespace {
            join: Some(p.to_path_buf()),
            mapping: mapping.clone(),
        })
    }
}

/// Where a container's own user namespace is kept while it runs.
pub fn own_userns_file(paths: &crate::containers::ContainerPaths) -> PathBuf {
    paths.exec.join("userns")
}

/// Whether the process `pid` lives in a user namespace other than the daemon's.
fn in_other_userns(pid: i64) -> bool {
    let ino = |p: &str| std::fs::metadata(p).map(|m| m.ino()).ok();
    match (
        ino(&format!("/proc/{pid}/ns/user")),
        ino("/proc/self/ns/user"),
    ) {
        (Some(theirs), Some(ours)) => theirs != ours,
        _ => false,
    }
}

/// The user namespace of a container with this HostConfig. `donor_pid` resolves a
/// `container:` target to its running process.
pub fn plan(
    mapping: &IdMapping,
    hc: &HostConfig,
    paths: &crate::containers::ContainerPaths,
    donor_pid: &dyn Fn(&str) -> Option<i64>,
) -> UsernsPlan {
    if !is_remapped(mapping, hc) {
        return UsernsPlan::Host;
    }
    for mode in [&hc.network_mode, &hc.ipc_mode, &hc.pid_mode] {
        let Some(target) = mode.as_deref().and_then(|m| m.strip_prefix("container:")) else {
            continue;
        };
        // A donor that is not running fails the start where its namespace is joined.
        let Some(pid) = donor_pid(target) else {
            continue;
        };
        return if in_other_userns(pid) {
            UsernsPlan::Join(format!("/proc/{pid}/ns/user").into())
        } else {
            UsernsPlan::Host
        };
    }
    UsernsPlan::Own(own_userns_file(paths))
}

/// [`plan`] for container `c` of `engine`.
pub fn plan_for(engine: &crate::Engine, c: &crate::containers::Container) -> UsernsPlan {
    let donor_pid = |target: &str| {
        let r = engine.containers.get(target).ok()?.snapshot();
        (r.state.running() && r.state.pid > 0).then_some(r.state.pid)
    };
    let rec = c.snapshot();
    plan(
        &engine.containers.settings().id_mapping,
        &rec.host_config,
        &c.paths,
        &donor_pid,
    )
}

/// Makes the container's own user namespace, when its plan has one (before its network
/// namespace, which that user namespace owns).
pub(crate) fn create_own(plan: &UsernsPlan, mapping: &IdMapping) -> Result<(), EngineError> {
    if let UsernsPlan::Own(path) = plan {
        let _ = berth_net::netns_remove(path);
        berth_net::userns_create(path, &proc_maps(mapping))
            .map_err(|e| EngineError::Other(ErrorKind::Internal, e.to_string()))?;
    }
    Ok(())
}

/// An exec into a container in a user namespace runs as root until the shim has entered
/// that namespace (libcontainer's exec does not), then as its real user, which travels in
/// `berth_shim::userns::EXEC_USER_ENV` (see there).
pub(crate) fn defer_exec_user(process: &mut serde_json::Value) {
    let user = &process["user"];
    let id = |v: &serde_json::Value| v.as_u64().unwrap_or(0);
    let groups: Vec<String> = user["additionalGids"]
        .as_array()
        .map(|a| a.iter().map(|g| id(g).to_string()).collect())
        .unwrap_or_default();
    let value = format!(
        "{}={}:{}:{}",
        berth_shim::userns::EXEC_USER_ENV,
        id(&user["uid"]),
        id(&user["gid"]),
        groups.join(",")
    );
    if let Some(env) = process["env"].as_array_mut() {
        env.push(serde_json::Value::String(value));
    } else {
        process["env"] = serde_json::json!([value]);
    }
    process["user"] = serde_json::json!({"uid": 0, "gid": 0});
}

/// Drops a container's own user namespace file (at exit, a failed start, removal).
pub(crate) fn remove_own(paths: &crate::containers::ContainerPaths) {
    let path = own_userns_file(paths);
    if path.exists() {
        if let Err(e) = berth_net::netns_remove(&path) {
            tracing::warn!(path = %path.display(), error = %e, "removing a user namespace");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, id: u32) -> Entry {
        Entry {
            name: name.into(),
            id,
            gid: id,
        }
    }

    #[test]
    fn subordinate_ranges_become_consecutive_mappings() {
        let text = "other:100000:65536\nremap:200000:1000\n\n1234:500000:10\nremap:300000:65536\n";
        let maps = ranges_for(text, "/etc/subuid", &user("remap", 1234)).unwrap();
        assert_eq!(
            maps,
            [
                IdMap {
                    container_id: 0,
                    host_id: 200_000,
                    size: 1000
                },
                IdMap {
                    container_id: 1000,
                    host_id: 500_000,
                    size: 10
                },
                IdMap {
                    container_id: 1010,
                    host_id: 300_000,
                    size: 65536
                },
            ]
        );
        assert_eq!(
            ranges_for(text, "/etc/subgid", &user("nobody-here", 7)).unwrap_err(),
            "no subuid ranges found for user \"nobody-here\""
        );
        assert!(ranges_for("bad line\n", "/etc/subuid", &user("x", 1))
            .unwrap_err()
            .contains("Format not correct for /etc/subuid file"));
    }

    #[test]
    fn the_next_free_range_skips_every_overlapping_one() {
        let subs = |v: &[(u64, u64)]| -> Vec<SubId<'static>> {
            v.iter()
                .map(|&(start, count)| SubId {
                    name: "u",
                    start,
                    count,
                })
                .collect()
        };
        assert_eq!(next_range_start(&[]), 100_000);
        assert_eq!(
            next_range_start(&subs(&[(165_536, 65536), (100_000, 65536)])),
            231_072
        );
        // A range far above leaves the default start free.
        assert_eq!(next_range_start(&subs(&[(1_000_000, 65536)])), 100_000);
    }

    #[test]
    fn passwd_and_group_lines_parse() {
        let p = parse_entries(
            "root:x:0:0:root:/root:/bin/bash\n# c\nu:x:1000:50::/h:/bin/sh\n",
            true,
        );
        assert_eq!(
            p[1],
            Entry {
                name: "u".into(),
                id: 1000,
                gid: 50
            }
        );
        let g = parse_entries("wheel:x:10:a,b\n", false);
        assert_eq!(g[0].id, 10);
    }

    #[test]
    fn specs_parse_as_mobys() {
        assert_eq!(
            parse_remapped_root("a:b:c").unwrap_err(),
            "Invalid user/group specification in --userns-remap: \"a:b:c\""
        );
        assert_eq!(
            parse_remapped_root("0").unwrap(),
            ("root".into(), "root".into())
        );
        assert_eq!(
            parse_remapped_root("root:0").unwrap(),
            ("root".into(), "root".into())
        );
        assert!(parse_remapped_root("no-such-user-berth")
            .unwrap_err()
            .starts_with("Error during uid lookup for \"no-such-user-berth\": "));
        assert!(parse_remapped_root("4000000:0")
            .unwrap_err()
            .starts_with("Uid 4000000 has no entry in /etc/passwd: "));
    }

    #[test]
    fn remapped_containers_refuse_host_namespaces_and_privilege() {
        let m = IdMapping {
            uids: vec![IdMap {
                container_id: 0,
                host_id: 1,
                size: 1,
            }],
            gids: vec![IdMap {
                container_id: 0,
                host_id: 1,
                size: 1,
            }],
        };
        let mut hc = HostConfig {
            privileged: Some(true),
            ..Default::default()
        };
        assert!(check_host_config(&m, &hc)
            .unwrap_err()
            .starts_with("privileged mode is incompatible"));
        assert!(check_host_config(&IdMapping::default(), &hc).is_ok());
        hc.userns_mode = Some("host".into());
        assert!(check_host_config(&m, &hc).is_ok());
        hc = HostConfig {
            pid_mode: Some("host".into()),
            ..Default::default()
        };
        assert_eq!(
            check_host_config(&m, &hc).unwrap_err(),
            "cannot share the host PID namespace when user namespaces are enabled"
        );
    }

    #[test]
    fn the_data_root_moves_under_the_remapped_ids() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        let base = dir.path().join("data");
        let m = IdMapping {
            uids: vec![IdMap {
                container_id: 0,
                host_id: 700_000,
                size: 65536,
            }],
            gids: vec![IdMap {
                container_id: 0,
                host_id: 710_000,
                size: 65536,
            }],
        };
        let sub = setup_data_root(&base, &m).unwrap();
        assert_eq!(sub, base.join("700000.710000"));
        for d in [&base, &sub] {
            let md = std::fs::metadata(d).unwrap();
            assert_eq!((md.uid(), md.gid(), md.mode() & 0o777), (0, 710_000, 0o710));
        }
        // A parent the remapped root cannot pass is refused with moby's message.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let err = setup_data_root(&base, &m).unwrap_err().to_string();
        assert!(
            err.contains("restricts access to the remapped root uid/gid"),
            "{err}"
        );
    }
}
