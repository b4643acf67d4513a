//! `GET /containers/{id}/logs`: entries from the log the shim writes, following until
//! the container stops when asked.

use std::sync::Arc;

use berth_core::ErrorKind;
use futures_util::Stream;

use crate::error::EngineError;
use crate::Engine;

pub use berth_logs::{LogEntry, ReadOptions, Stream as LogStream};

pub fn logs(
    engine: &Arc<Engine>,
    name: &str,
    mut opts: ReadOptions,
) -> Result<impl Stream<Item = std::io::Result<LogEntry>> + Send + 'static, EngineError> {
    let c = engine.containers.get(name)?;
    let rec = c.snapshot();
    let driver = rec
        .host_config
        .log_config
        .as_ref()
        .and_then(|l| l.typ.clone())
        .unwrap_or_else(|| "json-file".into());
    if driver == "none" || rec.log_path.is_empty() {
        return Err(EngineError::Other(
            ErrorKind::NotImplemented,
            "configured logging driver does not support reading".to_owned(),
        ));
    }
    let mut rx = c.subscribe_wait();
    let running = rec.state.running() || rec.state.status == super::Status::Restarting;
    if !running {
        opts.follow = false;
    }
    let seen = rx.borrow().exits;
    let stop = async move {
        let _ = rx
            .wait_for(|w| w.exits > seen || w.removed || !w.running)
            .await;
    };
    Ok(berth_logs::read_log(
        &driver,
        std::path::Path::new(&rec.log_path),
        opts,
        stop,
    ))
}
