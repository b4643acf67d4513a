//! The server handle and what its UDP and TCP tasks share.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::answer::{self, Outcome, Query};
use crate::forward::{self, Transport};
use crate::{Resolver, Upstreams};

/// Bounds that keep one container's DNS traffic from growing memory or tasks without limit.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Queries being forwarded upstream at once (UDP and TCP together); beyond it queries are
    /// answered SERVFAIL at once, as Docker does.
    pub max_in_flight_forwards: usize,
    /// Open TCP client connections; further connections are closed on accept.
    pub max_tcp_connections: usize,
    /// A TCP client connection that sends nothing for this long is closed.
    pub tcp_idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_in_flight_forwards: 100,
            max_tcp_connections: 100,
            tcp_idle_timeout: Duration::from_secs(10),
        }
    }
}

/// State shared by the tasks of one server.
pub(crate) struct Shared {
    pub asker: String,
    pub resolver: Arc<dyn Resolver>,
    pub upstreams: Arc<Upstreams>,
    pub limits: Limits,
    forwards: Arc<Semaphore>,
    pub cancel: CancellationToken,
    pub tracker: TaskTracker,
}

impl Shared {
    /// What to do with a raw query.
    pub fn decide(&self, raw: &[u8]) -> Outcome {
        answer::decide(raw, &self.asker, self.resolver.as_ref())
    }

    /// A forwarding slot, or `None` when [`Limits::max_in_flight_forwards`] are in use.
    pub fn forward_permit(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.forwards).try_acquire_owned().ok()
    }

    /// The upstream answer to `query`, or SERVFAIL; `None` only if not even that encodes.
    pub async fn forwarded_reply(
        &self,
        raw: &[u8],
        query: &Query,
        transport: Transport,
    ) -> Option<Vec<u8>> {
        match forward::forward(&self.upstreams, raw, &query.message, transport).await {
            Some(answer) => Some(answer),
            None => self.servfail(query, transport),
        }
    }

    /// SERVFAIL for `query`, encoded for `transport`.
    pub fn servfail(&self, query: &Query, transport: Transport) -> Option<Vec<u8>> {
        let reply = answer::error_reply(&query.message, hickory_proto::op::ResponseCode::ServFail);
        answer::encode(reply, transport_limit(transport))
    }
}

/// The largest reply `transport` carries.
pub(crate) fn transport_limit(transport: Transport) -> usize {
    match transport {
        Transport::Udp { client_limit } => client_limit,
        Transport::Tcp => usize::from(u16::MAX),
    }
}

/// A running DNS server for one container. Dropping it (or [`DnsServer::stop`]) stops its tasks,
/// which close its sockets as they end; [`DnsServer::shutdown`] also waits for that.
pub struct DnsServer {
    cancel: CancellationToken,
    tracker: TaskTracker,
    udp_addr: SocketAddr,
    tcp_addr: SocketAddr,
}

impl DnsServer {
    /// Serves `asker`'s queries on already bound sockets (the engine binds 127.0.0.11:53 inside
    /// the container's network namespace), on the current tokio runtime, with [`Limits::default`].
    pub fn start(
        asker: String,
        udp: std::net::UdpSocket,
        tcp: std::net::TcpListener,
        resolver: Arc<dyn Resolver>,
        upstreams: Arc<Upstreams>,
    ) -> std::io::Result<DnsServer> {
        Self::start_with_limits(asker, udp, tcp, resolver, upstreams, Limits::default())
    }

    /// [`DnsServer::start`] with explicit bounds.
    pub fn start_with_limits(
        asker: String,
        udp: std::net::UdpSocket,
        tcp: std::net::TcpListener,
        resolver: Arc<dyn Resolver>,
        upstreams: Arc<Upstreams>,
        limits: Limits,
    ) -> std::io::Result<DnsServer> {
        tokio::runtime::Handle::try_current().map_err(std::io::Error::other)?;
        udp.set_nonblocking(true)?;
        tcp.set_nonblocking(true)?;
        let udp = tokio::net::UdpSocket::from_std(udp)?;
        let tcp = tokio::net::TcpListener::from_std(tcp)?;
        let udp_addr = udp.local_addr()?;
        let tcp_addr = tcp.local_addr()?;
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let shared = Arc::new(Shared {
            asker,
            resolver,
            upstreams,
            limits,
            forwards: Arc::new(Semaphore::new(limits.max_in_flight_forwards)),
            cancel: cancel.clone(),
            tracker: tracker.clone(),
        });
        tracing::debug!(asker = %shared.asker, %udp_addr, %tcp_addr, "embedded DNS started");
        tracker.spawn(crate::udp::serve(Arc::clone(&shared), udp));
        tracker.spawn(crate::tcp::serve(shared, tcp));
        Ok(DnsServer {
            cancel,
            tracker,
            udp_addr,
            tcp_addr,
        })
    }

    /// The address the UDP socket is bound to.
    pub fn udp_local_addr(&self) -> SocketAddr {
        self.udp_addr
    }

    /// The address the TCP listener is bound to.
    pub fn tcp_local_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    /// Stops serving; the sockets close as soon as the tasks notice (at their next poll).
    pub fn stop(self) {
        drop(self);
    }

    /// Stops serving and waits until every task has ended and every socket is closed.
    pub async fn shutdown(self) {
        let tracker = self.tracker.clone();
        drop(self);
        tracker.close();
        tracker.wait().await;
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl std::fmt::Debug for DnsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnsServer")
            .field("udp_addr", &self.udp_addr)
            .field("tcp_addr", &self.tcp_addr)
            .field("stopped", &self.cancel.is_cancelled())
            .finish()
    }
}
