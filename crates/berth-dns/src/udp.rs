//! The UDP side: one receive loop answering local names inline and spawning a task per
//! forwarded query (bounded by [`crate::Limits::max_in_flight_forwards`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;

use crate::answer::{self, Outcome};
use crate::forward::Transport;
use crate::server::Shared;

/// Pause after a failed receive, so a persistent socket error cannot spin a core.
const RECV_ERROR_PAUSE: Duration = Duration::from_millis(5);

pub(crate) async fn serve(shared: Arc<Shared>, socket: UdpSocket) {
    let socket = Arc::new(socket);
    let mut buf = vec![0u8; usize::from(u16::MAX)];
    loop {
        let received = tokio::select! {
            () = shared.cancel.cancelled() => return,
            received = socket.recv_from(&mut buf) => received,
        };
        let (len, peer) = match received {
            Ok(received) => received,
            Err(err) => {
                // E.g. ECONNREFUSED left over from a reply to a client that went away.
                tracing::debug!("embedded DNS UDP receive: {err}");
                tokio::time::sleep(RECV_ERROR_PAUSE).await;
                continue;
            }
        };
        let raw = &buf[..len];
        match shared.decide(raw) {
            Outcome::Ignore => {}
            Outcome::Reply { reply, udp_limit } => {
                if let Some(bytes) = answer::encode(reply, udp_limit) {
                    send(&socket, &bytes, peer).await;
                }
            }
            Outcome::Forward(query) => {
                let transport = Transport::Udp {
                    client_limit: query.udp_limit,
                };
                let Some(permit) = shared.forward_permit() else {
                    tracing::debug!(asker = %shared.asker, "too many DNS queries in flight");
                    if let Some(bytes) = shared.servfail(&query, transport) {
                        send(&socket, &bytes, peer).await;
                    }
                    continue;
                };
                let raw = raw.to_vec();
                let task_shared = Arc::clone(&shared);
                let socket = Arc::clone(&socket);
                shared.tracker.spawn(async move {
                    let _permit = permit;
                    tokio::select! {
                        () = task_shared.cancel.cancelled() => {}
                        reply = task_shared.forwarded_reply(&raw, &query, transport) => {
                            if let Some(bytes) = reply {
                                send(&socket, &bytes, peer).await;
                            }
                        }
                    }
                });
            }
        }
    }
}

async fn send(socket: &UdpSocket, bytes: &[u8], peer: SocketAddr) {
    if let Err(err) = socket.send_to(bytes, peer).await {
        tracing::debug!(%peer, "embedded DNS UDP send: {err}");
    }
}
