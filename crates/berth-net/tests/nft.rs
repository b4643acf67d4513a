//! The nftables table on the real kernel: apply/replace/remove, and what the rules do to
//! traffic between namespaces made by the tests (needs root and the `nft` binary).

mod common;

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use berth_net::{
    nft_apply, nft_list, nft_remove, reserve_free_port, Netlink, NftNetwork, NftPort, NftRuleset,
    Proto,
};
use common::*;

fn network(br: &TestBridge) -> NftNetwork {
    NftNetwork {
        bridge: br.name.clone(),
        subnet: br.subnet,
        internal: false,
        masquerade: true,
        icc: true,
    }
}

fn port(
    host_ip: Option<Ipv4Addr>,
    host_port: u16,
    ep: &TestEndpoint,
    container_port: u16,
) -> NftPort {
    NftPort {
        proto: Proto::Tcp,
        host_ip,
        host_port,
        container_ip: ep.ip(),
        container_port,
        bridge: ep.spec.bridge.clone(),
    }
}

fn read_greeting(to: SocketAddr) -> std::io::Result<String> {
    let mut c = TcpStream::connect_timeout(&to, Duration::from_secs(2))?;
    c.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut got = String::new();
    c.read_to_string(&mut got)?;
    Ok(got)
}

#[test]
fn table_is_replaced_atomically_removed_and_other_tables_are_left_alone() {
    let table = format!("berth-t{}", unique());
    let _g = NftGuard(table.clone());
    let other = format!("berth-o{}", unique());
    let _o = NftGuard(other.clone());
    let st = Command::new("nft")
        .args(["add", "table", "ip", &other])
        .status()
        .unwrap();
    assert!(st.success());

    let net = NftNetwork {
        bridge: "btnone0".into(),
        subnet: "10.213.250.0/24".parse().unwrap(),
        internal: false,
        masquerade: true,
        icc: true,
    };
    let p = |host_port, container_port| NftPort {
        proto: Proto::Tcp,
        host_ip: None,
        host_port,
        container_ip: "10.213.250.2".parse().unwrap(),
        container_port,
        bridge: "btnone0".into(),
    };
    let mut rs = NftRuleset {
        table: table.clone(),
        networks: vec![net],
        ports: vec![p(40001, 80)],
    };
    assert_eq!(nft_list(&table).unwrap(), None);
    nft_apply(&rs).unwrap();
    let listed = nft_list(&table).unwrap().expect("table exists");
    assert!(
        listed.contains("tcp dport 40001 dnat to 10.213.250.2:80"),
        "{listed}"
    );
    assert!(
        listed.contains("ip saddr 10.213.250.0/24 oifname != \"btnone0\" masquerade"),
        "{listed}"
    );

    // Re-applying with other ports replaces the rules rather than adding to them.
    rs.ports = vec![p(40002, 81)];
    nft_apply(&rs).unwrap();
    nft_apply(&rs).unwrap();
    let listed = nft_list(&table).unwrap().unwrap();
    assert!(!listed.contains("40001"), "{listed}");
    assert_eq!(listed.matches("dnat to").count(), 1, "{listed}");
    let all = String::from_utf8(
        Command::new("nft")
            .args(["list", "tables"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(
        all.lines()
            .filter(|l| *l == format!("table ip {table}"))
            .count(),
        1
    );

    nft_remove(&table).unwrap();
    assert_eq!(nft_list(&table).unwrap(), None);
    nft_remove(&table).unwrap();
    assert!(
        nft_list(&other).unwrap().is_some(),
        "another table was touched"
    );
}

#[tokio::test]
async fn published_ports_reach_the_container_from_host_loopback_and_by_hairpin() {
    let nl = Netlink::new().await.unwrap();
    let br = TestBridge::new(&nl).await;
    let ep = TestEndpoint::new(&nl, &br, 2).await;
    let table = format!("berth-t{}", unique());
    let _g = NftGuard(table.clone());

    let (loop_port, _loop_held) = reserve_free_port(Proto::Tcp, Some(Ipv4Addr::LOCALHOST)).unwrap();
    let (any_port, _any_held) = reserve_free_port(Proto::Tcp, None).unwrap();
    let l1 = ep.listen();
    let l2 = ep.listen();
    let (c1, c2) = (
        l1.local_addr().unwrap().port(),
        l2.local_addr().unwrap().port(),
    );

    // No rules yet: the reservation holds the port but does not listen.
    let refused = read_greeting(SocketAddr::from((Ipv4Addr::LOCALHOST, loop_port))).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);

    nft_apply(&NftRuleset {
        table: table.clone(),
        networks: vec![network(&br)],
        ports: vec![
            port(Some(Ipv4Addr::LOCALHOST), loop_port, &ep, c1),
            port(None, any_port, &ep, c2),
        ],
    })
    .unwrap();

    // From the host's loopback (output DNAT + route_localnet + loopback masquerade).
    let s1 = accept_one(l1);
    assert_eq!(
        read_greeting(SocketAddr::from((Ipv4Addr::LOCALHOST, loop_port))).unwrap(),
        "hello from the netns"
    );
    assert_eq!(s1.join().unwrap().unwrap().ip(), IpAddr::V4(br.gateway));

    // From the container itself through the gateway's published port (hairpin).
    let s2 = accept_one(l2);
    let local = ep
        .connect_from_inside(SocketAddr::from((br.gateway, any_port)))
        .expect("hairpin connection");
    assert_eq!(local.ip(), IpAddr::V4(ep.ip()));
    assert_eq!(
        s2.join().unwrap().unwrap().ip(),
        IpAddr::V4(br.gateway),
        "hairpin is masqueraded"
    );
}

#[tokio::test]
async fn bridges_are_isolated_internal_networks_sealed_and_icc_honoured() {
    let nl = Netlink::new().await.unwrap();
    let a_br = TestBridge::new(&nl).await;
    let b_br = TestBridge::new(&nl).await;
    let a = TestEndpoint::new(&nl, &a_br, 2).await;
    let a2 = TestEndpoint::new(&nl, &a_br, 3).await;
    let b = TestEndpoint::new(&nl, &b_br, 2).await;
    let table = format!("berth-t{}", unique());
    let _g = NftGuard(table.clone());
    let (pub_port, _held) = reserve_free_port(Proto::Tcp, None).unwrap();

    let b_listener = b.listen();
    let b_addr = SocketAddr::from((b.ip(), b_listener.local_addr().unwrap().port()));
    let b_port = b_addr.port();
    let a2_listener = a2.listen();
    let a2_addr = a2_listener.local_addr().unwrap();
    // Accept everything in the background; only the client side is checked.
    for l in [b_listener, a2_listener] {
        std::thread::spawn(move || for _ in l.incoming() {});
    }

    // Without our table the host forwards between the bridges (positive control).
    a.connect_from_inside(b_addr)
        .expect("forwarding works before isolation");
    a.connect_from_inside(a2_addr).expect("same bridge works");

    let mut rs = NftRuleset {
        table: table.clone(),
        networks: vec![network(&a_br), network(&b_br)],
        ports: vec![port(None, pub_port, &b, b_port)],
    };
    nft_apply(&rs).unwrap();
    assert!(
        a.connect_from_inside(b_addr).is_err(),
        "network A reached network B directly"
    );
    assert!(b
        .connect_from_inside(SocketAddr::from((a2.ip(), a2_addr.port())))
        .is_err());
    a.connect_from_inside(a2_addr)
        .expect("icc=true keeps the same bridge open");
    // A published port of B is reachable from A through DNAT, as from anywhere else.
    a.connect_from_inside(SocketAddr::from((a_br.gateway, pub_port)))
        .expect("published port through DNAT");
    // The host itself still reaches every container.
    TcpStream::connect_timeout(&b_addr, Duration::from_secs(2)).expect("host to B");

    // icc=false on A: containers of A no longer reach each other.
    rs.networks[0].icc = false;
    nft_apply(&rs).unwrap();
    assert!(
        a.connect_from_inside(a2_addr).is_err(),
        "icc=false let traffic through"
    );

    // B internal: nothing goes in or out of it, published or not.
    rs.networks[0].icc = true;
    rs.networks[1].internal = true;
    nft_apply(&rs).unwrap();
    assert!(a
        .connect_from_inside(SocketAddr::from((a_br.gateway, pub_port)))
        .is_err());
    a.connect_from_inside(a2_addr).expect("A is unaffected");

    nft_remove(&table).unwrap();
    a.connect_from_inside(b_addr)
        .expect("forwarding again once the table is gone");
}
