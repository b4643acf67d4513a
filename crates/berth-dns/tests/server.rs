//! End-to-end behaviour of the embedded DNS server over loopback UDP and TCP.

mod support;

use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_dns::{DnsServer, Limits, Upstreams, LOCAL_TTL};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::PTR;
use hickory_proto::rr::{Name, RData, RecordType};
use support::*;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

fn upstreams(servers: &[&FakeUpstream]) -> Upstreams {
    Upstreams::new(servers.iter().map(|u| u.addr).collect())
}

#[tokio::test]
async fn local_name_gets_authoritative_a_record() {
    let upstream = FakeUpstream::answering().await;
    let resolver = FakeResolver::with_web();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = DnsServer::start(
        ASKER.into(),
        udp,
        tcp,
        Arc::new(resolver),
        Arc::new(upstreams(&[&upstream])),
    )
    .unwrap();

    let reply = udp_exchange(
        server.udp_local_addr(),
        &query(0x0101, "web.", RecordType::A),
    )
    .await;

    assert_eq!(reply.metadata.id, 0x0101);
    assert_eq!(reply.metadata.message_type, MessageType::Response);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert!(reply.metadata.authoritative);
    assert!(reply.metadata.recursion_desired);
    assert_eq!(a_answers(&reply), vec![Ipv4Addr::new(172, 18, 0, 2)]);
    assert_eq!(reply.answers[0].ttl, LOCAL_TTL);
    assert_eq!(reply.answers[0].name, Name::from_ascii("web.").unwrap());
    assert_eq!(upstream.queries(), 0, "local names must not be forwarded");
}

#[tokio::test]
async fn names_match_case_insensitively_with_network_and_search_domain() {
    let upstream = FakeUpstream::answering().await;
    let mut resolver = FakeResolver::with_web();
    resolver.search = vec!["corp.example".into()];
    let server = start_server(resolver, upstreams(&[&upstream]), Limits::default());
    let addr = server.udp_local_addr();

    for name in [
        "WeB.",
        "WEB.MyNet.",
        "web.mynet",
        "Web.Corp.Example.",
        "web.mynet.corp.example.",
    ] {
        let reply = udp_exchange(addr, &query(7, name, RecordType::A)).await;
        assert_eq!(
            a_answers(&reply),
            vec![Ipv4Addr::new(172, 18, 0, 2)],
            "{name}"
        );
        // The question's spelling is echoed, as DNS 0x20 clients require.
        let echoed = reply.queries[0].name().to_ascii();
        assert_eq!(echoed.trim_end_matches('.'), name.trim_end_matches('.'));
    }
    assert_eq!(upstream.queries(), 0);
}

#[tokio::test]
async fn aaaa_and_other_types_for_local_name_are_empty_noerror() {
    let upstream = FakeUpstream::answering().await;
    let server = start_server(
        FakeResolver::with_web(),
        upstreams(&[&upstream]),
        Limits::default(),
    );

    for query_type in [RecordType::AAAA, RecordType::MX, RecordType::TXT] {
        let reply = udp_exchange(server.udp_local_addr(), &query(9, "web.", query_type)).await;
        assert_eq!(
            reply.metadata.response_code,
            ResponseCode::NoError,
            "{query_type}"
        );
        assert!(reply.answers.is_empty(), "{query_type}");
        assert!(reply.metadata.authoritative);
    }
    assert_eq!(upstream.queries(), 0);
}

#[tokio::test]
async fn ptr_for_local_address_names_the_container() {
    let upstream = FakeUpstream::answering().await;
    let server = start_server(
        FakeResolver::with_web(),
        upstreams(&[&upstream]),
        Limits::default(),
    );

    let reply = udp_exchange(
        server.udp_local_addr(),
        &query(11, "2.0.18.172.in-addr.arpa.", RecordType::PTR),
    )
    .await;

    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(reply.answers.len(), 1);
    assert_eq!(reply.answers[0].ttl, LOCAL_TTL);
    assert_eq!(
        &reply.answers[0].data,
        &RData::PTR(PTR(Name::from_ascii("web.mynet.").unwrap()))
    );
    assert_eq!(upstream.queries(), 0);

    // An address that is not a container's goes upstream.
    udp_exchange(
        server.udp_local_addr(),
        &query(12, "9.9.18.172.in-addr.arpa.", RecordType::PTR),
    )
    .await;
    assert_eq!(upstream.queries(), 1);
}

#[tokio::test]
async fn other_names_are_forwarded_with_the_client_id() {
    let upstream = FakeUpstream::answering().await;
    let server = start_server(
        FakeResolver::with_web(),
        upstreams(&[&upstream]),
        Limits::default(),
    );

    let reply = udp_exchange(
        server.udp_local_addr(),
        &query(0xBEEF, "example.org.", RecordType::A),
    )
    .await;

    assert_eq!(reply.metadata.id, 0xBEEF);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(a_answers(&reply), vec![UPSTREAM_ANSWER]);
    assert_eq!(
        reply.queries[0].name(),
        &Name::from_ascii("example.org.").unwrap()
    );
    assert_eq!(upstream.udp_queries.load(Ordering::SeqCst), 1);
    assert_eq!(upstream.tcp_queries.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn tcp_serves_several_queries_per_connection_and_forwards_over_tcp() {
    let upstream = FakeUpstream::answering().await;
    let server = start_server(
        FakeResolver::with_web(),
        upstreams(&[&upstream]),
        Limits::default(),
    );
    let mut stream = TcpStream::connect(server.tcp_local_addr()).await.unwrap();

    write_framed(&mut stream, &query(21, "web.", RecordType::A))
        .await
        .unwrap();
    let local = read_framed(&mut stream).await.unwrap();
    write_framed(&mut stream, &query(22, "example.org.", RecordType::A))
        .await
        .unwrap();
    let forwarded = read_framed(&mut stream).await.unwrap();
    // Garbage on the connection is skipped, not fatal.
    write_framed_raw(&mut stream, &[0xde, 0xad, 0xbe])
        .await
        .unwrap();
    write_framed(&mut stream, &query(23, "WEB.", RecordType::AAAA))
        .await
        .unwrap();
    let aaaa = read_framed(&mut stream).await.unwrap();

    assert_eq!(local.metadata.id, 21);
    assert_eq!(a_answers(&local), vec![Ipv4Addr::new(172, 18, 0, 2)]);
    assert_eq!(forwarded.metadata.id, 22);
    assert_eq!(a_answers(&forwarded), vec![UPSTREAM_ANSWER]);
    assert_eq!(aaaa.metadata.id, 23);
    assert!(aaaa.answers.is_empty());
    assert_eq!(upstream.tcp_queries.load(Ordering::SeqCst), 1);
    assert_eq!(upstream.udp_queries.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn truncated_udp_answer_is_retried_over_tcp() {
    let upstream = FakeUpstream::answering().await;
    let server = start_server(
        FakeResolver::with_web(),
        upstreams(&[&upstream]),
        Limits::default(),
    );

    let reply = udp_exchange(server.udp_local_addr(), &query(31, BIG_NAME, RecordType::A)).await;

    assert_eq!(reply.metadata.id, 31);
    assert!(!reply.metadata.truncation);
    assert_eq!(a_answers(&reply).len(), usize::from(BIG_ANSWER_COUNT));
    assert_eq!(upstream.udp_queries.load(Ordering::SeqCst), 1);
    assert_eq!(upstream.tcp_queries.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn large_local_answer_is_truncated_on_udp_and_whole_on_tcp() {
    let upstream = FakeUpstream::answering().await;
    let mut resolver = FakeResolver::with_web();
    let many: Vec<Ipv4Addr> = (1..=100).map(|i| Ipv4Addr::new(172, 18, 1, i)).collect();
    resolver.names.insert("many".into(), many.clone());
    let server = start_server(resolver, upstreams(&[&upstream]), Limits::default());

    let plain = query(41, "many.", RecordType::A);
    let bytes = udp_exchange_raw(
        server.udp_local_addr(),
        &plain.to_vec().unwrap(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert!(bytes.len() <= 512, "{} bytes", bytes.len());
    let udp = Message::from_vec(&bytes).unwrap();
    assert!(udp.metadata.truncation);

    // A client with a larger EDNS buffer gets everything over UDP.
    let mut with_edns = query(42, "many.", RecordType::A);
    let mut edns = Edns::new();
    edns.set_max_payload(4096);
    with_edns.set_edns(edns);
    let big = udp_exchange(server.udp_local_addr(), &with_edns).await;
    assert!(!big.metadata.truncation);
    assert!(big.edns.is_some(), "EDNS must be echoed");
    let mut got = a_answers(&big);
    got.sort();
    assert_eq!(got, many);

    let mut stream = TcpStream::connect(server.tcp_local_addr()).await.unwrap();
    write_framed(&mut stream, &plain).await.unwrap();
    let tcp = read_framed(&mut stream).await.unwrap();
    assert!(!tcp.metadata.truncation);
    assert_eq!(a_answers(&tcp).len(), many.len());
}

#[tokio::test]
async fn internal_only_container_never_forwards() {
    let upstream = FakeUpstream::answering().await;
    let mut resolver = FakeResolver::with_web();
    resolver.forward = false;
    let server = start_server(resolver, upstreams(&[&upstream]), Limits::default());

    let reply = udp_exchange(
        server.udp_local_addr(),
        &query(51, "example.org.", RecordType::A),
    )
    .await;
    assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
    assert!(reply.answers.is_empty());

    let mut stream = TcpStream::connect(server.tcp_local_addr()).await.unwrap();
    write_framed(&mut stream, &query(52, "example.org.", RecordType::A))
        .await
        .unwrap();
    let tcp = read_framed(&mut stream).await.unwrap();
    assert_eq!(tcp.metadata.response_code, ResponseCode::ServFail);

    let reverse = udp_exchange(
        server.udp_local_addr(),
        &query(53, "8.8.8.8.in-addr.arpa.", RecordType::PTR),
    )
    .await;
    assert_eq!(reverse.metadata.response_code, ResponseCode::ServFail);

    // Local names still resolve.
    let local = udp_exchange(server.udp_local_addr(), &query(54, "web.", RecordType::A)).await;
    assert_eq!(a_answers(&local), vec![Ipv4Addr::new(172, 18, 0, 2)]);

    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        upstream.queries(),
        0,
        "an internal container's query reached upstream"
    );
}

#[tokio::test]
async fn dead_upstreams_give_servfail_within_the_bound() {
    let dead: Vec<FakeUpstream> = vec![
        FakeUpstream::silent().await,
        FakeUpstream::silent().await,
        FakeUpstream::silent().await,
        FakeUpstream::silent().await,
    ];
    let per_server = Duration::from_millis(300);
    let servers = Upstreams::new(dead.iter().map(|u| u.addr).collect()).with_timeout(per_server);
    let server = start_server(FakeResolver::with_web(), servers, Limits::default());

    let started = Instant::now();
    let reply = udp_exchange(
        server.udp_local_addr(),
        &query(61, "example.org.", RecordType::A),
    )
    .await;
    let elapsed = started.elapsed();

    assert_eq!(reply.metadata.id, 61);
    assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
    assert!(
        elapsed >= per_server * 3,
        "answered after {elapsed:?}, before trying three servers"
    );
    assert!(
        elapsed < per_server * 3 + Duration::from_secs(2),
        "took {elapsed:?}"
    );
    let asked: Vec<usize> = dead.iter().map(FakeUpstream::queries).collect();
    assert_eq!(
        asked,
        vec![1, 1, 1, 0],
        "servers tried in order, at most three"
    );
}

#[tokio::test]
async fn next_server_is_tried_after_silence_or_servfail() {
    let dead = FakeUpstream::silent().await;
    let live = FakeUpstream::answering().await;
    let servers =
        Upstreams::new(vec![dead.addr, live.addr]).with_timeout(Duration::from_millis(300));
    let server = start_server(FakeResolver::with_web(), servers, Limits::default());

    let reply = udp_exchange(
        server.udp_local_addr(),
        &query(71, "example.org.", RecordType::A),
    )
    .await;
    assert_eq!(a_answers(&reply), vec![UPSTREAM_ANSWER]);
    assert_eq!((dead.queries(), live.queries()), (1, 1));

    let failing = FakeUpstream::answering().await;
    let second = FakeUpstream::answering().await;
    let servers = Upstreams::new(vec![failing.addr, second.addr]);
    let server = start_server(FakeResolver::with_web(), servers, Limits::default());
    let reply = udp_exchange(
        server.udp_local_addr(),
        &query(72, FAILING_NAME, RecordType::A),
    )
    .await;
    // Both fail the name: the upstream SERVFAIL is relayed after trying each once.
    assert_eq!(reply.metadata.id, 72);
    assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
    assert_eq!((failing.queries(), second.queries()), (1, 1));
}

#[tokio::test]
async fn no_upstreams_means_servfail() {
    let server = start_server(
        FakeResolver::with_web(),
        Upstreams::new(Vec::new()),
        Limits::default(),
    );
    let reply = udp_exchange(
        server.udp_local_addr(),
        &query(75, "example.org.", RecordType::A),
    )
    .await;
    assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
}

#[tokio::test]
async fn garbage_is_ignored_and_the_server_keeps_answering() {
    let upstream = FakeUpstream::answering().await;
    let server = start_server(
        FakeResolver::with_web(),
        upstreams(&[&upstream]),
        Limits::default(),
    );
    let addr = server.udp_local_addr();
    let quiet = Duration::from_millis(200);

    let header_claiming_five_questions = [0x12, 0x34, 0x01, 0x00, 0x00, 0x05, 0, 0, 0, 0, 0, 0];
    let mut a_response = query(81, "web.", RecordType::A);
    a_response.metadata.message_type = MessageType::Response;
    for junk in [
        vec![],
        vec![0xde, 0xad],
        header_claiming_five_questions.to_vec(),
        vec![0xff; 600],
        a_response.to_vec().unwrap(),
    ] {
        assert_eq!(udp_exchange_raw(addr, &junk, quiet).await, None, "{junk:?}");
    }

    let reply = udp_exchange(addr, &query(82, "web.", RecordType::A)).await;
    assert_eq!(a_answers(&reply), vec![Ipv4Addr::new(172, 18, 0, 2)]);
    assert_eq!(upstream.queries(), 0);
}

#[tokio::test]
async fn malformed_but_parsable_queries_get_error_codes() {
    let upstream = FakeUpstream::answering().await;
    let server = start_server(
        FakeResolver::with_web(),
        upstreams(&[&upstream]),
        Limits::default(),
    );

    let no_question = Message::new(91, MessageType::Query, OpCode::Query);
    let reply = udp_exchange(server.udp_local_addr(), &no_question).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::FormErr);

    let mut update = query(92, "web.", RecordType::A);
    update.metadata.op_code = OpCode::Update;
    let reply = udp_exchange(server.udp_local_addr(), &update).await;
    assert_eq!(reply.metadata.response_code, ResponseCode::NotImp);
    assert_eq!(upstream.queries(), 0);
}

#[tokio::test]
async fn in_flight_forwards_are_bounded() {
    let silent = FakeUpstream::silent().await;
    let servers = Upstreams::new(vec![silent.addr]).with_timeout(Duration::from_secs(3));
    let limits = Limits {
        max_in_flight_forwards: 2,
        ..Limits::default()
    };
    let server = start_server(FakeResolver::with_web(), servers, limits);
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client.connect(server.udp_local_addr()).await.unwrap();

    for id in 100..105u16 {
        let bytes = query(id, &format!("n{id}.example."), RecordType::A)
            .to_vec()
            .unwrap();
        client.send(&bytes).await.unwrap();
        // Keep the order of arrival deterministic.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut refused = Vec::new();
    let mut buf = vec![0u8; 2048];
    while let Ok(Ok(len)) =
        tokio::time::timeout(Duration::from_millis(500), client.recv(&mut buf)).await
    {
        let reply = Message::from_vec(&buf[..len]).unwrap();
        assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
        refused.push(reply.metadata.id);
    }
    assert_eq!(
        refused,
        vec![102, 103, 104],
        "queries beyond the bound are failed at once"
    );
    assert_eq!(silent.queries(), 2);
}

#[tokio::test]
async fn idle_tcp_connections_are_closed() {
    let limits = Limits {
        tcp_idle_timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let server = start_server(FakeResolver::with_web(), Upstreams::new(Vec::new()), limits);
    let mut stream = TcpStream::connect(server.tcp_local_addr()).await.unwrap();

    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut byte)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "connection still open: {read:?}"
    );
}

#[tokio::test]
async fn tcp_connections_beyond_the_bound_are_closed() {
    let limits = Limits {
        max_tcp_connections: 1,
        ..Limits::default()
    };
    let server = start_server(FakeResolver::with_web(), Upstreams::new(Vec::new()), limits);
    let mut first = TcpStream::connect(server.tcp_local_addr()).await.unwrap();
    let mut second = TcpStream::connect(server.tcp_local_addr()).await.unwrap();

    let mut byte = [0u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(5), second.read(&mut byte)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "second connection served: {read:?}"
    );
    write_framed(&mut first, &query(5, "web.", RecordType::A))
        .await
        .unwrap();
    let reply = read_framed(&mut first).await.unwrap();
    assert_eq!(a_answers(&reply), vec![Ipv4Addr::new(172, 18, 0, 2)]);
}

#[tokio::test]
async fn shutdown_closes_both_sockets() {
    let server = start_server(
        FakeResolver::with_web(),
        Upstreams::new(Vec::new()),
        Limits::default(),
    );
    let (udp_addr, tcp_addr) = (server.udp_local_addr(), server.tcp_local_addr());
    let mut open = TcpStream::connect(tcp_addr).await.unwrap();

    server.shutdown().await;

    assert!(
        TcpStream::connect(tcp_addr).await.is_err(),
        "listener still accepts"
    );
    let mut byte = [0u8; 1];
    assert!(
        matches!(open.read(&mut byte).await, Ok(0) | Err(_)),
        "client connection kept open"
    );
    // The ports are free again: nothing holds the sockets any more.
    std::net::UdpSocket::bind(udp_addr).expect("UDP socket still bound");
    std::net::TcpListener::bind(tcp_addr).expect("TCP listener still bound");
}

#[tokio::test]
async fn stop_and_drop_release_the_sockets() {
    for use_stop in [true, false] {
        let server = start_server(
            FakeResolver::with_web(),
            Upstreams::new(Vec::new()),
            Limits::default(),
        );
        let udp_addr = server.udp_local_addr();
        if use_stop {
            server.stop();
        } else {
            drop(server);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::UdpSocket::bind(udp_addr).is_err() {
            assert!(Instant::now() < deadline, "UDP socket never released");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[test]
fn start_outside_a_runtime_is_an_error() {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let result = DnsServer::start(
        ASKER.into(),
        udp,
        tcp,
        Arc::new(FakeResolver::with_web()),
        Arc::new(Upstreams::new(Vec::new())),
    );
    assert!(result.is_err());
}
