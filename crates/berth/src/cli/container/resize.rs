//! Keeping the container's TTY the size of the local terminal: an initial resize
//! (retried, since the process may not be up yet) and one per SIGWINCH, as docker's
//! `MonitorTtySize` does.

use std::time::Duration;

use berth_client::{Client, ClientError};
use http::Method;
use tokio::signal::unix::{signal, SignalKind};
use tokio::task::JoinHandle;

use super::encode_id;
use super::tty;

/// Whose TTY: a container's or an exec's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Container,
    Exec,
}

fn resize_path(target: Target, id: &str, height: u16, width: u16) -> String {
    let base = match target {
        Target::Container => "containers",
        Target::Exec => "exec",
    };
    format!("/{base}/{}/resize?h={height}&w={width}", encode_id(id))
}

/// `POST …/resize`; nothing to do for an unknown (0×0) size.
pub async fn resize_to(
    client: &mut Client,
    target: Target,
    id: &str,
    height: u16,
    width: u16,
) -> Result<(), ClientError> {
    if height == 0 && width == 0 {
        return Ok(());
    }
    client
        .request(Method::POST, &resize_path(target, id, height, width), None)
        .await
        .map(drop)
}

async fn resize(client: &mut Client, target: Target, id: &str) -> Result<(), ClientError> {
    let (h, w) = tty::size();
    resize_to(client, target, id, h, w).await
}

/// Sends the current size now (retrying up to 10 times) and on every window change.
pub fn monitor(client: &Client, target: Target, id: &str) -> JoinHandle<()> {
    let mut client = client.clone();
    let id = id.to_owned();
    tokio::spawn(async move {
        let winch = signal(SignalKind::window_change());
        if resize(&mut client, target, &id).await.is_err() {
            let mut ok = false;
            for retry in 0..10u64 {
                tokio::time::sleep(Duration::from_millis((retry + 1) * 10)).await;
                if resize(&mut client, target, &id).await.is_ok() {
                    ok = true;
                    break;
                }
            }
            if !ok {
                eprintln!("failed to resize tty, using default size");
            }
        }
        let Ok(mut winch) = winch else { return };
        while winch.recv().await.is_some() {
            let _ = resize(&mut client, target, &id).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_paths() {
        assert_eq!(
            resize_path(Target::Container, "abc", 24, 80),
            "/containers/abc/resize?h=24&w=80"
        );
        assert_eq!(
            resize_path(Target::Exec, "e1", 1, 2),
            "/exec/e1/resize?h=1&w=2"
        );
    }
}
