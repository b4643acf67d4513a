//! Start, stop, kill, restart, pause, wait, attach, remove: the container lifecycle on
//! its shim, with Docker's events and restart policies.

use std::future::Future;
use std::os::unix::fs::DirBuilderExt;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use berth_api::events::event_type;
use berth_api::models::{HostConfig, RestartPolicyNameEnum};
use berth_shim::client::ShimClient;
use berth_shim::config::{LogTarget, ShimConfig, ShimKind};

use super::create::event_attributes;
use super::record::Status;
use super::{
    cgroupfs, conflict, etc_files, internal, lock, names, now_rfc3339, rootfs, runtime_spec, user,
    Container, PendingAttach, WaitState,
};
use crate::error::EngineError;
use crate::Engine;

#[derive(Debug, Clone, Copy, Default)]
pub struct AttachOptions {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

pub type AttachStream = tokio::net::UnixStream;

#[derive(Debug, Clone, Copy, Default)]
pub struct RemoveOptions {
    pub force: bool,
    pub volumes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    NotRunning,
    NextExit,
    Removed,
}

impl FromStr for WaitCondition {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self, EngineError> {
        match s {
            "" | "not-running" => Ok(Self::NotRunning),
            "next-exit" => Ok(Self::NextExit),
            "removed" => Ok(Self::Removed),
            other => Err(EngineError::InvalidParameter(format!(
                "invalid condition: \"{other}\""
            ))),
        }
    }
}

/// A signal by number or name (`9`, `KILL`, `SIGKILL`, `sigkill`).
pub fn parse_signal(s: &str) -> Result<i32, EngineError> {
    let bad = || EngineError::InvalidParameter(format!("Invalid signal: {s}"));
    if let Ok(n) = s.parse::<i32>() {
        return if (1..=64).contains(&n) {
            Ok(n)
        } else {
            Err(bad())
        };
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    if let Some(rt) = name.strip_prefix("SIGRTMIN") {
        let base = libc::SIGRTMIN();
        let off: i32 = if rt.is_empty() {
            0
        } else {
            rt.trim_start_matches('+').parse().map_err(|_| bad())?
        };
        return Ok(base + off);
    }
    nix::sys::signal::Signal::from_str(&name)
        .map(|s| s as i32)
        .map_err(|_| bad())
}

fn not_running(id: &str) -> EngineError {
    conflict(format!("Container {id} is not running"))
}

fn image_name(rec: &super::ContainerRecord) -> String {
    rec.config.image.clone().unwrap_or_default()
}

fn publish(engine: &Engine, c: &Container, action: &str, extra: &[(&str, String)]) {
    let rec = c.snapshot();
    let mut attrs = event_attributes(&rec, &image_name(&rec));
    for (k, v) in extra {
        attrs.insert((*k).to_owned(), v.clone());
    }
    engine
        .events
        .publish(event_type::CONTAINER, action, c.id.clone(), attrs);
}

/// The container's compiled seccomp program in its bundle (execs install it too).
pub(crate) const SECCOMP_PROGRAM_FILE: &str = "seccomp.bpf";

fn mount_rootfs(engine: &Engine, c: &Container) -> Result<(), EngineError> {
    let rootfs = c.paths.rootfs();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&c.paths.exec)
        .map_err(|e| EngineError::io("create directory", &c.paths.exec, e))?;
    std::fs::create_dir_all(&rootfs)
        .map_err(|e| EngineError::io("create directory", &rootfs, e))?;
    let _ = berth_snapshot::unmount(&rootfs);
    let mut mounts = engine
        .images
        .layers()
        .mounts(&c.id)
        .map_err(|e| internal(e.to_string()))?;
    // An AutoRemove container's layer is deleted when it exits, so it need not survive a
    // crash: a volatile overlay skips the sync of the whole host filesystem its unmount
    // would do (hundreds of ms on a busy disk), as podman does for `--rm`.
    if c.snapshot().host_config.auto_remove == Some(true) {
        for m in mounts.iter_mut().filter(|m| m.kind == "overlay") {
            m.options.push("volatile".into());
        }
    }
    berth_snapshot::mount_all(&mounts, &rootfs).map_err(|e| internal(e.to_string()))
}

fn unmount_rootfs(c: &Container) {
    crate::userns::remove_own(&c.paths);
    let rootfs = c.paths.rootfs();
    if rootfs.exists() {
        if let Err(e) = berth_snapshot::unmount(&rootfs) {
            tracing::debug!(container = %c.id, error = %e, "unmount rootfs");
        }
    }
}

fn write_etc_files(
    c: &Container,
    rec: &super::ContainerRecord,
    sandbox: Option<&crate::networks::SandboxInfo>,
    host_gateway: Option<&str>,
) -> Result<(), EngineError> {
    let hc = &rec.host_config;
    let hostname = rec.config.hostname.clone().unwrap_or_default();
    let host_net = hc.network_mode.as_deref() == Some("host");
    let hosts = if host_net {
        std::fs::read_to_string("/etc/hosts").unwrap_or_default()
    } else {
        let own = sandbox
            .and_then(|s| s.own_ip.as_deref())
            .map(|ip| (ip, hostname.as_str()));
        etc_files::hosts(
            hc.extra_hosts.as_deref().unwrap_or(&[]),
            host_gateway,
            sandbox.map(|s| s.hosts_lines.as_slice()).unwrap_or(&[]),
            own,
        )
        .map_err(EngineError::InvalidParameter)?
    };
    let host_resolv = etc_files::host_resolv_conf();
    let resolv = if sandbox.is_some_and(|s| s.embedded_dns) {
        etc_files::embedded_resolv_conf(
            &host_resolv,
            hc.dns_search.as_deref().unwrap_or(&[]),
            hc.dns_options.as_deref().unwrap_or(&[]),
        )
    } else {
        etc_files::resolv_conf(
            &host_resolv,
            hc.dns.as_deref().unwrap_or(&[]),
            hc.dns_search.as_deref().unwrap_or(&[]),
            hc.dns_options.as_deref().unwrap_or(&[]),
        )
    };
    for (path, text) in [
        (c.paths.hostname(), format!("{hostname}\n")),
        (c.paths.hosts(), hosts),
        (c.paths.resolv_conf(), resolv),
    ] {
        // Rewritten at every start: no fsync needed (fsutil::replace_file).
        crate::fsutil::replace_file(&path, text.as_bytes(), 0o644)
            .map_err(|e| EngineError::io("write", &path, e))?;
    }
    Ok(())
}

fn log_target(rec: &super::ContainerRecord) -> Result<Option<LogTarget>, EngineError> {
    let Some(lc) = rec.host_config.log_config.as_ref() else {
        return Ok(None);
    };
    let Some(driver) = lc.typ.clone() else {
        return Ok(None);
    };
    if driver == "none" || rec.log_path.is_empty() {
        return Ok(None);
    }
    let opts = lc.config.clone().unwrap_or_default();
    let attrs = super::log_attrs::extra_attributes(rec)
        .map_err(|e| internal(format!("failed to initialize logging driver: {e}")))?;
    Ok(Some(LogTarget {
        driver,
        path: rec.log_path.clone().into(),
        max_size: opts
            .get("max-size")
            .and_then(|s| super::create::parse_size(s)),
        max_file: opts
            .get("max-file")
            .and_then(|s| s.parse().ok())
            .unwrap_or(1),
        attrs,
    }))
}

/// Docker's wording for a process that cannot be started, which the CLI reads to pick
/// its exit code (127 not found, 126 cannot execute).
fn start_error(msg: &str) -> String {
    // youki says "executable 'x' not found in $PATH"; the CLI looks for runc's words.
    let msg = match msg.split_once("executable '") {
        Some((_, rest)) if rest.contains("not found") => {
            let name = rest.split('\'').next().unwrap_or("");
            format!("unable to start container process: exec: \"{name}\": executable file not found in $PATH")
        }
        _ => msg.to_owned(),
    };
    format!("failed to create task for container: OCI runtime create failed: {msg}: unknown")
}

fn exit_code_for_start_error(msg: &str) -> i64 {
    if msg.contains("executable file not found") || msg.contains("no such file or directory") {
        127
    } else if msg.contains("permission denied") {
        126
    } else {
        128
    }
}

/// `POST /containers/{id}/start`: `Ok(false)` when it was already running (304).
pub async fn start(engine: &Arc<Engine>, name: &str) -> Result<bool, EngineError> {
    let c = engine.containers.get(name)?;
    let _op = c.op.lock().await;
    start_locked(engine, &c).await
}

fn cgroups_path(engine: &Engine, hc: &HostConfig, id: &str) -> String {
    let parent = hc
        .cgroup_parent
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| engine.containers.settings.cgroup_parent.clone());
    format!("/{}/{id}", parent.trim_matches('/')).replace("//", "/")
}

pub(crate) async fn start_locked(
    engine: &Arc<Engine>,
    c: &Arc<Container>,
) -> Result<bool, EngineError> {
    let rec = c.snapshot();
    match rec.state.status {
        Status::Running | Status::Paused => return Ok(false),
        Status::Removing | Status::Dead => {
            return Err(conflict(format!(
                "cannot start container {}: container is marked for removal",
                rec.id
            )))
        }
        _ => {}
    }
    match start_process(engine, c).await {
        Ok(()) => Ok(true),
        Err(e) => {
            unmount_rootfs(c);
            super::ipc::teardown(&c.paths);
            super::mounts::teardown(engine, &c.snapshot());
            crate::networks::release(engine, c).await;
            let msg = e.to_string();
            let _ = c.update_record(|r| {
                r.state.error = msg.clone();
                r.state.exit_code = exit_code_for_start_error(&msg);
                if r.state.status == Status::Restarting {
                    r.state.status = Status::Exited;
                }
            });
            c.wait_tx
                .send_modify(|w| w.exit_code = exit_code_for_start_error(&msg));
            // Attaches waiting for this start end with it.
            lock(&c.pending_attach).clear();
            // As dockerd: a failed start of an AutoRemove container removes it.
            if rec.host_config.auto_remove == Some(true) {
                let engine = engine.clone();
                let id = c.id.clone();
                tokio::spawn(async move {
                    let _ = remove_as(
                        &engine,
                        &id,
                        RemoveOptions {
                            force: true,
                            volumes: true,
                        },
                        Remover::AutoRemove,
                    )
                    .await;
                });
            }
            Err(e)
        }
    }
}

async fn start_process(engine: &Arc<Engine>, c: &Arc<Container>) -> Result<(), EngineError> {
    let rec = c.snapshot();
    let settings = &engine.containers.settings;
    let ipc = super::ipc::setup(engine, &rec, &c.paths)?;
    mount_rootfs(engine, c)?;
    let id_mapping = &settings.id_mapping;
    crate::userns::prepare_start(id_mapping, &c.paths, &ipc.dev_shm)
        .map_err(|e| internal(format!("preparing directories for the remapped root: {e}")))?;
    // Made before the network namespace, which it owns.
    let userns_plan = crate::userns::plan_for(engine, c);
    crate::userns::create_own(&userns_plan, id_mapping)?;
    let rootfs = c.paths.rootfs();
    let hc = &rec.host_config;
    let exec_user = user::resolve(
        &rootfs,
        rec.config.user.as_deref().unwrap_or(""),
        hc.group_add.as_deref().unwrap_or(&[]),
    )
    .map_err(|e| internal(start_error(&e)))?;
    let cwd = rec
        .config
        .working_dir
        .clone()
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| "/".into());
    if !cwd.starts_with('/') {
        return Err(EngineError::InvalidParameter(format!(
            "the working directory '{cwd}' is invalid, it needs to be an absolute path"
        )));
    }
    let (root_uid, root_gid) = id_mapping.root_pair();
    rootfs::mkdir_all(&rootfs, &cwd, root_uid, root_gid)
        .map_err(|e| internal(start_error(&format!("mkdir {cwd}: {e}"))))?;
    let user_mounts = super::mounts::setup(engine, &rec, &rootfs)?;
    if rec.mount_points.iter().any(|m| m.copy_data) {
        // Filled once, as Docker fills at create: an emptied volume stays empty.
        c.update_record(|r| r.mount_points.iter_mut().for_each(|m| m.copy_data = false))?;
    }
    let sandbox = crate::networks::attach(engine, c).await?;
    let host_gateway = engine.networks.host_gateway();
    write_etc_files(c, &rec, sandbox.as_ref(), host_gateway.as_deref())?;
    crate::userns::give_etc_files(id_mapping, &c.paths)
        .map_err(|e| internal(format!("chown of the container's /etc files: {e}")))?;
    let cgroups = cgroups_path(engine, hc, &rec.id);
    let resolve_container = |target: &str, ns: &str| -> Result<std::path::PathBuf, String> {
        let other = engine.containers.get(target).map_err(|e| e.to_string())?;
        let r = other.snapshot();
        if !r.state.running() || r.state.pid <= 0 {
            return Err(format!(
                "cannot join namespace of a non running container: {}",
                other.id
            ));
        }
        Ok(format!("/proc/{}/ns/{ns}", r.state.pid).into())
    };
    let mut spec = runtime_spec::build(
        &rec,
        &c.paths,
        &exec_user,
        cgroups.clone(),
        settings.init_path.as_deref(),
        sandbox.as_ref().map(|s| s.netns.as_path()),
        &resolve_container,
        user_mounts,
        ipc,
    )
    .map_err(EngineError::InvalidParameter)?;
    spec.user_namespace = userns_plan.spec(id_mapping);
    let mut oci = berth_runtime::build_spec(&spec)
        .map_err(|e| EngineError::Other(e.kind(), e.to_string()))?;
    let bundle = c.paths.bundle();
    std::fs::create_dir_all(&bundle)
        .map_err(|e| EngineError::io("create directory", &bundle, e))?;
    let seccomp_program = bundle.join(SECCOMP_PROGRAM_FILE);
    let seccomp_program = engine
        .containers
        .seccomp_programs
        .take_out(&mut oci, &seccomp_program)?
        .then_some(seccomp_program);
    let spec_bytes = serde_json::to_vec(&oci).map_err(|e| internal(e.to_string()))?;
    // Runtime state under the exec-root: no fsync needed (fsutil::replace_file).
    crate::fsutil::replace_file(&bundle.join("config.json"), &spec_bytes, 0o600)
        .map_err(|e| EngineError::io("write", bundle.join("config.json"), e))?;

    let shim_dir = c.paths.shim();
    let _ = std::fs::remove_dir_all(&shim_dir);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&shim_dir)
        .map_err(|e| EngineError::io("create directory", &shim_dir, e))?;
    let console = hc
        .console_size
        .as_ref()
        .filter(|s| s.len() == 2 && s[0] > 0 && s[1] > 0)
        .map(|s| [s[0] as u16, s[1] as u16]);
    let config = ShimConfig {
        id: rec.id.clone(),
        runtime_root: settings.exec_root.join("runtime"),
        kind: ShimKind::Container { bundle },
        tty: rec.tty(),
        open_stdin: rec.config.open_stdin.unwrap_or(false),
        stdin_once: rec.config.stdin_once.unwrap_or(false),
        console_size: console,
        log: log_target(&rec)?,
        seccomp_program,
    };
    let shim = Arc::new(
        ShimClient::spawn(&settings.berth_exe, &shim_dir, &config)
            .await
            .map_err(|e| internal(start_error(&e.to_string())))?,
    );

    // Attaches that waited for this start get their streams before the process runs, so
    // `docker run` sees every byte.
    let pending: Vec<PendingAttach> = std::mem::take(&mut *lock(&c.pending_attach));
    for p in pending {
        let r = shim
            .attach(p.options.stdin, p.options.stdout, p.options.stderr)
            .await
            .map_err(|e| internal(e.to_string()));
        let _ = p.reply.send(r);
    }
    let pid = match shim.start().await {
        Ok(pid) => pid,
        Err(e) => {
            let _ = shim.signal(libc::SIGKILL).await;
            let _ = shim.wait().await;
            return Err(internal(start_error(&e.to_string())));
        }
    };
    let generation = {
        let mut g = lock(&c.generation);
        *g += 1;
        *g
    };
    *lock(&c.shim) = Some(shim.clone());
    // An AutoRemove container is deleted at its exit and never restarted after a host
    // crash, so its Running state needs no fsync (two on the path of every `run --rm`).
    let durability = if rec.host_config.auto_remove == Some(true) {
        super::record::Durability::Replaceable
    } else {
        super::record::Durability::Durable
    };
    c.update_record_as(durability, |r| {
        r.state.status = Status::Running;
        r.state.pid = i64::from(pid);
        r.state.started_at = now_rfc3339();
        r.state.exit_code = 0;
        r.state.error.clear();
        r.state.oom_killed = false;
        r.manually_stopped = false;
        r.cgroups_path = cgroups.clone();
        if r.config.healthcheck.as_ref().is_some_and(health_enabled) {
            r.state.health = Some(super::record::HealthState {
                status: "starting".into(),
                ..Default::default()
            });
        }
    })?;
    c.wait_tx.send_modify(|w| {
        w.running = true;
        w.error = None;
    });
    publish(engine, c, "start", &[]);
    spawn_monitor(engine.clone(), c.clone(), generation, shim);
    Ok(())
}

pub(crate) fn health_enabled(h: &berth_api::models::HealthConfig) -> bool {
    h.test
        .as_ref()
        .and_then(|t| t.first())
        .is_some_and(|first| first != "NONE")
}

pub(crate) fn spawn_monitor(
    engine: Arc<Engine>,
    c: Arc<Container>,
    generation: u64,
    shim: Arc<ShimClient>,
) {
    super::health::spawn(engine.clone(), c.clone(), generation);
    tokio::spawn(async move {
        let status = shim.wait().await;
        let exit = match status {
            Ok(s) => s,
            Err(e) => berth_shim::config::ExitStatus {
                exit_code: 255,
                oom_killed: false,
                finished_at: now_rfc3339(),
                error: Some(format!("container monitor failed: {e}")),
            },
        };
        handle_exit(&engine, &c, generation, exit).await;
    });
}

/// Records an exit, publishes `oom`/`die`, and applies the restart policy or AutoRemove.
pub(crate) async fn handle_exit(
    engine: &Arc<Engine>,
    c: &Arc<Container>,
    generation: u64,
    exit: berth_shim::config::ExitStatus,
) {
    if *lock(&c.generation) != generation {
        return;
    }
    *lock(&c.shim) = None;
    unmount_rootfs(c);
    super::ipc::teardown(&c.paths);
    super::mounts::teardown(engine, &c.snapshot());
    // Before the exit is visible: a `wait` or a restart then finds the sandbox gone.
    crate::networks::release(engine, c).await;
    let _ = std::fs::remove_dir_all(c.paths.shim());
    let rec = c.snapshot();
    let started = chrono::DateTime::parse_from_rfc3339(&rec.state.started_at).ok();
    let ran_for = started
        .map(|s| (chrono::Utc::now() - s.with_timezone(&chrono::Utc)).num_milliseconds())
        .unwrap_or(0);
    let policy = rec.host_config.restart_policy.clone().unwrap_or_default();
    let max = policy.maximum_retry_count.unwrap_or(0);
    let restart = !rec.manually_stopped
        && match policy.name {
            Some(RestartPolicyNameEnum::ALWAYS) | Some(RestartPolicyNameEnum::UNLESS_STOPPED) => {
                true
            }
            Some(RestartPolicyNameEnum::ON_FAILURE) => {
                exit.exit_code != 0 && (max == 0 || rec.restart_count < max)
            }
            _ => false,
        };
    // An AutoRemove container's record is deleted right after: no fsync for it.
    let auto_remove = !restart && rec.host_config.auto_remove == Some(true);
    let record_exit = |r: &mut super::ContainerRecord| {
        r.state.status = if restart {
            Status::Restarting
        } else {
            Status::Exited
        };
        r.state.pid = 0;
        r.state.exit_code = i64::from(exit.exit_code);
        r.state.oom_killed = exit.oom_killed;
        r.state.finished_at = exit.finished_at.clone();
        r.state.error = exit.error.clone().unwrap_or_default();
        if let Some(h) = r.state.health.as_mut() {
            h.status = "unhealthy".into();
        }
        if r.state.health.is_some() {
            r.state.health = None;
        }
        if restart {
            r.restart_count += 1;
        }
    };
    let _ = if auto_remove {
        c.update_record_as(super::record::Durability::Replaceable, record_exit)
    } else {
        c.update_record(record_exit)
    };
    if exit.oom_killed {
        publish(engine, c, "oom", &[]);
    }
    publish(
        engine,
        c,
        "die",
        &[("exitCode", exit.exit_code.to_string())],
    );
    c.wait_tx.send_modify(|w| {
        w.exits += 1;
        w.running = false;
        w.exit_code = i64::from(exit.exit_code);
        w.error = exit.error.clone();
    });
    if restart {
        // Docker's backoff: 100ms doubling per quick failure, reset after 10s of running.
        let count = c.snapshot().restart_count;
        let delay = if ran_for >= 10_000 {
            100
        } else {
            (100u64 << (count.clamp(1, 12) - 1) as u32).min(60_000)
        };
        let engine = engine.clone();
        let c = c.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            let _op = c.op.lock().await;
            if *lock(&c.generation) != generation || c.snapshot().state.status != Status::Restarting
            {
                return;
            }
            if let Err(e) = start_locked(&engine, &c).await {
                tracing::warn!(container = %c.id, error = %e, "restart policy: start failed");
                let _ = c.update_record(|r| r.state.status = Status::Exited);
            }
        });
    } else if rec.host_config.auto_remove == Some(true) {
        let engine = engine.clone();
        let id = c.id.clone();
        tokio::spawn(async move {
            if let Err(e) = remove_as(
                &engine,
                &id,
                RemoveOptions {
                    force: true,
                    volumes: true,
                },
                Remover::AutoRemove,
            )
            .await
            {
                tracing::warn!(container = %id, error = %e, "auto-remove failed");
            }
        });
    }
}

async fn wait_for_exit(c: &Container, seen: u64, timeout: Option<Duration>) -> bool {
    let mut rx = c.wait_tx.subscribe();
    let fut = rx.wait_for(|w| w.exits > seen || (!w.running && w.exits >= seen));
    match timeout {
        Some(t) => matches!(tokio::time::timeout(t, fut).await, Ok(Ok(_))),
        None => fut.await.is_ok(),
    }
}

async fn signal_shim(engine: &Engine, c: &Container, sig: i32) -> Result<(), EngineError> {
    let shim = c.shim().ok_or_else(|| not_running(&c.id))?;
    shim.signal(sig)
        .await
        .map_err(|e| internal(format!("Cannot kill container: {}: {e}", c.id)))?;
    publish(engine, c, "kill", &[("signal", sig.to_string())]);
    Ok(())
}

/// `POST /containers/{id}/stop`: `Ok(false)` when it was not running (304).
pub async fn stop(
    engine: &Arc<Engine>,
    name: &str,
    signal: Option<&str>,
    timeout: Option<i64>,
) -> Result<bool, EngineError> {
    let c = engine.containers.get(name)?;
    let _op = c.op.lock().await;
    stop_locked(engine, &c, signal, timeout).await
}

async fn stop_locked(
    engine: &Arc<Engine>,
    c: &Arc<Container>,
    signal: Option<&str>,
    timeout: Option<i64>,
) -> Result<bool, EngineError> {
    let rec = c.snapshot();
    if rec.state.status == Status::Restarting {
        *lock(&c.generation) += 1;
        c.update_record(|r| {
            r.manually_stopped = true;
            r.state.status = Status::Exited;
        })?;
        return Ok(true);
    }
    if !rec.state.running() {
        return Ok(false);
    }
    let sig = match signal
        .filter(|s| !s.is_empty())
        .or(rec.config.stop_signal.as_deref())
    {
        Some(s) => parse_signal(s)?,
        None => libc::SIGTERM,
    };
    let timeout = timeout.or(rec.config.stop_timeout).unwrap_or(10);
    c.update_record(|r| r.manually_stopped = true)?;
    if rec.state.status == Status::Paused {
        let _ = cgroupfs::freeze(&rec.cgroups_path, false);
        let _ = c.update_record(|r| r.state.status = Status::Running);
    }
    let seen = c.wait_tx.borrow().exits;
    if signal_shim(engine, c, sig).await.is_ok() {
        let limit = (timeout >= 0).then(|| Duration::from_secs(timeout as u64));
        if wait_for_exit(c, seen, limit).await {
            publish(engine, c, "stop", &[]);
            return Ok(true);
        }
    }
    tracing::info!(container = %c.id, "container did not stop after the timeout; killing it");
    let _ = signal_shim(engine, c, libc::SIGKILL).await;
    if !wait_for_exit(c, seen, Some(Duration::from_secs(30))).await {
        return Err(internal(format!(
            "cannot stop container: {}: tried to kill container, but did not receive an exit event",
            c.id
        )));
    }
    publish(engine, c, "stop", &[]);
    Ok(true)
}

/// `POST /containers/{id}/kill`.
pub async fn kill(
    engine: &Arc<Engine>,
    name: &str,
    signal: Option<&str>,
) -> Result<(), EngineError> {
    let c = engine.containers.get(name)?;
    let sig = match signal.filter(|s| !s.is_empty()) {
        Some(s) => parse_signal(s)?,
        None => libc::SIGKILL,
    };
    let rec = c.snapshot();
    if !rec.state.running() {
        return Err(conflict(format!(
            "Cannot kill container: {}: Container {} is not running",
            name, rec.id
        )));
    }
    c.update_record(|r| r.manually_stopped = true)?;
    if rec.state.status == Status::Paused && sig == libc::SIGKILL {
        let seen = c.wait_tx.borrow().exits;
        signal_shim(engine, &c, sig).await?;
        let _ = cgroupfs::freeze(&rec.cgroups_path, false);
        let _ = wait_for_exit(&c, seen, Some(Duration::from_secs(10))).await;
        return Ok(());
    }
    signal_shim(engine, &c, sig).await
}

/// `POST /containers/{id}/restart`.
pub async fn restart(
    engine: &Arc<Engine>,
    name: &str,
    signal: Option<&str>,
    timeout: Option<i64>,
) -> Result<(), EngineError> {
    let c = engine.containers.get(name)?;
    let _op = c.op.lock().await;
    stop_locked(engine, &c, signal, timeout).await?;
    start_locked(engine, &c).await?;
    publish(engine, &c, "restart", &[]);
    Ok(())
}

pub async fn pause(engine: &Arc<Engine>, name: &str) -> Result<(), EngineError> {
    let c = engine.containers.get(name)?;
    let _op = c.op.lock().await;
    let rec = c.snapshot();
    match rec.state.status {
        Status::Paused => return Err(conflict(format!("Container {} is already paused", rec.id))),
        Status::Running => {}
        _ => return Err(not_running(&rec.id)),
    }
    cgroupfs::freeze(&rec.cgroups_path, true).map_err(|e| internal(e.to_string()))?;
    c.update_record(|r| r.state.status = Status::Paused)?;
    publish(engine, &c, "pause", &[]);
    Ok(())
}

pub async fn unpause(engine: &Arc<Engine>, name: &str) -> Result<(), EngineError> {
    let c = engine.containers.get(name)?;
    let _op = c.op.lock().await;
    let rec = c.snapshot();
    if rec.state.status != Status::Paused {
        return Err(conflict(format!("Container {} is not paused", rec.id)));
    }
    cgroupfs::freeze(&rec.cgroups_path, false).map_err(|e| internal(e.to_string()))?;
    c.update_record(|r| r.state.status = Status::Running)?;
    publish(engine, &c, "unpause", &[]);
    Ok(())
}

pub type WaitFuture = Pin<Box<dyn Future<Output = WaitState> + Send>>;

/// `POST /containers/{id}/wait`: looks the container up now (so a 404 comes before any
/// header) and returns what to await.
pub fn wait(
    engine: &Arc<Engine>,
    name: &str,
    cond: WaitCondition,
) -> Result<WaitFuture, EngineError> {
    let c = engine.containers.get(name)?;
    let mut rx = c.wait_tx.subscribe();
    let start = rx.borrow().clone();
    Ok(Box::pin(async move {
        let done = |w: &WaitState| match cond {
            WaitCondition::NotRunning => !w.running || w.exits > start.exits || w.removed,
            WaitCondition::NextExit => w.exits > start.exits || w.removed,
            WaitCondition::Removed => w.removed,
        };
        let result = rx.wait_for(done).await.map(|w| w.clone());
        match result {
            Ok(w) => w,
            Err(_) => {
                let mut w = rx.borrow().clone();
                w.removed = true;
                w
            }
        }
    }))
}

pub type AttachFuture = Pin<Box<dyn Future<Output = Result<AttachStream, EngineError>> + Send>>;

/// `POST /containers/{id}/attach`: the container's TTY flag, and a future that yields
/// the shim stream (at once if running, else at the next start).
pub fn attach(
    engine: &Arc<Engine>,
    name: &str,
    opts: AttachOptions,
) -> Result<(Arc<Container>, AttachFuture), EngineError> {
    let c = engine.containers.get(name)?;
    publish(engine, &c, "attach", &[]);
    let running = c.snapshot().state.running();
    let shim = c.shim();
    let fut: AttachFuture = match (running, shim) {
        (true, Some(shim)) => Box::pin(async move {
            shim.attach(opts.stdin, opts.stdout, opts.stderr)
                .await
                .map_err(|e| internal(e.to_string()))
        }),
        _ => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            lock(&c.pending_attach).push(PendingAttach {
                options: opts,
                reply: tx,
            });
            Box::pin(async move {
                rx.await
                    .unwrap_or_else(|_| Err(conflict("container was removed")))
            })
        }
    };
    Ok((c, fut))
}

pub async fn resize(
    engine: &Arc<Engine>,
    name: &str,
    height: u16,
    width: u16,
) -> Result<(), EngineError> {
    let c = engine.containers.get(name)?;
    let shim = c.shim().ok_or_else(|| not_running(&c.id))?;
    shim.resize(height, width)
        .await
        .map_err(|e| internal(e.to_string()))?;
    publish(
        engine,
        &c,
        "resize",
        &[("height", height.to_string()), ("width", width.to_string())],
    );
    Ok(())
}

pub async fn rename(engine: &Arc<Engine>, name: &str, new_name: &str) -> Result<(), EngineError> {
    let c = engine.containers.get(name)?;
    let new = names::validate(new_name).map_err(EngineError::InvalidParameter)?;
    let old = c.snapshot().name;
    if old == new {
        return Err(EngineError::InvalidParameter(
            "Renaming a container with the same name as its current name".into(),
        ));
    }
    engine.containers.reserve_name(&new, &c.id)?;
    if let Err(e) = c.update_record(|r| r.name = new.clone()) {
        engine.containers.release_name(&new, &c.id);
        return Err(e);
    }
    engine.containers.release_name(&old, &c.id);
    publish(engine, &c, "rename", &[("oldName", format!("/{old}"))]);
    Ok(())
}

/// `POST /containers/{id}/update`: resources and restart policy, live when running.
pub async fn update(
    engine: &Arc<Engine>,
    name: &str,
    change: HostConfig,
) -> Result<Vec<String>, EngineError> {
    let c = engine.containers.get(name)?;
    let _op = c.op.lock().await;
    let rec = c.snapshot();
    let mut hc = rec.host_config.clone();
    macro_rules! take {
        ($($f:ident),*) => { $( if change.$f.is_some() { hc.$f = change.$f.clone(); } )* };
    }
    take!(
        memory,
        memory_swap,
        memory_reservation,
        nano_cpus,
        cpu_shares,
        cpu_quota,
        cpu_period,
        cpuset_cpus,
        cpuset_mems,
        pids_limit,
        blkio_weight,
        restart_policy
    );
    if let (Some(m), Some(s)) = (hc.memory, hc.memory_swap) {
        if m > 0 && s > 0 && s < m {
            return Err(EngineError::InvalidParameter(
                "Minimum memoryswap limit should be larger than memory limit, see usage".into(),
            ));
        }
    }
    if hc.memory.is_some_and(|m| m > 0)
        && change.memory.is_some()
        && change.memory_swap.is_none()
        && rec.host_config.memory_swap.unwrap_or(0) > 0
        && rec.host_config.memory_swap < hc.memory
    {
        hc.memory_swap = Some(hc.memory.unwrap_or(0) * 2);
    }
    runtime_spec::validate(&hc).map_err(EngineError::InvalidParameter)?;
    if rec.state.running() {
        cgroupfs::apply_resources(&rec.cgroups_path, &change_only(&change, &hc))
            .map_err(|e| internal(format!("Cannot update container {}: {e}", rec.id)))?;
    }
    c.update_record(|r| r.host_config = hc)?;
    publish(engine, &c, "update", &[]);
    Ok(Vec::new())
}

/// The resource fields that changed, with swap resolved against the new memory limit.
fn change_only(change: &HostConfig, merged: &HostConfig) -> HostConfig {
    let mut out = change.clone();
    if out.memory.is_some() {
        out.memory_swap = merged.memory_swap;
    }
    out
}

/// `DELETE /containers/{id}`.
pub async fn remove(
    engine: &Arc<Engine>,
    name: &str,
    opts: RemoveOptions,
) -> Result<(), EngineError> {
    remove_as(engine, name, opts, Remover::User).await
}

/// Who asks for a removal: a user's `rm` returns once nothing of the container is left on
/// the host; AutoRemove (`run --rm`) does not wait for the kernel to finish deleting the
/// veths of a namespace it already released (milliseconds later), since `docker run`
/// waits for the removal.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Remover {
    User,
    AutoRemove,
}

async fn remove_as(
    engine: &Arc<Engine>,
    name: &str,
    opts: RemoveOptions,
    remover: Remover,
) -> Result<(), EngineError> {
    let c = engine.containers.get(name)?;
    let _op = c.op.lock().await;
    let rec = c.snapshot();
    if rec.state.status == Status::Removing {
        return Err(conflict(format!(
            "removal of container {} is already in progress",
            rec.id
        )));
    }
    if rec.state.running() {
        if !opts.force {
            let verb = if rec.state.status == Status::Paused {
                "paused"
            } else {
                "running"
            };
            return Err(conflict(format!(
                "cannot remove container \"/{}\": container is {verb}: stop the container before removing or force remove",
                rec.name
            )));
        }
        let _ = c.update_record(|r| r.manually_stopped = true);
        let seen = c.wait_tx.borrow().exits;
        let _ = signal_shim(engine, &c, libc::SIGKILL).await;
        if rec.state.status == Status::Paused {
            let _ = cgroupfs::freeze(&rec.cgroups_path, false);
        }
        if !wait_for_exit(&c, seen, Some(Duration::from_secs(30))).await {
            return Err(internal(format!(
                "cannot remove container \"/{}\": could not kill: tried to kill container, but did not receive an exit event",
                rec.name
            )));
        }
    }
    // Stand down any restart timer or late monitor.
    *lock(&c.generation) += 1;
    let _ = c.update_record_as(super::record::Durability::Replaceable, |r| {
        r.state.status = Status::Removing
    });
    lock(&c.pending_attach).clear();
    unmount_rootfs(&c);
    super::ipc::teardown(&c.paths);
    crate::networks::release(engine, &c).await;
    match remover {
        Remover::User => crate::networks::settle(engine, &c.id).await,
        Remover::AutoRemove => crate::networks::forget_dying(engine, &c.id),
    }
    if let Err(e) = engine.images.layers().remove(&c.id) {
        tracing::warn!(container = %c.id, error = %e, "removing the container layer");
    }
    super::mounts::unregister(engine, &rec, opts.volumes);
    let _ = std::fs::remove_dir_all(&c.paths.exec);
    let _ = std::fs::remove_dir_all(c.paths.shim());
    if let Err(e) = std::fs::remove_dir_all(&c.paths.data) {
        if e.kind() != std::io::ErrorKind::NotFound {
            let _ = c.update_record(|r| r.state.status = Status::Dead);
            return Err(EngineError::io("remove", &c.paths.data, e));
        }
    }
    engine.containers.forget(&c.id);
    engine.containers.drop_execs_of(&c.id);
    c.wait_tx.send_modify(|w| w.removed = true);
    publish(engine, &c, "destroy", &[]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_parse_by_name_and_number() {
        assert_eq!(parse_signal("9").unwrap(), 9);
        assert_eq!(parse_signal("KILL").unwrap(), 9);
        assert_eq!(parse_signal("sigusr1").unwrap(), libc::SIGUSR1);
        assert_eq!(parse_signal("SIGTERM").unwrap(), 15);
        assert!(parse_signal("NOPE").is_err());
        assert!(parse_signal("0").is_err());
        assert_eq!(parse_signal("SIGRTMIN+1").unwrap(), libc::SIGRTMIN() + 1);
    }

    #[test]
    fn start_errors_carry_the_words_the_cli_maps_to_exit_codes() {
        assert_eq!(
            exit_code_for_start_error("exec: \"x\": executable file not found in $PATH"),
            127
        );
        assert_eq!(exit_code_for_start_error("permission denied"), 126);
        let msg = start_error("error in executing process : executable 'nope' not found in $PATH");
        assert!(
            msg.contains("exec: \"nope\": executable file not found in $PATH"),
            "{msg}"
        );
        assert_eq!(exit_code_for_start_error(&msg), 127);
    }
}
