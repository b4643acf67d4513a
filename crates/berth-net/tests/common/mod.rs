//! Shared helpers of the integration tests: unique names, and guards that remove what a
//! test made (links, namespaces, nft tables) even when it fails.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use berth_net::{
    default_gateway, mac_for_ip, netns_create, netns_remove, netns_run, nft_remove, overlaps,
    EndpointSpec, Ipv4Net, Netlink,
};
use rand::seq::SliceRandom;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// `<pid%10000><n>`: unique within this machine's running test processes.
pub fn unique() -> String {
    format!(
        "{}{}",
        std::process::id() % 10000,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs async cleanup from a Drop, whatever runtime (if any) the test is in.
fn block_on_fresh<F: std::future::Future<Output = ()> + Send + 'static>(f: F) {
    let _ = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    })
    .join();
}

pub struct LinkGuard(pub String);

impl Drop for LinkGuard {
    fn drop(&mut self) {
        let name = self.0.clone();
        block_on_fresh(async move {
            if let Ok(nl) = Netlink::new().await {
                if let Err(e) = nl.delete_link(&name).await {
                    eprintln!("cleanup: delete link {name}: {e}");
                }
            }
        });
    }
}

pub struct NetnsGuard(pub PathBuf);

impl NetnsGuard {
    pub fn create() -> NetnsGuard {
        let path = PathBuf::from(format!("/run/berth-net-test/{}/ns", unique()));
        netns_create(&path).expect("netns_create");
        NetnsGuard(path)
    }
}

impl Drop for NetnsGuard {
    fn drop(&mut self) {
        if let Err(e) = netns_remove(&self.0) {
            eprintln!("cleanup: {e}");
        }
        // Best effort: other tests of this run may still use the shared top directory.
        for dir in self.0.ancestors().skip(1).take(2) {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

pub struct NftGuard(pub String);

impl Drop for NftGuard {
    fn drop(&mut self) {
        if let Err(e) = nft_remove(&self.0) {
            eprintln!("cleanup: {e}");
        }
    }
}

static PICKED: Mutex<Vec<Ipv4Net>> = Mutex::new(Vec::new());

/// A /24 out of 10.213.0.0/16 that the host does not route and that no other test of
/// this process took; random, so that concurrent test processes rarely meet.
pub async fn free_test_subnet() -> Ipv4Net {
    let routes = Netlink::new().await.unwrap().host_routes().await.unwrap();
    let mut picked = PICKED.lock().unwrap();
    let base: Ipv4Net = "10.213.0.0/16".parse().unwrap();
    let mut free: Vec<Ipv4Net> = base
        .subnets(24)
        .unwrap()
        .filter(|c| !routes.iter().chain(picked.iter()).any(|r| overlaps(c, r)))
        .collect();
    free.shuffle(&mut rand::thread_rng());
    let s = *free.first().expect("a free test subnet");
    picked.push(s);
    s
}

/// A bridge with its gateway address, removed on drop.
pub struct TestBridge {
    pub name: String,
    pub subnet: Ipv4Net,
    pub gateway: Ipv4Addr,
    _guard: LinkGuard,
}

impl TestBridge {
    pub async fn new(nl: &Netlink) -> TestBridge {
        let name = format!("bt{}", unique());
        let subnet = free_test_subnet().await;
        let gateway = default_gateway(subnet);
        let guard = LinkGuard(name.clone());
        nl.ensure_bridge(&name, Ipv4Net::new(gateway, 24).unwrap(), None)
            .await
            .expect("ensure_bridge");
        TestBridge {
            name,
            subnet,
            gateway,
            _guard: guard,
        }
    }

    /// The n-th host address of the subnet (n=1 is the gateway).
    pub fn host(&self, n: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.subnet.network()) + n)
    }
}

/// A namespace with an endpoint on a bridge; both removed on drop (endpoint first).
pub struct TestEndpoint {
    pub spec: EndpointSpec,
    _link: LinkGuard,
    pub ns: NetnsGuard,
}

impl TestEndpoint {
    pub async fn new(nl: &Netlink, br: &TestBridge, host_n: u32) -> TestEndpoint {
        let ns = NetnsGuard::create();
        let ip = br.host(host_n);
        let spec = EndpointSpec {
            bridge: br.name.clone(),
            host_ifname: berth_net::host_veth_name(),
            netns: ns.0.clone(),
            container_ifname: "eth0".into(),
            address: Ipv4Net::new(ip, 24).unwrap(),
            gateway: Some(br.gateway),
            mac: mac_for_ip(ip),
            mtu: None,
        };
        let link = LinkGuard(spec.host_ifname.clone());
        nl.create_endpoint(&spec).await.expect("create_endpoint");
        TestEndpoint {
            spec,
            _link: link,
            ns,
        }
    }

    pub fn ip(&self) -> Ipv4Addr {
        self.spec.address.addr()
    }

    /// A TCP listener on the endpoint's address inside its namespace.
    pub fn listen(&self) -> TcpListener {
        let ip = self.ip();
        netns_run(&self.ns.0, move || TcpListener::bind((ip, 0)))
            .unwrap()
            .expect("bind inside netns")
    }

    /// Connects from inside the namespace; Ok with the local address on success.
    pub fn connect_from_inside(&self, to: SocketAddr) -> std::io::Result<SocketAddr> {
        netns_run(&self.ns.0, move || {
            let s =
                std::net::TcpStream::connect_timeout(&to, std::time::Duration::from_millis(800))?;
            s.local_addr()
        })
        .unwrap()
    }
}

/// Accepts one connection on `l` (with a deadline) and returns the peer address.
pub fn accept_one(l: TcpListener) -> std::thread::JoinHandle<std::io::Result<SocketAddr>> {
    std::thread::spawn(move || {
        l.set_nonblocking(true)?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            match l.accept() {
                Ok((mut s, peer)) => {
                    use std::io::Write;
                    s.set_nonblocking(false)?;
                    s.write_all(b"hello from the netns")?;
                    return Ok(peer);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if std::time::Instant::now() > deadline {
                        return Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "no connection",
                        ));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => return Err(e),
            }
        }
    })
}
