//! Printing a JSON progress stream (`jsonmessage`): `stream` text as is, `status` lines
//! with their `id`, and an `errorDetail`/`error` ending the command with exit 1.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use berth_client::JsonLines;
use serde_json::Value;

pub async fn print_stream(mut lines: JsonLines) -> Result<ExitCode> {
    let mut out = std::io::stdout();
    while let Some(msg) = lines.next::<Value>().await? {
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
