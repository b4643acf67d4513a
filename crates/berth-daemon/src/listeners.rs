//! Binding the `-H` addresses: unix sockets (mode 0660, the daemon's group, a stale socket
//! from a killed daemon removed) and TCP (TLS required unless explicitly refused).

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use nix::unistd::{Gid, Group};

use crate::config::{DaemonConfig, HostAddr, TlsMode};

pub enum Bound {
    Unix(UnixListener, PathBuf),
    Tcp(std::net::TcpListener, String),
}

/// The group that owns unix sockets: the configured one, or root's when the default group
/// does not exist (as dockerd does with `docker`).
pub fn socket_gid(config: &DaemonConfig) -> Result<Gid> {
    match Group::from_name(&config.group).context("look up socket group")? {
        Some(g) => Ok(g.gid),
        None if !config.group_explicit => {
            tracing::warn!(
                group = %config.group,
                "group not found; the API socket is owned by root's group (create the group to grant access)"
            );
            Ok(Gid::from_raw(0))
        }
        None => bail!("group {:?} not found", config.group),
    }
}

pub fn bind_all(config: &DaemonConfig, warnings: &mut Vec<String>) -> Result<Vec<Bound>> {
    let gid = socket_gid(config)?;
    let mut bound = Vec::new();
    for spec in &config.hosts {
        match HostAddr::parse(spec)? {
            HostAddr::Unix(path) => {
                bound.push(Bound::Unix(bind_unix(&path, gid)?, path));
            }
            HostAddr::Tcp(addr) => {
                match &config.tls {
                    TlsMode::Off { plain_tcp_allowed: false } => bail!(
                        "refusing to listen on tcp://{addr} without TLS: use --tlsverify with --tlscacert, --tlscert and --tlskey, or pass --tls=false to accept unauthenticated connections (anyone who reaches the port gets root on this host)"
                    ),
                    TlsMode::Off { plain_tcp_allowed: true } => {
                        let w = format!("WARNING: API is accessible on http://{addr} without encryption.\n         Access to the remote API is equivalent to root access on the host.");
                        tracing::warn!("{w}");
                        warnings.push(w);
                    }
                    TlsMode::ServerOnly { .. } => {
                        let w = format!("WARNING: API is accessible on https://{addr} without TLS client verification.\n         Anyone who reaches it has root access on the host; use --tlsverify.");
                        tracing::warn!("{w}");
                        warnings.push(w);
                    }
                    TlsMode::Mutual { .. } => {}
                }
                let listener = std::net::TcpListener::bind(&addr)
                    .with_context(|| format!("listen on tcp://{addr}"))?;
                bound.push(Bound::Tcp(listener, addr));
            }
        }
    }
    Ok(bound)
}

fn bind_unix(path: &Path, gid: Gid) -> Result<UnixListener> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if UnixStream::connect(path).is_ok() {
                bail!("another daemon is already listening on {}", path.display());
            }
            // Left behind by a daemon that was killed: nobody answers on it.
            fs::remove_file(path)
                .with_context(|| format!("remove stale socket {}", path.display()))?;
        }
        Ok(_) => bail!("{} exists and is not a socket", path.display()),
        Err(_) => {}
    }
    let listener =
        UnixListener::bind(path).with_context(|| format!("listen on unix://{}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o660))
        .with_context(|| format!("chmod {}", path.display()))?;
    nix::unistd::chown(path, None, Some(gid))
        .with_context(|| format!("chown {}", path.display()))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}
