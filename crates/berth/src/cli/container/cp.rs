//! `berth cp` / `berth container cp`: docker/cli's `cp.go`. Stat the container side with
//! `HEAD …/archive`, then stream a tar with `GET` (to a local path, or `-` for stdout) or
//! `PUT` (from a local path, or `-` for a tar on stdin). The local side follows
//! go-archive's copy rules (`cp_local`).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use berth_client::{reader_body, Client};
use clap::ArgAction;
use http::Method;
use tokio_util::io::SyncIoBridge;

use super::cp_local::{self, CopyInfo};
use super::{encode_id, values};
use crate::cli::query::Query;
use crate::cli::units::human_size;
use crate::cli::GlobalOptions;

/// Go `os.FileMode` bits the CLI looks at.
const MODE_DIR: u32 = 1 << 31;
const MODE_SYMLINK: u32 = 1 << 27;
const MODE_DEVICE: u32 = 1 << 26;
const MODE_IRREGULAR: u32 = 1 << 19;

#[derive(clap::Args, Debug)]
#[command(
    override_usage = "berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH"
)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short = 'a', long = "archive", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long = "follow-link", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub follow_link: bool,
    /// Suppress progress output during copy. Progress output is automatically suppressed if no terminal is attached
    #[arg(short = 'q', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = values::go_bool)]
    pub quiet: Option<bool>,
    #[arg(value_name = "SRC_PATH", allow_hyphen_values = true)]
    pub source: String,
    #[arg(value_name = "DEST_PATH", allow_hyphen_values = true)]
    pub destination: String,
}

/// A container path's stat, from `X-Docker-Container-Path-Stat`.
#[derive(Debug, Default, serde::Deserialize)]
struct PathStat {
    #[serde(default)]
    mode: u32,
    #[serde(default, rename = "linkTarget")]
    link_target: String,
}

/// docker's `splitCpArg`: `CONTAINER:PATH`, unless the argument is an explicit local path
/// (absolute, or starting with `.`).
fn split_cp_arg(arg: &str) -> (Option<&str>, &str) {
    if arg.starts_with('/') {
        return (None, arg);
    }
    match arg.split_once(':') {
        Some((c, p)) if !c.starts_with('.') => (Some(c), p),
        _ => (None, arg),
    }
}

pub async fn cp(g: &GlobalOptions, args: CpArgs) -> Result<ExitCode> {
    if args.source.is_empty() {
        bail!("source can not be empty");
    }
    if args.destination.is_empty() {
        bail!("destination can not be empty");
    }
    // Without -q, progress is shown only on a terminal.
    let quiet = args
        .quiet
        .unwrap_or_else(|| !std::io::stdout().is_terminal());
    let (src_ctr, src_path) = split_cp_arg(&args.source);
    let (dst_ctr, dst_path) = split_cp_arg(&args.destination);
    match (src_ctr, dst_ctr) {
        (Some(_), Some(_)) => bail!("copying between containers is not supported"),
        (None, None) => bail!("must specify at least one container source"),
        (Some(c), None) => copy_from_container(g, c, src_path, dst_path, &args, quiet).await,
        (None, Some(c)) => copy_to_container(g, c, src_path, dst_path, &args, quiet).await,
    }
}

fn archive_url(container: &str, path: &str) -> String {
    let mut q = Query::new();
    q.push("path", path);
    q.path(&format!("/containers/{}/archive", encode_id(container)))
}

fn stat_of(res: &berth_client::Response) -> Result<PathStat> {
    let header = res
        .headers()
        .get("X-Docker-Container-Path-Stat")
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(header)
        .context("unable to decode container path stat header")?;
    serde_json::from_slice(&raw).context("unable to decode container path stat header")
}

async fn stat_path(client: &mut Client, container: &str, path: &str) -> Result<PathStat> {
    let res = client
        .request(Method::HEAD, &archive_url(container, path), None)
        .await?;
    stat_of(&res)
}

/// A relative link target, joined with the link's directory.
fn link_target(path: &str, target: String) -> String {
    if target.starts_with('/') {
        return target;
    }
    let (parent, _) = berth_rootfs::path::split_dir_entry(path.as_bytes());
    let joined = [parent.as_slice(), b"/", target.as_bytes()].concat();
    String::from_utf8_lossy(&berth_rootfs::path::clean(&joined)).into_owned()
}

async fn copy_from_container(
    g: &GlobalOptions,
    container: &str,
    src_path: &str,
    dst: &str,
    args: &CpArgs,
    quiet: bool,
) -> Result<ExitCode> {
    let dst_path = if dst == "-" {
        dst.to_owned()
    } else {
        cp_local::resolve_local_path(dst)?
    };
    cp_local::validate_output_path(&dst_path)?;
    let mut client = g.client()?;
    let mut src_path = src_path.to_owned();
    let mut rebase = None;
    if args.follow_link {
        if let Ok(stat) = stat_path(&mut client, container, &src_path).await {
            if stat.mode & MODE_SYMLINK != 0 {
                let target = link_target(&src_path, stat.link_target);
                let (target, name) = cp_local::rebase_name(&src_path, &target);
                src_path = target;
                rebase = name;
            }
        }
    }
    let res = client
        .request(Method::GET, &archive_url(container, &src_path), None)
        .await?;
    if dst_path == "-" {
        berth_client::copy_body(res, &mut tokio::io::stdout()).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let stat = stat_of(&res)?;
    let src = CopyInfo {
        path: src_path,
        exists: true,
        is_dir: stat.mode & MODE_DIR != 0,
        rebase_name: rebase,
    };
    let copied = Arc::new(AtomicU64::new(0));
    let reader = Counting {
        inner: SyncIoBridge::new(berth_client::body_reader(res)),
        count: copied.clone(),
    };
    let to = dst_path.clone();
    tokio::task::spawn_blocking(move || cp_local::copy_to_local(reader, &src, &to)).await??;
    if !quiet {
        eprintln!(
            "Successfully copied {} to {dst_path}",
            human_size(copied.load(Ordering::Relaxed) as f64)
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn copy_to_container(
    g: &GlobalOptions,
    container: &str,
    src: &str,
    dst_path: &str,
    args: &CpArgs,
    quiet: bool,
) -> Result<ExitCode> {
    let src_path = if src == "-" {
        src.to_owned()
    } else {
        cp_local::resolve_local_path(src)?
    };
    let mut client = g.client()?;
    let mut dst = CopyInfo {
        path: dst_path.to_owned(),
        ..Default::default()
    };
    let mut stat = stat_path(&mut client, container, dst_path).await;
    if let Ok(st) = &stat {
        if st.mode & MODE_SYMLINK != 0 {
            dst.path = link_target(dst_path, st.link_target.clone());
            stat = stat_path(&mut client, container, &dst.path).await;
        }
    }
    // A missing destination is fine when its parent exists: the extraction decides.
    if let Ok(st) = &stat {
        let problem = if st.mode & MODE_DEVICE != 0 {
            Some("got a device")
        } else if st.mode & MODE_IRREGULAR != 0 {
            Some("got an irregular file")
        } else {
            None
        };
        if let Some(p) = problem {
            bail!(
                "destination \"{container}:{dst_path}\" must be a directory or a regular file: {p}"
            );
        }
        dst.exists = true;
        dst.is_dir = st.mode & MODE_DIR != 0;
    }

    let copied = Arc::new(AtomicU64::new(0));
    let (body, resolved, packer) = if src_path == "-" {
        if !dst.is_dir {
            bail!("destination \"{container}:{dst_path}\" must be a directory");
        }
        (reader_body(tokio::io::stdin()), dst.path.clone(), None)
    } else {
        let src = cp_local::copy_info_source_path(&src_path, args.follow_link)?;
        let (dst_dir, rename) = cp_local::prepare_archive_copy(&src, &dst)?;
        let (_, src_base) = berth_rootfs::path::split_dir_entry(src.path.as_bytes());
        let name = match (rename, &src.rebase_name) {
            (Some((_, new)), _) => new,
            (None, Some(r)) => r.clone(),
            (None, None) => String::from_utf8_lossy(&src_base).into_owned(),
        };
        let (pipe_in, pipe_out) = tokio::io::duplex(256 * 1024);
        let out = Counting {
            inner: SyncIoBridge::new(pipe_in),
            count: copied.clone(),
        };
        let packer = tokio::task::spawn_blocking(move || cp_local::pack_local(&src, &name, out));
        (reader_body(pipe_out), dst_dir, Some(packer))
    };
    let mut q = Query::new();
    q.push("path", &resolved);
    q.push("noOverwriteDirNonDir", "true");
    if args.archive {
        q.push("copyUIDGID", "true");
    }
    let url = q.path(&format!("/containers/{}/archive", encode_id(container)));
    let sent = client
        .request_streaming(Method::PUT, &url, body, "application/x-tar")
        .await;
    // The daemon's refusal explains a cut upload; otherwise a local failure does.
    let packed = match packer {
        Some(packer) => packer.await?,
        None => Ok(()),
    };
    match (sent, packed) {
        (Err(e @ berth_client::ClientError::Daemon { .. }), _) => return Err(e.into()),
        (_, Err(e)) => return Err(cp_local::go_io("archive", &src_path, &e)),
        (Err(e), Ok(())) => return Err(e.into()),
        (Ok(_), Ok(())) => {}
    }
    if !quiet {
        eprintln!(
            "Successfully copied {} to {container}:{}",
            human_size(copied.load(Ordering::Relaxed) as f64),
            dst.path
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Counts the bytes that pass (docker reports the size of the tar stream).
struct Counting<T> {
    inner: T,
    count: Arc<AtomicU64>,
}

impl<T: std::io::Read> std::io::Read for Counting<T> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<T: Write> Write for Counting<T> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp_args_split_like_docker() {
        assert_eq!(split_cp_arg("c:/etc"), (Some("c"), "/etc"));
        assert_eq!(split_cp_arg("/abs:x"), (None, "/abs:x"));
        assert_eq!(split_cp_arg("./file:name"), (None, "./file:name"));
        assert_eq!(split_cp_arg("file"), (None, "file"));
        assert_eq!(split_cp_arg("-"), (None, "-"));
        assert_eq!(split_cp_arg("c:"), (Some("c"), ""));
    }

    #[test]
    fn relative_link_targets_join_the_link_dir() {
        assert_eq!(link_target("/a/b/link", "../t".into()), "/a/t");
        assert_eq!(link_target("/a/link", "/abs".into()), "/abs");
    }
}
