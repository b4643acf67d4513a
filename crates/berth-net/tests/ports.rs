//! Host-port reservations on the real kernel.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, TcpListener, UdpSocket};

use berth_net::{
    parse_port_range, reserve_free_port, reserve_free_port_in, reserve_port, NetError, Proto,
};

#[test]
fn a_reserved_tcp_port_cannot_be_taken_twice_until_dropped() {
    let (port, held) = reserve_free_port(Proto::Tcp, Some(Ipv4Addr::LOCALHOST)).unwrap();
    assert_eq!(held.port(), port);
    assert_eq!(held.host_ip(), Ipv4Addr::LOCALHOST);

    let err = reserve_port(Proto::Tcp, Some(Ipv4Addr::LOCALHOST), port).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("Bind for 127.0.0.1:{port} failed: port is already allocated")
    );
    assert_eq!(err.io_kind(), Some(ErrorKind::AddrInUse));
    // All addresses conflicts with one address.
    assert!(matches!(
        reserve_port(Proto::Tcp, None, port),
        Err(NetError::PortAllocated { .. })
    ));
    // Other programs cannot take it either, even with SO_REUSEADDR (std sets it).
    assert_eq!(
        TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .unwrap_err()
            .kind(),
        ErrorKind::AddrInUse
    );
    // The same number over UDP is a different port.
    let udp = reserve_port(Proto::Udp, Some(Ipv4Addr::LOCALHOST), port).unwrap();
    drop(udp);

    drop(held);
    let again = reserve_port(Proto::Tcp, Some(Ipv4Addr::LOCALHOST), port).unwrap();
    assert_eq!(again.port(), port);
}

#[test]
fn a_port_held_by_another_program_is_reported_like_docker() {
    let l = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).unwrap();
    let port = l.local_addr().unwrap().port();
    let err = reserve_port(Proto::Tcp, None, port).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("Bind for 0.0.0.0:{port} failed: port is already allocated")
    );
    let err = reserve_port(Proto::Tcp, Some(Ipv4Addr::LOCALHOST), port).unwrap_err();
    assert!(matches!(err, NetError::PortAllocated { .. }), "{err}");
}

#[test]
fn udp_reservations_conflict_too() {
    let (port, _held) = reserve_free_port(Proto::Udp, None).unwrap();
    assert_eq!(
        UdpSocket::bind((Ipv4Addr::LOCALHOST, port))
            .unwrap_err()
            .kind(),
        ErrorKind::AddrInUse
    );
    assert!(matches!(
        reserve_port(Proto::Udp, None, port),
        Err(NetError::PortAllocated { .. })
    ));
}

#[test]
fn free_ports_come_from_the_kernels_ephemeral_range() {
    let (lo, hi) =
        parse_port_range(&std::fs::read_to_string(berth_net::LOCAL_PORT_RANGE).unwrap()).unwrap();
    let held: Vec<_> = (0..20)
        .map(|_| reserve_free_port(Proto::Tcp, None).unwrap())
        .collect();
    let mut ports: Vec<u16> = held.iter().map(|(p, _)| *p).collect();
    assert!(
        ports.iter().all(|p| (lo..=hi).contains(p)),
        "{ports:?} not in {lo}-{hi}"
    );
    ports.sort();
    ports.dedup();
    assert_eq!(ports.len(), 20, "held ports are never handed out twice");
}

#[test]
fn an_exhausted_range_is_an_error() {
    let (port, _held) = reserve_free_port(Proto::Tcp, Some(Ipv4Addr::LOCALHOST)).unwrap();
    let err = reserve_free_port_in(Proto::Tcp, Some(Ipv4Addr::LOCALHOST), port, port).unwrap_err();
    assert!(matches!(err, NetError::NoFreePort { .. }), "{err}");
    // With one more free port in the range, that one is found.
    let next = if port < u16::MAX { port + 1 } else { port - 1 };
    let (lo, hi) = (port.min(next), port.max(next));
    match reserve_free_port_in(Proto::Tcp, Some(Ipv4Addr::LOCALHOST), lo, hi) {
        Ok((got, _r)) => assert_eq!(got, next),
        // Some other program holds the neighbour right now.
        Err(NetError::NoFreePort { .. }) => {}
        Err(e) => panic!("{e}"),
    }
}
