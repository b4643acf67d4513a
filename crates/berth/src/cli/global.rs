//! Options every client command shares, resolved as the docker CLI resolves them:
//! `-H` over `BERTH_HOST` over `DOCKER_HOST` over the default socket; TLS from flags or
//! `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use berth_client::{Client, TlsOptions};

pub const DEFAULT_HOST: &str = "unix:///run/berth/berth.sock";

#[derive(clap::Args, Debug, Clone, Default)]
pub struct GlobalOptions {
    /// Daemon socket to connect to
    #[arg(short = 'H', long = "host", value_name = "ADDR")]
    pub host: Option<String>,
    /// Use TLS; implied by --tlsverify
    #[arg(long)]
    pub tls: bool,
    /// Use TLS and verify the remote
    #[arg(long)]
    pub tlsverify: bool,
    /// Trust certs signed only by this CA
    #[arg(long, value_name = "PATH")]
    pub tlscacert: Option<PathBuf>,
    /// Path to TLS certificate file
    #[arg(long, value_name = "PATH")]
    pub tlscert: Option<PathBuf>,
    /// Path to TLS key file
    #[arg(long, value_name = "PATH")]
    pub tlskey: Option<PathBuf>,
    /// Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")
    #[arg(short = 'l', long = "log-level", value_name = "LEVEL")]
    pub log_level: Option<String>,
}

fn env_nonempty(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

impl GlobalOptions {
    pub fn host(&self) -> String {
        self.host
            .clone()
            .or_else(|| env_nonempty("BERTH_HOST"))
            .or_else(|| env_nonempty("DOCKER_HOST"))
            .unwrap_or_else(|| DEFAULT_HOST.to_owned())
    }

    fn tls_options(&self) -> Option<TlsOptions> {
        let verify = self.tlsverify || env_nonempty("DOCKER_TLS_VERIFY").is_some();
        if !(verify || self.tls) {
            return None;
        }
        let dir = env_nonempty("DOCKER_CERT_PATH")
            .map(PathBuf::from)
            .or_else(|| env_nonempty("HOME").map(|h| Path::new(&h).join(".docker")))
            .unwrap_or_default();
        let pick = |given: &Option<PathBuf>, name: &str| {
            given.clone().or_else(|| {
                let p = dir.join(name);
                p.exists().then_some(p)
            })
        };
        Some(TlsOptions {
            verify,
            ca: pick(&self.tlscacert, "ca.pem"),
            cert: pick(&self.tlscert, "cert.pem"),
            key: pick(&self.tlskey, "key.pem"),
        })
    }

    pub fn client(&self) -> Result<Client> {
        let host = self.host();
        let tls = if host.starts_with("unix://") {
            None
        } else {
            self.tls_options()
        };
        Ok(Client::new(&host, tls)?)
    }
}
