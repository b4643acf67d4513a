//! Networking end to end with the real docker CLI: the default bridge, published ports,
//! user-defined networks with embedded DNS, isolation, internal networks, connect and
//! disconnect, many containers and networks, a daemon kill, and nothing left behind.
//! Traffic stays on loopback and inside the namespaces these tests make.

use std::collections::BTreeSet;
use std::net::{TcpListener, UdpSocket};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_testkit::check::{inspect, ok, text};
use berth_testkit::{cleanup, TestDaemon};

const BIN: &str = env!("CARGO_BIN_EXE_berth");

/// The tests compare host-wide state (links, nftables tables), so they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn daemon_with(args: &[&str]) -> TestDaemon {
    let d = TestDaemon::start_with(BIN, args);
    d.load_busybox();
    d
}

fn ip_on(d: &TestDaemon, container: &str, network: &str) -> String {
    inspect(d, container)["NetworkSettings"]["Networks"][network]["IPAddress"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A page from busybox httpd through curl on the host.
fn curl(url: &str) -> Option<String> {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "3", url])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

const HTTPD: &str =
    "mkdir -p /www && echo page-from-$(hostname) > /www/index.html && exec httpd -f -p 80 -h /www";

/// A shell snippet that fetches / from `$1`:80 with nc (busybox wget cannot resolve names).
fn fetch_cmd(target: &str) -> String {
    format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {target} 80")
}

/// Host links whose master is `bridge` (veths plugged into it).
fn veths_on(bridge: &str) -> Vec<String> {
    std::fs::read_dir(format!("/sys/class/net/{bridge}/brif"))
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn host_links() -> BTreeSet<String> {
    std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

fn nft_tables() -> BTreeSet<String> {
    let out = Command::new("nft")
        .args(["list", "tables"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn default_bridge_addresses_and_published_ports() {
    let _serial = serial();
    let d = daemon_with(&[]);
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    ok(d.docker(&[
        "run", "-d", "--name", "web", "-p", &publish, "busybox", "sh", "-c", HTTPD,
    ]));
    let web = inspect(&d, "web");
    let ns = &web["NetworkSettings"];
    let ip = ns["IPAddress"].as_str().unwrap().to_owned();
    let gateway = d.bip.split('/').next().unwrap().to_owned();
    let prefix: String = gateway.rsplit_once('.').unwrap().0.into();
    assert!(ip.starts_with(&format!("{prefix}.")), "{ns}");
    assert_eq!(ns["Gateway"], gateway.as_str());
    assert_eq!(ns["Networks"]["bridge"]["IPAddress"], ip.as_str());
    assert_eq!(ns["Networks"]["bridge"]["IPPrefixLen"], 24);
    assert!(ns["SandboxKey"]
        .as_str()
        .unwrap()
        .starts_with(&d.exec_root.display().to_string()));
    assert_eq!(
        ns["Ports"]["80/tcp"][0]["HostPort"],
        port.to_string().as_str(),
        "{ns}"
    );
    let url = format!("http://127.0.0.1:{port}/");
    wait_until(
        "httpd through the published port",
        Duration::from_secs(10),
        || curl(&url).is_some_and(|b| b.starts_with("page-from-")),
    );
    assert_eq!(
        ok(d.docker(&["port", "web", "80"])).trim(),
        format!("127.0.0.1:{port}")
    );
    let ps = ok(d.docker(&["ps", "--format", "{{.Ports}}"]));
    assert!(ps.contains(&format!("127.0.0.1:{port}->80/tcp")), "{ps}");
    let hosts = ok(d.docker(&["exec", "web", "cat", "/etc/hosts"]));
    assert!(hosts.contains(&ip), "{hosts}");

    // `-p 80`: a free host port, reachable on loopback and, through DNAT, from another
    // network namespace (a second container going through the gateway).
    ok(d.docker(&[
        "run", "-d", "--name", "any", "-p", "80", "busybox", "sh", "-c", HTTPD,
    ]));
    let mapped = ok(d.docker(&["port", "any", "80/tcp"]));
    let any_port: u16 = mapped.trim().rsplit(':').next().unwrap().parse().unwrap();
    assert!(mapped.starts_with("0.0.0.0:"), "{mapped}");
    wait_until("httpd on the picked port", Duration::from_secs(10), || {
        curl(&format!("http://127.0.0.1:{any_port}/")).is_some()
    });
    let via_gateway = ok(d.docker(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        &format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {gateway} {any_port}"),
    ]));
    assert!(via_gateway.contains("page-from-"), "{via_gateway}");

    // A port that is taken fails the start with a clear error and leaves nothing made.
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = holder.local_addr().unwrap().port();
    let veths_before = veths_on(&d.bridge);
    let out = d.docker(&[
        "run",
        "-d",
        "--name",
        "clash",
        "-p",
        &format!("127.0.0.1:{taken}:80"),
        "busybox",
        "sleep",
        "60",
    ]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("driver failed programming external connectivity")
            && err.contains(&format!("127.0.0.1:{taken}"))
            && (err.contains("in use") || err.contains("already allocated")),
        "{err}"
    );
    assert_eq!(inspect(&d, "clash")["State"]["Running"], false);
    assert_eq!(veths_on(&d.bridge), veths_before);
    // The same port as another container.
    let out = d.docker(&["run", "-d", "-p", &publish, "busybox", "sleep", "60"]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out));
    drop(holder);

    ok(d.docker(&["rm", "-f", "web", "any", "clash"]));
    let _ = d.docker(&["container", "prune", "-f"]);
    assert!(veths_on(&d.bridge).is_empty(), "{:?}", veths_on(&d.bridge));
    assert!(curl(&url).is_none(), "the port still answers after rm");
    let netns_left = std::fs::read_dir(d.exec_root.join("netns"))
        .map(|r| r.count())
        .unwrap_or(0);
    assert_eq!(netns_left, 0, "network namespaces left behind");
}

/// A tiny DNS upstream on a loopback address: answers every A query with `answer` and
/// counts the queries it saw.
fn fake_upstream(ip: &str, answer: [u8; 4]) -> (Arc<AtomicUsize>, std::thread::JoinHandle<()>) {
    let sock = UdpSocket::bind(format!("{ip}:53")).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let h = std::thread::spawn(move || {
        let start = Instant::now();
        let mut buf = [0u8; 512];
        while start.elapsed() < Duration::from_secs(120) {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                continue;
            };
            if buf[..n].starts_with(b"STOP") {
                return;
            }
            if n < 12 {
                continue;
            }
            seen.fetch_add(1, Ordering::SeqCst);
            let q = &buf[..n];
            // Header: same ID, response + recursion available, one question, one answer.
            let mut r = vec![q[0], q[1], 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
            r.extend_from_slice(&q[12..]);
            r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
            r.extend_from_slice(&answer);
            let _ = sock.send_to(&r, from);
        }
    });
    (count, h)
}

#[test]
fn user_networks_dns_isolation_connect_and_internal() {
    let _serial = serial();
    let upstream_ip = "127.0.0.77";
    let (queries, upstream) = fake_upstream(upstream_ip, [10, 99, 99, 99]);
    let own_ip = "127.0.0.78";
    let (own_queries, own_upstream) = fake_upstream(own_ip, [10, 88, 88, 88]);
    let d = daemon_with(&["--dns", upstream_ip]);
    ok(d.docker(&["network", "create", "net1"]));
    ok(d.docker(&["network", "create", "net2"]));
    ok(d.docker(&["network", "create", "--internal", "inet"]));
    let net1 = inspect(&d, "net1");
    assert_eq!(net1["Driver"], "bridge");
    let subnet = net1["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(subnet.ends_with("/24"), "{subnet}");

    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "web1",
        "--network",
        "net1",
        "--network-alias",
        "webalias",
        "busybox",
        "sh",
        "-c",
        HTTPD,
    ]));
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "client",
        "--network",
        "net1",
        "busybox",
        "sleep",
        "600",
    ]));
    let web_ip = ip_on(&d, "web1", "net1");
    assert!(!web_ip.is_empty());
    let resolv = ok(d.docker(&["exec", "client", "cat", "/etc/resolv.conf"]));
    assert!(resolv.contains("nameserver 127.0.0.11"), "{resolv}");

    for name in [
        "web1",
        "webalias",
        "WEB1",
        &inspect(&d, "web1")["Id"].as_str().unwrap()[..12],
    ] {
        let out = ok(d.docker(&["exec", "client", "nslookup", name]));
        assert!(out.contains(&web_ip), "{name}: {out}");
    }
    let ptr = ok(d.docker(&["exec", "client", "nslookup", &web_ip]));
    assert!(ptr.contains("web1"), "{ptr}");
    let page = ok(d.docker(&["exec", "client", "sh", "-c", &fetch_cmd(&web_ip)]));
    assert!(page.contains("page-from-"), "{page}");

    // Other queries go to the daemon's upstream.
    let ext = ok(d.docker(&["exec", "client", "nslookup", "example.test"]));
    assert!(ext.contains("10.99.99.99"), "{ext}");
    assert!(queries.load(Ordering::SeqCst) >= 1);
    // A container's own --dns: still 127.0.0.11 in its resolv.conf, names of the network
    // still answered, and other names forwarded to its server, not the daemon's.
    let before = queries.load(Ordering::SeqCst);
    let out = ok(d.docker(&[
        "run",
        "--rm",
        "--network",
        "net1",
        "--dns",
        own_ip,
        "busybox",
        "sh",
        "-c",
        "cat /etc/resolv.conf; nslookup example.test; nslookup web1",
    ]));
    assert!(out.contains("nameserver 127.0.0.11"), "{out}");
    assert!(!out.contains(&format!("nameserver {own_ip}")), "{out}");
    assert!(
        out.contains("10.88.88.88") && !out.contains("10.99.99.99"),
        "{out}"
    );
    assert!(out.contains(&web_ip), "{out}");
    assert!(own_queries.load(Ordering::SeqCst) >= 1);
    assert_eq!(
        queries.load(Ordering::SeqCst),
        before,
        "the daemon's upstream was asked"
    );

    // Another network sees neither the name nor the address.
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "other",
        "--network",
        "net2",
        "busybox",
        "sleep",
        "600",
    ]));
    let out = d.docker(&["exec", "other", "nslookup", "web1"]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&web_ip),
        "{}",
        text(&out)
    );
    let out = d.docker(&["exec", "other", "sh", "-c", &fetch_cmd(&web_ip)]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("page-from-"),
        "{}",
        text(&out)
    );

    // connect makes it reachable from net2; disconnect cuts traffic again.
    ok(d.docker(&["network", "connect", "--alias", "web2name", "net2", "web1"]));
    let web_ip2 = ip_on(&d, "web1", "net2");
    assert!(!web_ip2.is_empty() && web_ip2 != web_ip);
    let out = ok(d.docker(&["exec", "other", "nslookup", "web2name"]));
    assert!(out.contains(&web_ip2), "{out}");
    let page = ok(d.docker(&["exec", "other", "sh", "-c", &fetch_cmd(&web_ip2)]));
    assert!(page.contains("page-from-"), "{page}");
    ok(d.docker(&["network", "disconnect", "net2", "web1"]));
    let out = d.docker(&["exec", "other", "sh", "-c", &fetch_cmd(&web_ip2)]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("page-from-"),
        "{}",
        text(&out)
    );
    ok(d.docker(&["network", "disconnect", "net1", "client"]));
    let out = d.docker(&["exec", "client", "sh", "-c", &fetch_cmd(&web_ip)]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("page-from-"),
        "{}",
        text(&out)
    );

    // An internal network: no default route, no way to the host's other addresses, and
    // no name from outside (the upstream sees no query).
    let gateway = d.bip.split('/').next().unwrap().to_owned();
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "inside",
        "--network",
        "inet",
        "busybox",
        "sleep",
        "600",
    ]));
    let routes = ok(d.docker(&["exec", "inside", "ip", "route"]));
    assert!(!routes.contains("default"), "{routes}");
    // A host service on all addresses that greets and hangs up.
    let host_listener = TcpListener::bind("0.0.0.0:0").unwrap();
    let host_port = host_listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut conn in host_listener.incoming().flatten() {
            let _ = std::io::Write::write_all(&mut conn, b"host-ok\n");
        }
    });
    let knock = format!("nc -w 2 {gateway} {host_port} </dev/null");
    let out = d.docker(&["exec", "inside", "sh", "-c", &knock]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("host-ok"),
        "internal container reached the host: {}",
        text(&out)
    );
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "outside",
        "--network",
        "net1",
        "busybox",
        "sleep",
        "600",
    ]));
    let reached = ok(d.docker(&["exec", "outside", "sh", "-c", &knock]));
    assert!(reached.contains("host-ok"), "{reached}");
    let before = queries.load(Ordering::SeqCst);
    let out = d.docker(&["exec", "inside", "nslookup", "example.test"]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("10.99.99.99"),
        "{}",
        text(&out)
    );
    assert_eq!(
        queries.load(Ordering::SeqCst),
        before,
        "an internal network forwarded a query"
    );

    // A network with endpoints cannot go; events name every step.
    let out = d.docker(&["network", "rm", "net1"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("active endpoints"),
        "{}",
        text(&out)
    );
    let out = d.docker(&["network", "rm", "bridge"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pre-defined"),
        "{}",
        text(&out)
    );
    ok(d.docker(&["rm", "-f", "web1", "client", "other", "inside", "outside"]));
    let bridges = cleanup::daemon_bridges(&d.data_root, &d.bridge);
    ok(d.docker(&["network", "rm", "net1", "net2", "inet"]));
    for b in bridges.iter().filter(|b| **b != d.bridge) {
        assert!(!cleanup::link_exists(b), "bridge {b} left after network rm");
    }
    // `--until` is whole seconds: let the last events fall in a past second.
    std::thread::sleep(Duration::from_millis(1100));
    let events = ok(d.docker(&[
        "events",
        "--since",
        "0",
        "--until",
        "0s",
        "--filter",
        "type=network",
        "--format",
        "{{.Action}}",
    ]));
    for action in ["create", "connect", "disconnect", "destroy"] {
        assert!(
            events.lines().any(|l| l == action),
            "{action} missing: {events}"
        );
    }
    for ip in [upstream_ip, own_ip] {
        let _ = UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .send_to(b"STOP-------", format!("{ip}:53"));
    }
    upstream.join().unwrap();
    own_upstream.join().unwrap();
}

#[test]
fn hundred_containers_get_distinct_addresses_and_300_networks_fit() {
    let _serial = serial();
    let d = daemon_with(&[]);
    ok(d.docker(&["network", "create", "big"]));
    let mut ids = Vec::new();
    for _ in 0..100 {
        ids.push(
            ok(d.docker(&["run", "-d", "--network", "big", "busybox", "sleep", "600"]))
                .trim()
                .to_owned(),
        );
    }
    let mut args = vec![
        "inspect",
        "--format",
        "{{.NetworkSettings.Networks.big.IPAddress}}",
    ];
    args.extend(ids.iter().map(String::as_str));
    let ips: Vec<String> = ok(d.docker(&args)).lines().map(str::to_owned).collect();
    let distinct: BTreeSet<&String> = ips.iter().collect();
    assert_eq!(ips.len(), 100);
    assert_eq!(distinct.len(), 100, "duplicate addresses: {ips:?}");
    assert!(ips.iter().all(|ip| !ip.is_empty()));
    assert_eq!(
        veths_on(&cleanup::daemon_bridges(&d.data_root, &d.bridge)[1]).len(),
        100
    );
    let mut rm = vec!["rm", "-f"];
    rm.extend(ids.iter().map(String::as_str));
    ok(d.docker(&rm));

    for i in 0..300 {
        let body = format!(r#"{{"Name":"n{i}"}}"#);
        let r = d
            .http(
                "POST",
                "/networks/create",
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            )
            .unwrap();
        assert_eq!(
            r.status,
            201,
            "network {i}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    let listed = ok(d.docker(&["network", "ls", "-q"]));
    assert_eq!(listed.lines().count(), 300 + 1 + 3);
    let subnets = ok(d.docker(&[
        "network",
        "inspect",
        "--format",
        "{{(index .IPAM.Config 0).Subnet}}",
        "n0",
        "n150",
        "n299",
    ]));
    let subnets: BTreeSet<&str> = subnets.lines().collect();
    assert_eq!(subnets.len(), 3);
    let bridges = cleanup::daemon_bridges(&d.data_root, &d.bridge);
    let pruned = ok(d.docker(&["network", "prune", "-f"]));
    assert_eq!(
        pruned
            .lines()
            .filter(|l| l.starts_with('n') || l == &"big")
            .count(),
        301,
        "{pruned}"
    );
    for b in bridges.iter().filter(|b| **b != d.bridge) {
        assert!(!cleanup::link_exists(b), "bridge {b} left after prune");
    }
}

#[test]
fn a_killed_daemon_keeps_addresses_and_ports_and_leaves_nothing() {
    let _serial = serial();
    let links_before = host_links();
    let tables_before = nft_tables();
    let mut d = daemon_with(&[]);
    let table = d.nft_table();
    assert!(
        nft_tables().iter().any(|t| t.ends_with(&table)),
        "{:?}",
        nft_tables()
    );
    ok(d.docker(&["network", "create", "keep"]));
    let port = free_port();
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        &format!("127.0.0.1:{port}:80"),
        "busybox",
        "sh",
        "-c",
        HTTPD,
    ]));
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "peer",
        "--network",
        "keep",
        "busybox",
        "sleep",
        "600",
    ]));
    let web_ip = ip_on(&d, "web", "bridge");
    let peer_ip = ip_on(&d, "peer", "keep");
    let url = format!("http://127.0.0.1:{port}/");
    wait_until("httpd", Duration::from_secs(10), || curl(&url).is_some());

    d.kill9();
    // The kernel keeps forwarding while the daemon is away.
    assert!(curl(&url).is_some(), "published port died with the daemon");
    d.launch().unwrap();
    assert_eq!(ip_on(&d, "web", "bridge"), web_ip);
    assert_eq!(ip_on(&d, "peer", "keep"), peer_ip);
    assert!(curl(&url).is_some(), "published port lost after restart");
    // The port is held again, and addresses are not handed out twice.
    let out = d.docker(&[
        "run",
        "-d",
        "-p",
        &format!("127.0.0.1:{port}:80"),
        "busybox",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out));
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "late",
        "--network",
        "keep",
        "busybox",
        "sleep",
        "600",
    ]));
    assert_ne!(ip_on(&d, "late", "keep"), peer_ip);
    let out = ok(d.docker(&["exec", "late", "nslookup", "peer"]));
    assert!(out.contains(&peer_ip), "embedded DNS after restart: {out}");

    let _ = d.docker(&["rm", "-f", "web", "peer", "late"]);
    let _ = d.docker(&["container", "prune", "-f"]);
    ok(d.docker(&["network", "rm", "keep"]));
    assert!(d.stop(), "daemon did not stop cleanly");
    assert!(
        !nft_tables().iter().any(|t| t.ends_with(&table)),
        "table left after shutdown"
    );
    assert_eq!(nft_tables(), tables_before);
    // Only the default bridge stays (as docker0 does); no veth, no user bridge.
    let mut expected = links_before.clone();
    expected.insert(d.bridge.clone());
    let now = host_links();
    let extra: Vec<_> = now.difference(&expected).collect();
    assert!(extra.is_empty(), "links left behind: {extra:?}");
}

#[test]
fn static_ip_mac_links_host_gateway_and_berth_cli() {
    let _serial = serial();
    let d = daemon_with(&[]);
    ok(d.berth(&[
        "network",
        "create",
        "--subnet",
        "10.123.45.0/24",
        "--gateway",
        "10.123.45.254",
        "fixed",
    ]));
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "pinned",
        "--network",
        "fixed",
        "--ip",
        "10.123.45.77",
        "--mac-address",
        "02:aa:bb:cc:dd:ee",
        "--add-host",
        "hostbox:host-gateway",
        "busybox",
        "sleep",
        "600",
    ]));
    let ep = inspect(&d, "pinned")["NetworkSettings"]["Networks"]["fixed"].clone();
    assert_eq!(ep["IPAddress"], "10.123.45.77", "{ep}");
    assert_eq!(ep["Gateway"], "10.123.45.254", "{ep}");
    assert_eq!(ep["MacAddress"], "02:aa:bb:cc:dd:ee", "{ep}");
    assert_eq!(ep["IPAMConfig"]["IPv4Address"], "10.123.45.77", "{ep}");
    assert!(
        ep["DNSNames"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "pinned"),
        "{ep}"
    );
    let link = ok(d.docker(&["exec", "pinned", "ip", "link", "show", "eth0"]));
    assert!(link.contains("02:aa:bb:cc:dd:ee"), "{link}");
    let route = ok(d.docker(&["exec", "pinned", "ip", "route"]));
    assert!(route.contains("default via 10.123.45.254"), "{route}");
    let hosts = ok(d.docker(&["exec", "pinned", "cat", "/etc/hosts"]));
    let gateway = d.bip.split('/').next().unwrap();
    assert!(hosts.contains(&format!("{gateway}\thostbox")), "{hosts}");
    // The same static address twice is refused; one outside the subnet too.
    let out = d.docker(&[
        "run",
        "-d",
        "--network",
        "fixed",
        "--ip",
        "10.123.45.77",
        "busybox",
        "true",
    ]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    // --ip on the default bridge is Docker's 400.
    let out = d.docker(&["create", "--ip", "10.9.9.9", "busybox", "true"]);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("user specified IP address is supported on user defined networks only"),
        "{}",
        text(&out)
    );

    // --link on the default bridge writes /etc/hosts entries.
    ok(d.docker(&["run", "-d", "--name", "db", "busybox", "sleep", "600"]));
    let db_ip = ip_on(&d, "db", "bridge");
    let hosts = ok(d.docker(&[
        "run",
        "--rm",
        "--link",
        "db:database",
        "busybox",
        "cat",
        "/etc/hosts",
    ]));
    assert!(
        hosts.lines().any(|l| l.starts_with(&format!("{db_ip}\t"))
            && l.contains("database")
            && l.contains("db")),
        "{hosts}"
    );

    // berth's own CLI sees the same networks and ports.
    let ls = ok(d.berth(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"]));
    for want in ["bridge bridge", "host host", "none null", "fixed bridge"] {
        assert!(ls.lines().any(|l| l == want), "{want} missing: {ls}");
    }
    let port = free_port();
    ok(d.berth(&[
        "run",
        "-d",
        "--name",
        "pub",
        "-p",
        &format!("127.0.0.1:{port}:80/tcp"),
        "busybox",
        "sh",
        "-c",
        HTTPD,
    ]));
    assert_eq!(
        ok(d.berth(&["port", "pub"])).trim(),
        format!("80/tcp -> 127.0.0.1:{port}")
    );
    let ps = ok(d.berth(&[
        "ps",
        "--filter",
        &format!("publish={port}"),
        "--format",
        "{{.Names}}",
    ]));
    assert_eq!(ps.trim(), "pub");
    let ps = ok(d.berth(&["ps", "--filter", "network=fixed", "--format", "{{.Names}}"]));
    assert_eq!(ps.trim(), "pinned");
    ok(d.docker(&["rm", "-f", "pinned", "db", "pub"]));
    ok(d.berth(&["network", "rm", "fixed"]));
}

/// A "test host" outside the machine: a network namespace behind a veth pair with a /30 of
/// its own, removed on drop (also when the test fails).
struct OutsideHost {
    netns: String,
    host_if: String,
    host_ip: String,
    peer_ip: String,
}

impl OutsideHost {
    fn new() -> Self {
        let tag = format!("{:06x}", std::process::id() & 0xff_ffff);
        let octet = std::process::id() % 60 + 1;
        let me = Self {
            netns: format!("bto{tag}"),
            host_if: format!("bto{tag}h"),
            host_ip: format!("10.251.{octet}.1"),
            peer_ip: format!("10.251.{octet}.2"),
        };
        let ip = |args: &[&str]| {
            let out = Command::new("ip").args(args).output().unwrap();
            assert!(out.status.success(), "ip {args:?}: {}", text(&out));
        };
        ip(&["netns", "add", &me.netns]);
        ip(&[
            "link",
            "add",
            &me.host_if,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            &me.netns,
        ]);
        ip(&[
            "addr",
            "add",
            &format!("{}/30", me.host_ip),
            "dev",
            &me.host_if,
        ]);
        ip(&["link", "set", &me.host_if, "up"]);
        let inside = ["netns", "exec", &me.netns, "ip"];
        let mut args = inside.to_vec();
        let addr = format!("{}/30", me.peer_ip);
        args.extend(["addr", "add", &addr, "dev", "eth0"]);
        ip(&args);
        let mut args = inside.to_vec();
        args.extend(["link", "set", "eth0", "up"]);
        ip(&args);
        me
    }

    /// Accepts one TCP connection on port 8080 inside the namespace and returns the peer
    /// address it came from.
    fn accept_one(&self) -> std::process::Child {
        Command::new("ip")
            .args(["netns", "exec", &self.netns, "python3", "-c"])
            .arg(
                "import socket\n\
                 s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
                 s.bind(('0.0.0.0', 8080)); s.listen(1); s.settimeout(30)\n\
                 print('ready', flush=True)\n\
                 c, a = s.accept(); print(a[0], flush=True); c.close()\n",
            )
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }
}

impl Drop for OutsideHost {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "delete", &self.host_if])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.netns])
            .output();
    }
}

#[test]
fn outbound_traffic_leaves_with_the_host_address() {
    use std::io::BufRead;
    let _serial = serial();
    let outside = OutsideHost::new();
    let d = daemon_with(&[]);
    for network in ["bridge", "masqnet"] {
        if network != "bridge" {
            ok(d.docker(&["network", "create", network]));
        }
        let mut server = outside.accept_one();
        let mut lines = std::io::BufReader::new(server.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready");
        let out = ok(d.docker(&[
            "run",
            "--rm",
            "--network",
            network,
            "busybox",
            "sh",
            "-c",
            &format!(
                "ip -4 -o addr show eth0; echo hi | nc -w 5 {} 8080; echo sent",
                outside.peer_ip
            ),
        ]));
        assert!(out.contains("sent"), "{out}");
        let seen = lines.next().unwrap().unwrap();
        let _ = server.wait();
        // The outside host sees the host's address, never the container's private one.
        assert_eq!(seen, outside.host_ip, "{network}: container said {out}");
    }
}

/// An empty bridge holding 172.17.0.1/16, so the host routes Docker's default range; removed
/// on drop.
struct TakenDefaultRange(String);

impl Drop for TakenDefaultRange {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "delete", &self.0])
            .output();
    }
}

#[test]
fn default_bridge_moves_off_a_range_the_host_already_routes() {
    let _serial = serial();
    let taken = TakenDefaultRange(format!("btd{:05x}", std::process::id() & 0xf_ffff));
    let ip = |args: &[&str]| {
        let out = Command::new("ip").args(args).output().unwrap();
        assert!(out.status.success(), "ip {args:?}: {}", text(&out));
    };
    ip(&["link", "add", &taken.0, "type", "bridge"]);
    ip(&["addr", "add", "172.17.0.1/16", "dev", &taken.0]);
    ip(&["link", "set", &taken.0, "up"]);
    // No --bip: the daemon picks the default bridge's range itself.
    let bridge = format!("btf{:05x}", std::process::id() & 0xf_ffff);
    let mut d = TestDaemon::prepare(BIN, &["--bridge", &bridge]);
    d.bridge = bridge.clone();
    d.launch().unwrap_or_else(|e| panic!("{e}"));
    d.load_busybox();
    let net = inspect(&d, "bridge");
    let subnet = net["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(subnet, "172.17.0.0/16");
    assert!(
        subnet.starts_with("172.") || subnet.starts_with("192.168."),
        "{subnet}"
    );
    // `info` says so.
    let warnings = ok(d.docker(&["info", "--format", "{{json .Warnings}}"]));
    assert!(
        warnings.contains("172.17.0.0/16") && warnings.contains(&subnet),
        "{warnings}"
    );
    // A container gets an address in the chosen range.
    let out = ok(d.docker(&[
        "run", "--rm", "busybox", "ip", "-4", "-o", "addr", "show", "eth0",
    ]));
    let prefix: String = subnet.split('.').take(2).collect::<Vec<_>>().join(".");
    assert!(out.contains(&format!("inet {prefix}.")), "{out}");
}

/// `--network container:X` shares X's namespace. When X stops, its veth is deleted (the
/// joiner keeps only `lo`, as with Docker) even though the joiner keeps the namespace
/// alive; a `run --rm` and an `rm` leave no veth on the bridge.
#[test]
fn a_shared_namespace_loses_the_donors_veth_and_nothing_is_left() {
    let _serial = serial();
    let d = daemon_with(&[]);
    ok(d.docker(&["run", "-d", "--name", "donor", "busybox", "sleep", "300"]));
    let donor_ip = inspect(&d, "donor")["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "joiner",
        "--network",
        "container:donor",
        "busybox",
        "sleep",
        "300",
    ]));
    let joined = ok(d.docker(&["exec", "joiner", "ip", "-o", "-4", "addr"]));
    assert!(joined.contains(&format!("{donor_ip}/")), "{joined}");
    assert_eq!(veths_on(&d.bridge).len(), 1);

    ok(d.docker(&["stop", "-t", "0", "donor"]));
    // The donor's address must not live on in the joiner's namespace: it goes back to the
    // pool, and another container may get it.
    let left = ok(d.docker(&["exec", "joiner", "ip", "-o", "link"]));
    assert!(!left.contains("eth0"), "{left}");
    assert!(veths_on(&d.bridge).is_empty(), "{:?}", veths_on(&d.bridge));

    // A `run --rm` on the bridge: its veth goes with its namespace right after.
    ok(d.docker(&["run", "--rm", "busybox", "true"]));
    wait_until(
        "the veth of a run --rm to go",
        Duration::from_secs(5),
        || veths_on(&d.bridge).is_empty(),
    );
    // A user's rm returns once the veth is gone.
    ok(d.docker(&["run", "-d", "--name", "short", "busybox", "sleep", "300"]));
    assert_eq!(veths_on(&d.bridge).len(), 1);
    ok(d.docker(&["rm", "-f", "short", "joiner", "donor"]));
    assert!(veths_on(&d.bridge).is_empty(), "{:?}", veths_on(&d.bridge));
    let netns_left = std::fs::read_dir(d.exec_root.join("netns"))
        .map(|r| r.count())
        .unwrap_or(0);
    assert_eq!(netns_left, 0);
}
