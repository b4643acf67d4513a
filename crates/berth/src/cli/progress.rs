//! Printing a JSON progress stream (`jsonmessage`): `stream` text as is, `status` lines
//! with their `id`, and an `errorDetail`/`error` ending the command with exit 1.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use berth_client::JsonLines;
use serde_json::Value;

pub async fn print_stream(mut lines: JsonLines) -> Result<ExitCode> {
    let mut out = std::io::stdout();
    let tty = out.is_terminal();
    while let Some(msg) = lines.next::<Value>().await? {
        let is_progress = msg.get("progressDetail").is_some() || msg.get("progress").is_some();
        if is_progress {
            // As the docker CLI: progress bars only on a terminal, redrawn in place.
            if tty {
                let mut lock = out.lock();
                write!(
                    lock,
                    "\r\x1b[2K{} {}",
                    msg["status"].as_str().unwrap_or_default(),
                    msg["progress"].as_str().unwrap_or_default()
                )?;
                lock.flush()?;
            }
            continue;
        }
        if tty {
            write!(out.lock(), "\r\x1b[2K")?;
        }
        if let Some(err) = msg["errorDetail"]["message"]
            .as_str()
            .or_else(|| msg["error"].as_str())
        {
            out.flush()?;
            eprintln!("{err}");
            return Ok(ExitCode::from(1));
        }
        let mut lock = out.lock();
        if let Some(s) = msg["stream"].as_str() {
            write!(lock, "{s}")?;
        } else if let Some(status) = msg["status"].as_str() {
            match msg["id"].as_str() {
                Some(id) => writeln!(lock, "{id}: {status}")?,
                None => writeln!(lock, "{status}")?,
            }
        }
        lock.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}
