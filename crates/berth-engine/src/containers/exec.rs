//! `docker exec`: a process started in a running container by its own short-lived shim
//! (the container's process spec, with the exec's args, env, user and cwd).

use std::collections::BTreeMap;
use std::future::Future;
use std::os::unix::fs::DirBuilderExt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use berth_api::events::event_type;
use berth_api::models::ExecConfig;
use berth_shim::client::ShimClient;
use berth_shim::config::{ShimConfig, ShimKind};
use serde_json::{json, Value};
use tokio::sync::watch;

use super::lifecycle::AttachStream;
use super::{conflict, internal, lock, user, Container, ContainerService};
use crate::error::EngineError;
use crate::Engine;

#[derive(Debug, Clone, Default)]
pub struct ExecRecord {
    pub id: String,
    pub container_id: String,
    pub config: ExecConfig,
    pub running: bool,
    /// None until the process has exited.
    pub exit_code: Option<i64>,
    pub pid: i64,
    pub started: bool,
}

pub struct Exec {
    record: Mutex<ExecRecord>,
    shim: Mutex<Option<Arc<ShimClient>>>,
    done: watch::Sender<bool>,
}

impl ContainerService {
    pub(crate) fn drop_execs_of(&self, container_id: &str) {
        lock(&self.execs).retain(|_, e| lock(&e.record).container_id != container_id);
    }

    /// The IDs of a container's execs (inspect's `ExecIDs`).
    pub fn exec_ids(&self, container_id: &str) -> Vec<String> {
        lock(&self.execs)
            .values()
            .filter_map(|e| {
                let r = lock(&e.record);
                (r.container_id == container_id && r.running).then(|| r.id.clone())
            })
            .collect()
    }

    fn exec(&self, id: &str) -> Result<Arc<Exec>, EngineError> {
        lock(&self.execs).get(id).cloned().ok_or_else(|| {
            EngineError::Other(
                berth_core::ErrorKind::NotFound,
                format!("No such exec instance: {id}"),
            )
        })
    }
}

fn exec_attrs(c: &Container, exec_id: &str) -> BTreeMap<String, String> {
    let rec = c.snapshot();
    let mut attrs =
        super::create::event_attributes(&rec, rec.config.image.as_deref().unwrap_or(""));
    attrs.insert("execID".into(), exec_id.to_owned());
    attrs
}

/// `POST /containers/{id}/exec`.
pub fn exec_create(
    engine: &Arc<Engine>,
    name: &str,
    config: ExecConfig,
) -> Result<String, EngineError> {
    let c = engine.containers.get(name)?;
    let rec = c.snapshot();
    if !rec.state.running() {
        return Err(conflict(format!("container {} is not running", rec.id)));
    }
    if rec.state.status == super::Status::Paused {
        return Err(conflict(format!(
            "container {} is paused, unpause the container before exec",
            rec.id
        )));
    }
    if config.cmd.as_ref().is_none_or(|c| c.is_empty()) {
        return Err(EngineError::InvalidParameter(
            "No exec command specified".into(),
        ));
    }
    let id = hex::encode(rand::random::<[u8; 32]>());
    let cmd = config.cmd.clone().unwrap_or_default().join(" ");
    let exec = Arc::new(Exec {
        record: Mutex::new(ExecRecord {
            id: id.clone(),
            container_id: rec.id.clone(),
            config,
            ..Default::default()
        }),
        shim: Mutex::new(None),
        done: watch::channel(false).0,
    });
    lock(&engine.containers.execs).insert(id.clone(), exec);
    engine.events.publish(
        event_type::CONTAINER,
        &format!("exec_create: {cmd}"),
        rec.id.clone(),
        exec_attrs(&c, &id),
    );
    Ok(id)
}

pub fn exec_inspect(engine: &Engine, id: &str) -> Result<ExecRecord, EngineError> {
    let e = engine.containers.exec(id)?;
    let r = lock(&e.record).clone();
    Ok(r)
}

pub async fn exec_resize(
    engine: &Engine,
    id: &str,
    height: u16,
    width: u16,
) -> Result<(), EngineError> {
    let e = engine.containers.exec(id)?;
    let shim = lock(&e.shim)
        .clone()
        .ok_or_else(|| conflict(format!("Exec {id} is not running")))?;
    shim.resize(height, width)
        .await
        .map_err(|e| internal(e.to_string()))
}

pub type ExitFuture = Pin<Box<dyn Future<Output = Option<i64>> + Send>>;

pub struct ExecStarted {
    pub tty: bool,
    /// The process's stdio (None when detached).
    pub stream: Option<AttachStream>,
    /// Resolves once the exit code is recorded (inspect shows it before the stream ends).
    pub exited: ExitFuture,
}

fn env_key(e: &str) -> &str {
    e.split_once('=').map_or(e, |(k, _)| k)
}

/// The exec's process spec: the container's, with the exec's own fields.
fn process_spec(c: &Container, cfg: &ExecConfig) -> Result<Value, EngineError> {
    let bundle = c.paths.bundle().join("config.json");
    let spec: Value = serde_json::from_slice(
        &std::fs::read(&bundle).map_err(|e| EngineError::io("read", &bundle, e))?,
    )
    .map_err(|e| internal(e.to_string()))?;
    let mut process = spec.get("process").cloned().unwrap_or_else(|| json!({}));
    let rec = c.snapshot();
    let mut env: Vec<String> = process["env"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for e in cfg.env.iter().flatten() {
        env.retain(|x| env_key(x) != env_key(e));
        env.push(e.clone());
    }
    let tty = cfg.tty.unwrap_or(false);
    if tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    process["env"] = json!(env);
    process["args"] = json!(cfg.cmd.clone().unwrap_or_default());
    process["terminal"] = json!(tty);
    if let Some(wd) = cfg.working_dir.as_deref().filter(|w| !w.is_empty()) {
        if !wd.starts_with('/') {
            return Err(EngineError::InvalidParameter(format!(
                "the working directory '{wd}' is invalid, it needs to be an absolute path"
            )));
        }
        process["cwd"] = json!(wd);
    }
    if let Some(u) = cfg.user.as_deref().filter(|u| !u.is_empty()) {
        let resolved = user::resolve(
            &c.paths.rootfs(),
            u,
            rec.host_config.group_add.as_deref().unwrap_or(&[]),
        )
        .map_err(internal)?;
        process["user"] = json!({"uid": resolved.uid, "gid": resolved.gid, "additionalGids": resolved.additional_gids});
    }
    if cfg.privileged.unwrap_or(false) {
        // All the daemon can grant, as for a privileged container: asking for one outside
        // its own bounding set (CAP_SYS_RESOURCE here) would fail the exec.
        let all = berth_runtime::all_grantable_capabilities();
        process["capabilities"] = json!({
            "bounding": all, "effective": all, "permitted": all, "inheritable": [], "ambient": []
        });
    }
    if let Some(size) = cfg.console_size.as_ref().filter(|s| s.len() == 2) {
        process["consoleSize"] = json!({"height": size[0], "width": size[1]});
    }
    let in_userns = spec["linux"]["namespaces"]
        .as_array()
        .is_some_and(|ns| ns.iter().any(|n| n["type"] == "user"));
    if in_userns {
        crate::userns::defer_exec_user(&mut process);
    }
    Ok(process)
}

/// `POST /exec/{id}/start`.
pub async fn exec_start(
    engine: &Arc<Engine>,
    id: &str,
    detach: bool,
) -> Result<ExecStarted, EngineError> {
    let exec = engine.containers.exec(id)?;
    let cfg = {
        let mut r = lock(&exec.record);
        if r.started {
            return Err(conflict(format!(
                "Error: Exec command {id} has already run"
            )));
        }
        r.started = true;
        r.config.clone()
    };
    let container_id = lock(&exec.record).container_id.clone();
    let c = engine.containers.get(&container_id)?;
    if !c.snapshot().state.running() {
        return Err(conflict(format!("container {container_id} is not running")));
    }
    let process = process_spec(&c, &cfg)?;
    let dir = c.paths.exec_dir(id);
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| EngineError::io("create directory", &dir, e))?;
    let process_path = dir.join("process.json");
    // Runtime state under the exec-root: no fsync needed (fsutil::replace_file).
    crate::fsutil::replace_file(
        &process_path,
        &serde_json::to_vec(&process).unwrap_or_default(),
        0o600,
    )
    .map_err(|e| EngineError::io("write", &process_path, e))?;
    let tty = cfg.tty.unwrap_or(false);
    let config = ShimConfig {
        id: id.to_owned(),
        runtime_root: engine.containers.settings.exec_root.join("runtime"),
        kind: ShimKind::Exec {
            container_id: container_id.clone(),
            process: process_path,
        },
        tty,
        open_stdin: cfg.attach_stdin.unwrap_or(false),
        stdin_once: true,
        console_size: cfg
            .console_size
            .as_ref()
            .filter(|s| s.len() == 2 && s[0] > 0)
            .map(|s| [s[0] as u16, s[1] as u16]),
        log: None,
        // The container's program, when the engine compiled it (see seccomp_programs).
        seccomp_program: Some(
            c.paths
                .bundle()
                .join(super::lifecycle::SECCOMP_PROGRAM_FILE),
        )
        .filter(|p| p.exists()),
    };
    let shim = match ShimClient::spawn(&engine.containers.settings.berth_exe, &dir, &config).await {
        Ok(s) => Arc::new(s),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            let msg = format!("OCI runtime exec failed: {e}: unknown");
            let mut r = lock(&exec.record);
            r.exit_code = Some(
                if msg.contains("not found") || msg.contains("no such file") {
                    127
                } else {
                    126
                },
            );
            drop(r);
            exec.done.send_replace(true);
            return Err(internal(msg));
        }
    };
    let stream = if detach {
        None
    } else {
        Some(
            shim.attach(
                cfg.attach_stdin.unwrap_or(false),
                cfg.attach_stdout.unwrap_or(true),
                cfg.attach_stderr.unwrap_or(true),
            )
            .await
            .map_err(|e| internal(e.to_string()))?,
        )
    };
    let pid = match shim.start().await {
        Ok(pid) => pid,
        Err(e) => {
            // The shim records the failure and exits; collect it and leave nothing behind.
            let code =
                match tokio::time::timeout(std::time::Duration::from_secs(5), shim.wait()).await {
                    Ok(Ok(s)) => i64::from(s.exit_code),
                    _ => 126,
                };
            let _ = std::fs::remove_dir_all(&dir);
            lock(&exec.record).exit_code = Some(code);
            exec.done.send_replace(true);
            return Err(internal(format!("OCI runtime exec failed: {e}: unknown")));
        }
    };
    {
        let mut r = lock(&exec.record);
        r.running = true;
        r.pid = i64::from(pid);
    }
    *lock(&exec.shim) = Some(shim.clone());
    let cmd = cfg.cmd.clone().unwrap_or_default().join(" ");
    engine.events.publish(
        event_type::CONTAINER,
        &format!("exec_start: {cmd}"),
        container_id.clone(),
        exec_attrs(&c, id),
    );
    let engine2 = engine.clone();
    let exec2 = exec.clone();
    let id2 = id.to_owned();
    tokio::spawn(async move {
        let code = match shim.wait().await {
            Ok(s) => i64::from(s.exit_code),
            Err(_) => 126,
        };
        {
            let mut r = lock(&exec2.record);
            r.running = false;
            r.exit_code = Some(code);
            r.pid = 0;
        }
        *lock(&exec2.shim) = None;
        let _ = std::fs::remove_dir_all(&dir);
        let mut attrs = exec_attrs(&c, &id2);
        attrs.insert("exitCode".into(), code.to_string());
        engine2
            .events
            .publish(event_type::CONTAINER, "exec_die", container_id, attrs);
        exec2.done.send_replace(true);
    });
    let mut rx = exec.done.subscribe();
    let exec3 = exec.clone();
    Ok(ExecStarted {
        tty,
        stream,
        exited: Box::pin(async move {
            let _ = rx.wait_for(|d| *d).await;
            let code = lock(&exec3.record).exit_code;
            code
        }),
    })
}
