//! `berth daemon`: configuration, the data-root lock, listeners (unix, TCP with mutual
//! TLS), and the Docker Engine API routes over [`berth_engine::Engine`].
//!
//! This crate speaks HTTP and converts between the wire models of `berth-api` and the
//! engine; it holds no state of its own beyond what the listeners need.
// The inspect defaults are one large json! literal.
#![recursion_limit = "256"]

pub mod config;
pub mod http;
pub mod listeners;
pub mod lock;
pub mod router;
mod server;
mod tls;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use berth_engine::engine::ReloadableSettings;
use berth_engine::{Engine, EngineConfig};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

pub use config::{DaemonArgs, DaemonConfig};

use crate::listeners::Bound;
use crate::router::{AppState, DaemonFacts};

/// How long a stopping daemon waits for in-flight requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

fn init_logging(config: &DaemonConfig) {
    let level = match config.log_level.as_str() {
        "fatal" => "error",
        l => l,
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("BERTH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// The static init program built by build.rs from init/main.rs (`--init`).
const INIT_PROGRAM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/berth-init"));

/// Writes the embedded init program to `<exec-root>/berth-init` (0755, atomically), where
/// containers started with `--init` bind-mount it from.
fn install_init(exec_root: &std::path::Path) -> Result<std::path::PathBuf> {
    std::fs::create_dir_all(exec_root)
        .with_context(|| format!("create exec root {}", exec_root.display()))?;
    let path = exec_root.join("berth-init");
    berth_engine::fsutil::atomic_write(&path, INIT_PROGRAM, 0o755)
        .with_context(|| format!("write {}", path.display()))?;
    Ok(path)
}

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(args: DaemonArgs) -> Result<()> {
    let config = DaemonConfig::load(&args)?;
    init_logging(&config);

    std::fs::create_dir_all(&config.data_root)
        .with_context(|| format!("create data root {}", config.data_root.display()))?;
    let _lock = lock::DataRootLock::acquire(&config.data_root)?;
    let engine = Engine::open(EngineConfig {
        data_root: config.data_root.clone(),
        exec_root: config.exec_root.clone(),
        debug: config.debug,
        labels: config.labels.clone(),
        live_restore: config.live_restore,
        experimental: config.experimental,
        cgroup_parent: config.cgroup_parent.clone(),
        log_driver: config.log_driver.clone(),
        log_opts: config.log_opts.clone(),
        default_ipc_mode: config.default_ipc_mode.clone(),
        berth_exe: std::env::current_exe().context("locate the berth binary")?,
        init_path: Some(install_init(&config.exec_root)?),
        network: config.network.clone(),
        userns_remap: config.userns_remap.clone(),
    })?;
    lock::write_pidfile(&config.pidfile)?;

    let result = serve(config.clone(), Arc::new(engine));
    let _ = std::fs::remove_file(&config.pidfile);
    result
}

fn serve(config: DaemonConfig, engine: Arc<Engine>) -> Result<()> {
    let mut warnings = Vec::new();
    let bound = listeners::bind_all(&config, &mut warnings)?;
    let tls = tls::server_config(&config.tls)?;
    let socket_paths: Vec<_> = bound
        .iter()
        .filter_map(|b| match b {
            Bound::Unix(_, p) => Some(p.clone()),
            Bound::Tcp(..) => None,
        })
        .collect();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("berthd")
        .build()
        .context("start the async runtime")?;
    let result = runtime.block_on(async move {
        let (stop_tx, stop_rx) = watch::channel(false);
        let state = AppState {
            engine: engine.clone(),
            daemon: Arc::new(DaemonFacts { warnings }),
            shutdown: stop_rx.clone(),
            images: Arc::new(router::images::engine_backend::EngineImages(engine.clone())),
        };
        engine
            .networks
            .init(&engine)
            .await
            .context("set up networking")?;
        berth_engine::containers::restore(&engine).await;
        let app = router::app(state);
        let (conns, all_closed) = server::Connections::new(stop_rx.clone());
        let mut loops = Vec::new();
        for b in bound {
            let listener = match b {
                Bound::Unix(l, path) => {
                    tracing::info!("API listen on {}", path.display());
                    server::Listener::Unix(tokio::net::UnixListener::from_std(l)?)
                }
                Bound::Tcp(l, addr) => {
                    tracing::info!("API listen on {addr}");
                    l.set_nonblocking(true)?;
                    let acceptor = tls.clone().map(tokio_rustls::TlsAcceptor::from);
                    server::Listener::Tcp(tokio::net::TcpListener::from_std(l)?, acceptor)
                }
            };
            loops.push(tokio::spawn(server::accept_loop(
                listener,
                app.clone(),
                conns.clone(),
            )));
        }
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            "daemon has completed initialization"
        );
        wait_for_stop(&config, &engine).await?;
        tracing::info!("processing signal: shutting down");
        let _ = stop_tx.send(true);
        for l in loops {
            let _ = l.await;
        }
        drop((app, conns));
        server::drain(all_closed, SHUTDOWN_GRACE).await;
        engine.networks.shutdown(&engine);
        anyhow::Ok(())
    });
    runtime.shutdown_timeout(Duration::from_secs(1));
    for p in socket_paths {
        let _ = std::fs::remove_file(p);
    }
    tracing::info!("daemon shutdown complete");
    result
}

/// Returns on SIGTERM or SIGINT; reloads the configuration file on SIGHUP.
async fn wait_for_stop(config: &DaemonConfig, engine: &Engine) -> Result<()> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
            _ = hup.recv() => reload(config, engine),
        }
    }
}

fn reload(config: &DaemonConfig, engine: &Engine) {
    let current = engine.settings();
    let (debug, labels) = match &config.config_file {
        Some(path) => match config::reload_file(path) {
            Ok(values) => values,
            Err(e) => {
                tracing::error!(error = %e, "reload failed; configuration unchanged");
                return;
            }
        },
        None => (None, None),
    };
    engine.reload(ReloadableSettings {
        debug: debug.unwrap_or(current.debug),
        labels: labels.unwrap_or(current.labels),
    });
    tracing::info!("configuration reloaded");
}
