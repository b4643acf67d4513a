//! Relaying a query to the upstream servers and their answer back, byte for byte.
//!
//! Each attempt uses a fresh socket (random source port) and a random transaction ID, and only
//! an answer with that ID and the same question is accepted, so off-path spoofing is as hard as
//! against a stub resolver. The client's own ID is put back into the relayed answer.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use hickory_proto::op::{Header, Message, MessageType, Query};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{timeout_at, Instant};

use crate::upstreams::{Upstreams, MAX_UPSTREAMS_TRIED};

/// Header flag byte 2: TC bit.
const TC_BIT: u8 = 0x02;
/// RCODE values after which the next server is tried (as Docker does).
const RCODE_SERVFAIL: u8 = 2;
const RCODE_REFUSED: u8 = 5;

/// How the client asked, which decides how upstream is asked.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Transport {
    /// UDP; a truncated upstream answer is retried over TCP and used if it fits `client_limit`.
    Udp {
        client_limit: usize,
    },
    Tcp,
}

#[derive(Debug, thiserror::Error)]
enum ExchangeError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("timed out")]
    Timeout,
    #[error("answer does not match the query")]
    Mismatch,
}

/// The first usable upstream answer to `raw` (whose parsed form is `query`), with the client's
/// ID; `None` when no server gave one in time. SERVFAIL and REFUSED answers make the next server
/// be tried, and are relayed only when no server answers better.
pub(crate) async fn forward(
    upstreams: &Upstreams,
    raw: &[u8],
    query: &Message,
    transport: Transport,
) -> Option<Vec<u8>> {
    if raw.len() < 12 || raw.len() > usize::from(u16::MAX) {
        return None;
    }
    let servers = upstreams.servers();
    let mut fallback = None;
    for &server in servers.iter().take(MAX_UPSTREAMS_TRIED) {
        let upstream_id: u16 = rand::random();
        let mut upstream_query = raw.to_vec();
        upstream_query[..2].copy_from_slice(&upstream_id.to_be_bytes());
        let deadline = Instant::now() + upstreams.timeout();
        let exchange = Exchange {
            server,
            query: &upstream_query,
            id: upstream_id,
            question: &query.queries,
            deadline,
        };
        let result = match transport {
            Transport::Udp { client_limit } => exchange.udp_then_tcp(client_limit).await,
            Transport::Tcp => exchange.tcp().await,
        };
        let mut answer = match result {
            Ok(answer) => answer,
            Err(err) => {
                tracing::debug!(%server, "upstream DNS: {err}");
                continue;
            }
        };
        answer[..2].copy_from_slice(&query.metadata.id.to_be_bytes());
        let rcode = answer[3] & 0x0f;
        if rcode == RCODE_SERVFAIL || rcode == RCODE_REFUSED {
            tracing::debug!(%server, rcode, "upstream DNS failed the query, trying the next");
            fallback = Some(answer);
            continue;
        }
        return Some(answer);
    }
    fallback
}

/// One query to one server, all within `deadline`.
struct Exchange<'a> {
    server: SocketAddr,
    query: &'a [u8],
    id: u16,
    question: &'a [Query],
    deadline: Instant,
}

impl Exchange<'_> {
    async fn udp_then_tcp(&self, client_limit: usize) -> Result<Vec<u8>, ExchangeError> {
        let answer = self.udp().await?;
        if answer[2] & TC_BIT == 0 {
            return Ok(answer);
        }
        match self.tcp().await {
            Ok(full) if full.len() <= client_limit => Ok(full),
            // Too big for the client's UDP buffer (or TCP failed): relay the truncated answer
            // and let the client come back over TCP.
            Ok(_) => Ok(answer),
            Err(err) => {
                tracing::debug!(server = %self.server, "TCP retry of truncated answer: {err}");
                Ok(answer)
            }
        }
    }

    async fn udp(&self) -> Result<Vec<u8>, ExchangeError> {
        let local: SocketAddr = if self.server.is_ipv4() {
            (Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).await?;
        // Connected: the kernel drops datagrams from any other address, and an ICMP
        // unreachable surfaces as an error instead of a silent wait.
        socket.connect(self.server).await?;
        self.within_deadline(socket.send(self.query)).await??;
        let mut buf = vec![0u8; usize::from(u16::MAX)];
        loop {
            let len = self.within_deadline(socket.recv(&mut buf)).await??;
            if self.is_answer(&buf[..len]) {
                buf.truncate(len);
                return Ok(buf);
            }
        }
    }

    async fn tcp(&self) -> Result<Vec<u8>, ExchangeError> {
        let mut stream = self
            .within_deadline(TcpStream::connect(self.server))
            .await??;
        let len = u16::try_from(self.query.len()).map_err(|_| ExchangeError::Mismatch)?;
        let mut frame = Vec::with_capacity(self.query.len() + 2);
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(self.query);
        self.within_deadline(stream.write_all(&frame)).await??;
        let len = self.within_deadline(stream.read_u16()).await??;
        let mut answer = vec![0u8; usize::from(len)];
        self.within_deadline(stream.read_exact(&mut answer))
            .await??;
        if self.is_answer(&answer) {
            Ok(answer)
        } else {
            Err(ExchangeError::Mismatch)
        }
    }

    async fn within_deadline<F: std::future::Future>(
        &self,
        work: F,
    ) -> Result<F::Output, ExchangeError> {
        timeout_at(self.deadline, work)
            .await
            .map_err(|_| ExchangeError::Timeout)
    }

    /// Whether `bytes` is a response with our ID to our question. Only the header and question
    /// are decoded, so answers with records this library cannot parse are still relayed.
    fn is_answer(&self, bytes: &[u8]) -> bool {
        let mut decoder = BinDecoder::new(bytes);
        let Ok(header) = Header::read(&mut decoder) else {
            return false;
        };
        if header.metadata.id != self.id
            || header.metadata.message_type != MessageType::Response
            || usize::from(header.counts.queries) != self.question.len()
        {
            return false;
        }
        Message::read_queries(&mut decoder, self.question.len())
            .is_ok_and(|question| question == self.question)
    }
}
