//! `export [-o FILE] CONTAINER`: the container's filesystem as a tar, streamed to stdout
//! (never to a terminal) or to a file written aside and renamed into place when complete.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use http::Method;

use super::encode_id;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long)]
    pub output: Option<String>,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

pub async fn export(g: &GlobalOptions, args: ExportArgs) -> Result<ExitCode> {
    if args.output.is_none() && std::io::stdout().is_terminal() {
        bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    let mut client = g.client()?;
    let res = client
        .request(
            Method::GET,
            &format!("/containers/{}/export", encode_id(&args.container)),
            None,
        )
        .await?;
    let Some(path) = &args.output else {
        berth_client::copy_body(res, &mut tokio::io::stdout()).await?;
        return Ok(ExitCode::SUCCESS);
    };
    let tmp = format!("{path}.berth-tmp");
    let mut f = tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .await
        .with_context(|| format!("failed to export container: create {tmp}"))?;
    match berth_client::copy_body(res, &mut f).await {
        Ok(_) => {
            f.sync_all().await?;
            tokio::fs::rename(&tmp, path).await?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            Err(e.into())
        }
    }
}
