//! Test doubles: a resolver with fixed names and a loopback upstream DNS server that counts
//! what it is asked. All traffic stays on 127.0.0.1.

#![allow(dead_code)] // each test binary uses a different part

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_dns::{DnsServer, Limits, Resolver, Upstreams};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

pub const ASKER: &str = "c1";

/// Answers only for [`ASKER`], so a test also proves the asker is passed through.
#[derive(Default)]
pub struct FakeResolver {
    pub names: HashMap<String, Vec<Ipv4Addr>>,
    pub ptrs: HashMap<Ipv4Addr, String>,
    pub forward: bool,
    pub search: Vec<String>,
}

impl FakeResolver {
    pub fn with_web() -> Self {
        let mut resolver = FakeResolver {
            forward: true,
            ..Default::default()
        };
        let web = Ipv4Addr::new(172, 18, 0, 2);
        resolver.names.insert("web".into(), vec![web]);
        resolver.names.insert("web.mynet".into(), vec![web]);
        resolver.ptrs.insert(web, "web.mynet".into());
        resolver
    }
}

impl Resolver for FakeResolver {
    fn lookup_ipv4(&self, asker: &str, name: &str) -> Option<Vec<Ipv4Addr>> {
        (asker == ASKER).then(|| self.names.get(name).cloned())?
    }
    fn lookup_ptr(&self, asker: &str, ip: Ipv4Addr) -> Option<String> {
        (asker == ASKER).then(|| self.ptrs.get(&ip).cloned())?
    }
    fn may_forward(&self, asker: &str) -> bool {
        asker == ASKER && self.forward
    }
    fn search_domains(&self, _asker: &str) -> Vec<String> {
        self.search.clone()
    }
}

/// The address every forwarded name resolves to at the fake upstream.
pub const UPSTREAM_ANSWER: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 7);
/// Over UDP answered truncated and empty, over TCP with [`BIG_ANSWER_COUNT`] records.
pub const BIG_NAME: &str = "big.example.";
pub const BIG_ANSWER_COUNT: u8 = 20;
/// Answered SERVFAIL.
pub const FAILING_NAME: &str = "fail.example.";

/// A loopback DNS server on one port for UDP and TCP.
pub struct FakeUpstream {
    pub addr: SocketAddr,
    pub udp_queries: Arc<AtomicUsize>,
    pub tcp_queries: Arc<AtomicUsize>,
    /// IDs of the queries it received, in order.
    pub seen_ids: Arc<Mutex<Vec<u16>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl FakeUpstream {
    /// Answers queries (see the name constants above).
    pub async fn answering() -> Self {
        Self::spawn(true).await
    }

    /// Counts queries but never answers them.
    pub async fn silent() -> Self {
        Self::spawn(false).await
    }

    pub fn queries(&self) -> usize {
        self.udp_queries.load(Ordering::SeqCst) + self.tcp_queries.load(Ordering::SeqCst)
    }

    async fn spawn(answer: bool) -> Self {
        let (udp, tcp) = bind_same_port().await;
        let addr = udp.local_addr().unwrap();
        let udp_queries = Arc::new(AtomicUsize::new(0));
        let tcp_queries = Arc::new(AtomicUsize::new(0));
        let seen_ids = Arc::new(Mutex::new(Vec::new()));
        let udp_task = {
            let (count, seen) = (Arc::clone(&udp_queries), Arc::clone(&seen_ids));
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65535];
                while let Ok((len, peer)) = udp.recv_from(&mut buf).await {
                    let Ok(query) = Message::from_vec(&buf[..len]) else {
                        continue;
                    };
                    count.fetch_add(1, Ordering::SeqCst);
                    seen.lock().unwrap().push(query.metadata.id);
                    if answer {
                        let reply = upstream_reply(&query, false).to_vec().unwrap();
                        let _ = udp.send_to(&reply, peer).await;
                    }
                }
            })
        };
        let tcp_task = {
            let (count, seen) = (Arc::clone(&tcp_queries), Arc::clone(&seen_ids));
            tokio::spawn(async move {
                while let Ok((mut stream, _)) = tcp.accept().await {
                    let (count, seen) = (Arc::clone(&count), Arc::clone(&seen));
                    tokio::spawn(async move {
                        while let Ok(query) = read_framed(&mut stream).await {
                            count.fetch_add(1, Ordering::SeqCst);
                            seen.lock().unwrap().push(query.metadata.id);
                            if !answer {
                                continue;
                            }
                            let reply = upstream_reply(&query, true);
                            if write_framed(&mut stream, &reply).await.is_err() {
                                return;
                            }
                        }
                    });
                }
            })
        };
        FakeUpstream {
            addr,
            udp_queries,
            tcp_queries,
            seen_ids,
            tasks: vec![udp_task, tcp_task],
        }
    }
}

async fn bind_same_port() -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        if let Ok(tcp) = TcpListener::bind(udp.local_addr().unwrap()).await {
            return (udp, tcp);
        }
    }
    panic!("no loopback port free for both UDP and TCP");
}

fn upstream_reply(query: &Message, over_tcp: bool) -> Message {
    let mut reply = Message::response(query.metadata.id, OpCode::Query);
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.queries = query.queries.clone();
    let question = &query.queries[0];
    let name = question.name().clone();
    if name == Name::from_ascii(FAILING_NAME).unwrap() {
        reply.metadata.response_code = ResponseCode::ServFail;
    } else if name == Name::from_ascii(BIG_NAME).unwrap() {
        if over_tcp {
            for i in 0..BIG_ANSWER_COUNT {
                reply.add_answer(a_record(&name, Ipv4Addr::new(198, 51, 100, i)));
            }
        } else {
            reply.metadata.truncation = true;
        }
    } else if question.query_type() == RecordType::A {
        reply.add_answer(a_record(&name, UPSTREAM_ANSWER));
    }
    reply
}

fn a_record(name: &Name, ip: Ipv4Addr) -> Record {
    Record::from_rdata(name.clone(), 60, RData::A(A(ip)))
}

pub async fn read_framed(stream: &mut TcpStream) -> std::io::Result<Message> {
    let len = stream.read_u16().await?;
    let mut buf = vec![0u8; usize::from(len)];
    stream.read_exact(&mut buf).await?;
    Message::from_vec(&buf).map_err(std::io::Error::other)
}

pub async fn write_framed(stream: &mut TcpStream, message: &Message) -> std::io::Result<()> {
    write_framed_raw(stream, &message.to_vec().unwrap()).await
}

pub async fn write_framed_raw(stream: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    let mut frame = (bytes.len() as u16).to_be_bytes().to_vec();
    frame.extend_from_slice(bytes);
    stream.write_all(&frame).await
}

/// A recursive-desired query for `name`.
pub fn query(id: u16, name: &str, query_type: RecordType) -> Message {
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(Name::from_ascii(name).unwrap(), query_type));
    message
}

/// Sends raw bytes from a fresh socket and waits up to `wait` for one datagram back.
pub async fn udp_exchange_raw(server: SocketAddr, bytes: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.connect(server).await.unwrap();
    socket.send(bytes).await.unwrap();
    let mut buf = vec![0u8; 65535];
    match tokio::time::timeout(wait, socket.recv(&mut buf)).await {
        Ok(Ok(len)) => Some(buf[..len].to_vec()),
        _ => None,
    }
}

pub async fn udp_exchange(server: SocketAddr, message: &Message) -> Message {
    let bytes = udp_exchange_raw(server, &message.to_vec().unwrap(), Duration::from_secs(10))
        .await
        .expect("no UDP reply");
    Message::from_vec(&bytes).unwrap()
}

/// A server for [`ASKER`] on loopback ephemeral ports.
pub fn start_server(resolver: FakeResolver, upstreams: Upstreams, limits: Limits) -> DnsServer {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    DnsServer::start_with_limits(
        ASKER.to_string(),
        udp,
        tcp,
        Arc::new(resolver),
        Arc::new(upstreams),
        limits,
    )
    .unwrap()
}

pub fn a_answers(message: &Message) -> Vec<Ipv4Addr> {
    message
        .answers
        .iter()
        .filter_map(|record| match &record.data {
            RData::A(A(ip)) => Some(*ip),
            _ => None,
        })
        .collect()
}
