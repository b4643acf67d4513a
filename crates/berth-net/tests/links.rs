//! Namespaces, bridges and endpoints on the real kernel (needs root).

mod common;

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use berth_net::{
    host_veth_name, mac_for_ip, netns_create, netns_remove, netns_run, EndpointSpec, Ipv4Net,
    NetError, Netlink,
};
use common::*;

fn thread_netns() -> std::path::PathBuf {
    std::fs::read_link("/proc/thread-self/ns/net").unwrap()
}

#[tokio::test]
async fn netns_is_created_entered_and_removed_without_moving_the_caller() {
    let before = thread_netns();
    let ns = NetnsGuard::create();
    assert_eq!(
        thread_netns(),
        before,
        "netns_create must not move the calling thread"
    );
    assert!(ns.0.exists());

    let inside = netns_run(&ns.0, thread_netns).unwrap();
    assert_ne!(inside, before);
    assert_eq!(
        netns_run(&ns.0, thread_netns).unwrap(),
        inside,
        "same namespace each time"
    );
    assert_eq!(
        thread_netns(),
        before,
        "netns_run must not move the calling thread"
    );

    let inner = Netlink::in_netns(&ns.0).await.unwrap();
    let links = inner.links().await.unwrap();
    assert_eq!(links.len(), 1, "a new namespace has only lo: {links:?}");
    assert!(links[0].up, "lo is up: {links:?}");
    drop(inner);

    // Creating over an existing namespace file fails and leaves it intact.
    assert!(netns_create(&ns.0).is_err());
    assert_eq!(netns_run(&ns.0, thread_netns).unwrap(), inside);

    netns_remove(&ns.0).unwrap();
    assert!(!ns.0.exists());
    netns_remove(&ns.0).unwrap();
    assert!(matches!(
        netns_run(&ns.0, || ()),
        Err(NetError::Netns { .. })
    ));
}

#[tokio::test]
async fn bridge_gets_exactly_the_gateway_address_and_is_idempotent() {
    let nl = Netlink::new().await.unwrap();
    let br = TestBridge::new(&nl).await;
    let want = Ipv4Net::new(br.gateway, 24).unwrap();

    // A second bridge run with another address replaces the first one.
    let other = Ipv4Net::new(br.host(200), 24).unwrap();
    nl.ensure_bridge(&br.name, other, Some(1400)).await.unwrap();
    assert_eq!(nl.link_ipv4(&br.name).await.unwrap(), vec![other]);
    nl.ensure_bridge(&br.name, want, None).await.unwrap();
    nl.ensure_bridge(&br.name, want, None).await.unwrap();
    assert_eq!(nl.link_ipv4(&br.name).await.unwrap(), vec![want]);

    let d = nl.link(&br.name).await.unwrap().unwrap();
    assert_eq!(d.kind.as_deref(), Some("bridge"));
    assert!(d.up);
    assert_eq!(d.mtu, Some(1400));
    assert!(nl.link_names().await.unwrap().contains(&br.name));
    let rl = std::fs::read_to_string(format!(
        "/proc/sys/net/ipv4/conf/{}/route_localnet",
        br.name
    ))
    .unwrap();
    assert_eq!(rl.trim(), "1");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward")
            .unwrap()
            .trim(),
        "1"
    );

    // The bridge's subnet counts as used by the host, unless it is skipped by name.
    assert!(nl.host_routes().await.unwrap().contains(&br.subnet));
    assert!(!nl
        .host_routes_except(&[&br.name])
        .await
        .unwrap()
        .contains(&br.subnet));

    // A non-bridge link of that name is refused.
    assert!(matches!(
        nl.ensure_bridge("lo", want, None).await,
        Err(NetError::NotABridge(_))
    ));

    nl.delete_link(&br.name).await.unwrap();
    assert!(nl.link(&br.name).await.unwrap().is_none());
    nl.delete_link(&br.name).await.unwrap();
}

#[tokio::test]
async fn endpoint_is_configured_inside_the_namespace_and_reachable_from_the_host() {
    let nl = Netlink::new().await.unwrap();
    let br = TestBridge::new(&nl).await;
    let bridge_mac = nl.link(&br.name).await.unwrap().unwrap().mac;
    let ep = TestEndpoint::new(&nl, &br, 2).await;

    let host = nl
        .link(&ep.spec.host_ifname)
        .await
        .unwrap()
        .expect("host veth");
    let bridge = nl.link(&br.name).await.unwrap().unwrap();
    assert_eq!(host.master, Some(bridge.index));
    assert_eq!(
        bridge.mac, bridge_mac,
        "a port joining must not change the bridge's MAC"
    );
    assert_eq!(
        bridge.mac.map(|m| m[0] & 0x03),
        Some(0x02),
        "unicast, locally administered"
    );
    assert!(host.up);
    assert_eq!(host.kind.as_deref(), Some("veth"));

    let inner = Netlink::in_netns(&ep.ns.0).await.unwrap();
    let eth0 = inner.link("eth0").await.unwrap().expect("eth0 inside");
    assert!(eth0.up);
    assert_eq!(eth0.mac, Some(mac_for_ip(ep.ip())));
    assert_eq!(
        inner.link_ipv4("eth0").await.unwrap(),
        vec![ep.spec.address]
    );
    assert_eq!(inner.default_gateway_v4().await.unwrap(), Some(br.gateway));
    // The peer lives only in the namespace.
    assert!(!nl.links().await.unwrap().iter().any(|l| l.mac == eth0.mac));
    // Also visible through /proc/thread-self inside the namespace: the default route via the gateway.
    let route = netns_run(&ep.ns.0, || {
        std::fs::read_to_string("/proc/thread-self/net/route").unwrap()
    })
    .unwrap();
    let gw_hex = format!("{:08X}", u32::from_ne_bytes(br.gateway.octets()));
    assert!(
        route
            .lines()
            .any(|l| l.starts_with("eth0\t00000000\t") && l.contains(&gw_hex)),
        "{route}"
    );

    // TCP from the host to a listener inside the namespace.
    let listener = ep.listen();
    let port = listener.local_addr().unwrap().port();
    let server = accept_one(listener);
    let mut c =
        TcpStream::connect_timeout(&SocketAddr::from((ep.ip(), port)), Duration::from_secs(3))
            .expect("connect to the endpoint from the host");
    let mut got = String::new();
    c.read_to_string(&mut got).unwrap();
    assert_eq!(got, "hello from the netns");
    let peer = server.join().unwrap().unwrap();
    assert_eq!(
        peer.ip(),
        std::net::IpAddr::V4(br.gateway),
        "host reaches it from the bridge address"
    );

    // Removing the endpoint removes both ends.
    nl.remove_endpoint(&ep.spec.host_ifname).await.unwrap();
    assert!(nl.link(&ep.spec.host_ifname).await.unwrap().is_none());
    assert!(inner.link("eth0").await.unwrap().is_none());
    nl.remove_endpoint(&ep.spec.host_ifname).await.unwrap();
}

#[tokio::test]
async fn a_failed_endpoint_leaves_no_link_behind() {
    let nl = Netlink::new().await.unwrap();
    let br = TestBridge::new(&nl).await;
    let ns = NetnsGuard::create();
    let ip = br.host(3);
    let mut spec = EndpointSpec {
        bridge: br.name.clone(),
        host_ifname: host_veth_name(),
        netns: ns.0.clone(),
        container_ifname: "eth0".into(),
        address: Ipv4Net::new(ip, 24).unwrap(),
        // Not on the link: the default route cannot be added, the last step.
        gateway: Some(Ipv4Addr::new(192, 0, 2, 254)),
        mac: mac_for_ip(ip),
        mtu: Some(1400),
    };
    let _guard = LinkGuard(spec.host_ifname.clone());
    let err = nl.create_endpoint(&spec).await.unwrap_err();
    assert!(matches!(err, NetError::Netlink { .. }), "{err}");
    assert!(err.to_string().contains("default route"), "{err}");
    assert!(
        nl.link(&spec.host_ifname).await.unwrap().is_none(),
        "host end removed"
    );
    let inner = Netlink::in_netns(&ns.0).await.unwrap();
    assert!(inner.link("eth0").await.unwrap().is_none(), "peer removed");

    // A missing bridge fails before anything is made.
    spec.bridge = format!("bt{}", unique());
    spec.gateway = None;
    assert!(matches!(
        nl.create_endpoint(&spec).await,
        Err(NetError::LinkNotFound(_))
    ));
    assert!(nl.link(&spec.host_ifname).await.unwrap().is_none());

    // With the real bridge and a good spec it works, with the MTU on both ends.
    spec.bridge = br.name.clone();
    spec.gateway = Some(br.gateway);
    nl.create_endpoint(&spec).await.unwrap();
    assert_eq!(
        nl.link(&spec.host_ifname).await.unwrap().unwrap().mtu,
        Some(1400)
    );
    assert_eq!(inner.link("eth0").await.unwrap().unwrap().mtu, Some(1400));
    nl.remove_endpoint(&spec.host_ifname).await.unwrap();
}
