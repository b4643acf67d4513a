//! The TCP side: RFC 1035 length-prefixed messages, several queries per connection, answered
//! in order, with an idle timeout and a bound on open connections.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::answer::{self, Outcome};
use crate::forward::Transport;
use crate::server::{transport_limit, Shared};

/// Pause after a failed accept (e.g. EMFILE), so it cannot spin a core.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

pub(crate) async fn serve(shared: Arc<Shared>, listener: TcpListener) {
    let connections = Arc::new(Semaphore::new(shared.limits.max_tcp_connections));
    loop {
        let accepted = tokio::select! {
            () = shared.cancel.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(err) => {
                tracing::debug!("embedded DNS TCP accept: {err}");
                tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tracing::debug!(asker = %shared.asker, "too many DNS TCP connections");
            continue;
        };
        let task_shared = Arc::clone(&shared);
        shared.tracker.spawn(async move {
            let _permit = permit;
            tokio::select! {
                () = task_shared.cancel.cancelled() => {}
                () = connection(&task_shared, stream) => {}
            }
        });
    }
}

/// Serves one client connection until it closes, idles, or sends something unframeable.
async fn connection(shared: &Shared, mut stream: TcpStream) {
    let idle = shared.limits.tcp_idle_timeout;
    loop {
        let len = match tokio::time::timeout(idle, stream.read_u16()).await {
            Ok(Ok(len)) if len > 0 => len,
            _ => return,
        };
        let mut raw = vec![0u8; usize::from(len)];
        if !matches!(
            tokio::time::timeout(idle, stream.read_exact(&mut raw)).await,
            Ok(Ok(_))
        ) {
            return;
        }
        let Some(reply) = reply(shared, &raw).await else {
            continue;
        };
        let Ok(reply_len) = u16::try_from(reply.len()) else {
            continue;
        };
        let mut frame = Vec::with_capacity(reply.len() + 2);
        frame.extend_from_slice(&reply_len.to_be_bytes());
        frame.extend_from_slice(&reply);
        if !matches!(
            tokio::time::timeout(idle, stream.write_all(&frame)).await,
            Ok(Ok(()))
        ) {
            return;
        }
    }
}

async fn reply(shared: &Shared, raw: &[u8]) -> Option<Vec<u8>> {
    match shared.decide(raw) {
        Outcome::Ignore => None,
        Outcome::Reply { reply, .. } => answer::encode(reply, transport_limit(Transport::Tcp)),
        Outcome::Forward(query) => match shared.forward_permit() {
            Some(_permit) => shared.forwarded_reply(raw, &query, Transport::Tcp).await,
            None => shared.servfail(&query, Transport::Tcp),
        },
    }
}
