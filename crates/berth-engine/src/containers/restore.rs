//! Daemon start: reconnect to the shims of containers that kept running (live restore),
//! record the exits that happened while the daemon was away (the shim's exit file, or 255
//! when even that is gone), and apply restart policies.

use std::sync::Arc;

use berth_api::models::RestartPolicyNameEnum;
use berth_shim::client::ShimClient;
use berth_shim::config::ExitStatus;

use super::lifecycle::{handle_exit, spawn_monitor, start_locked};
use super::record::Status;
use super::{lock, now_rfc3339};
use crate::Engine;

pub async fn restore(engine: &Arc<Engine>) {
    // Volume references live in memory: every container that exists holds its own again.
    for c in engine.containers.all() {
        super::mounts::reacquire(engine, &c.snapshot());
    }
    for c in engine.containers.all() {
        let rec = c.snapshot();
        let generation = *lock(&c.generation);
        match rec.state.status {
            Status::Running | Status::Paused | Status::Restarting => {
                let shim_dir = c.paths.shim();
                let shim = ShimClient::open(&shim_dir);
                if rec.state.status != Status::Restarting && shim.alive().await {
                    tracing::info!(container = %c.id, "reconnected to a live container");
                    let shim = Arc::new(shim);
                    *lock(&c.shim) = Some(shim.clone());
                    c.wait_tx.send_modify(|w| w.running = true);
                    super::mounts::remount(engine, &rec);
                    crate::networks::reattach(engine, &c).await;
                    spawn_monitor(engine.clone(), c.clone(), generation, shim);
                    continue;
                }
                let exit = ShimClient::read_exit(&shim_dir).unwrap_or_else(|| ExitStatus {
                    exit_code: 255,
                    oom_killed: false,
                    finished_at: now_rfc3339(),
                    error: Some("container process is gone".into()),
                });
                tracing::info!(container = %c.id, code = exit.exit_code, "container exited while the daemon was away");
                handle_exit(engine, &c, generation, exit).await;
            }
            Status::Removing | Status::Dead => {
                let _ = c.update_record(|r| r.state.status = Status::Dead);
            }
            Status::Created | Status::Exited => {
                let rootfs = c.paths.rootfs();
                if rootfs.exists() {
                    let _ = berth_snapshot::unmount(&rootfs);
                }
                super::ipc::teardown(&c.paths);
                // A sandbox left by a crash between start and exit bookkeeping.
                crate::networks::release(engine, &c).await;
                let policy = rec.host_config.restart_policy.as_ref().and_then(|p| p.name);
                let comes_back = rec.state.status == Status::Exited
                    && !rec.manually_stopped
                    && matches!(
                        policy,
                        Some(RestartPolicyNameEnum::ALWAYS)
                            | Some(RestartPolicyNameEnum::UNLESS_STOPPED)
                    );
                if comes_back {
                    let engine = engine.clone();
                    let c = c.clone();
                    tokio::spawn(async move {
                        let _op = c.op.lock().await;
                        if let Err(e) = start_locked(&engine, &c).await {
                            tracing::warn!(container = %c.id, error = %e, "restart on daemon start failed");
                        }
                    });
                }
            }
        }
    }
}
