//! HEALTHCHECK at run time: the probe runs as an exec every interval; the status, the
//! failing streak and the last five results go in `State.Health`, as Docker keeps them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_api::models::{ExecConfig, HealthConfig};
use tokio::io::AsyncReadExt;

use super::record::HealthLogEntry;
use super::{lock, now_rfc3339, Container};
use crate::Engine;

const MAX_OUTPUT: usize = 4096;
const KEEP_RESULTS: usize = 5;

fn dur(ns: Option<i64>, default: Duration) -> Duration {
    match ns {
        Some(n) if n > 0 => Duration::from_nanos(n as u64),
        _ => default,
    }
}

fn probe_cmd(test: &[String]) -> Option<Vec<String>> {
    match test.first().map(String::as_str) {
        Some("CMD") => Some(test[1..].to_vec()),
        Some("CMD-SHELL") => Some(vec!["/bin/sh".into(), "-c".into(), test[1..].join(" ")]),
        _ => None,
    }
}

pub(crate) fn spawn(engine: Arc<Engine>, c: Arc<Container>, generation: u64) {
    let rec = c.snapshot();
    let Some(h) = rec.config.healthcheck.clone() else {
        return;
    };
    if !super::lifecycle::health_enabled(&h) {
        return;
    }
    let Some(cmd) = probe_cmd(h.test.as_deref().unwrap_or(&[])) else {
        return;
    };
    tokio::spawn(async move {
        let started = Instant::now();
        let interval = dur(h.interval, Duration::from_secs(30));
        loop {
            tokio::time::sleep(interval).await;
            if *lock(&c.generation) != generation || !c.snapshot().state.running() {
                return;
            }
            if c.snapshot().state.status == super::Status::Paused {
                continue;
            }
            let entry = run_probe(&engine, &c, &h, cmd.clone()).await;
            record(&engine, &c, &h, started, entry);
        }
    });
}

async fn run_probe(
    engine: &Arc<Engine>,
    c: &Container,
    h: &HealthConfig,
    cmd: Vec<String>,
) -> HealthLogEntry {
    let start = now_rfc3339();
    let timeout = dur(h.timeout, Duration::from_secs(30));
    let failed = |output: String, code: i64| HealthLogEntry {
        start: start.clone(),
        end: now_rfc3339(),
        exit_code: code,
        output,
    };
    let cfg = ExecConfig {
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        cmd: Some(cmd),
        ..Default::default()
    };
    let id = match super::exec_create(engine, &c.id, cfg) {
        Ok(id) => id,
        Err(e) => return failed(e.to_string(), -1),
    };
    let started = match super::exec_start(engine, &id, false).await {
        Ok(s) => s,
        Err(e) => return failed(e.to_string(), -1),
    };
    let mut output = Vec::new();
    let collect = async {
        if let Some(mut stream) = started.stream {
            // Demultiplex the 8-byte framed stream, keeping the first 4 KiB.
            let mut header = [0u8; 8];
            while stream.read_exact(&mut header).await.is_ok() {
                let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
                let mut buf = vec![0u8; len];
                if stream.read_exact(&mut buf).await.is_err() {
                    break;
                }
                let room = MAX_OUTPUT.saturating_sub(output.len());
                output.extend_from_slice(&buf[..len.min(room)]);
            }
        }
        started.exited.await
    };
    match tokio::time::timeout(timeout, collect).await {
        Ok(code) => HealthLogEntry {
            start,
            end: now_rfc3339(),
            exit_code: code.unwrap_or(-1),
            output: String::from_utf8_lossy(&output).into_owned(),
        },
        Err(_) => failed(
            format!("Health check exceeded timeout ({}s)", timeout.as_secs_f64()),
            -1,
        ),
    }
}

fn record(
    engine: &Engine,
    c: &Container,
    h: &HealthConfig,
    started: Instant,
    entry: HealthLogEntry,
) {
    let retries = h.retries.filter(|r| *r > 0).unwrap_or(3);
    let start_period = dur(h.start_period, Duration::ZERO);
    let ok = entry.exit_code == 0;
    let changed = c
        .update_record(|r| {
            let health = r.state.health.get_or_insert_with(Default::default);
            let before = health.status.clone();
            if ok {
                health.failing_streak = 0;
                health.status = "healthy".into();
            } else if started.elapsed() >= start_period || health.status != "starting" {
                health.failing_streak += 1;
                if health.failing_streak >= retries {
                    health.status = "unhealthy".into();
                }
            }
            health.log.push(entry);
            let excess = health.log.len().saturating_sub(KEEP_RESULTS);
            health.log.drain(..excess);
            (before != health.status).then(|| health.status.clone())
        })
        .ok()
        .flatten();
    if let Some(status) = changed {
        let rec = c.snapshot();
        let attrs =
            super::create::event_attributes(&rec, rec.config.image.as_deref().unwrap_or(""));
        engine.events.publish(
            berth_api::events::event_type::CONTAINER,
            &format!("health_status: {status}"),
            c.id.clone(),
            attrs,
        );
    }
}
