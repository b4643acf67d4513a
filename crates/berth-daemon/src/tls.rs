//! TLS for TCP listeners: server certificates, and client verification against a CA for
//! mutual TLS (`--tlsverify`).

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use crate::config::TlsMode;

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let mut reader =
        BufReader::new(File::open(path).with_context(|| format!("open {}", path.display()))?);
    let certs = rustls_pemfile::certs(&mut reader)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("read certificates from {}", path.display()))?;
    if certs.is_empty() {
        bail!("no certificate found in {}", path.display());
    }
    Ok(certs)
}

fn key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let mut reader =
        BufReader::new(File::open(path).with_context(|| format!("open {}", path.display()))?);
    rustls_pemfile::private_key(&mut reader)
        .with_context(|| format!("read private key from {}", path.display()))?
        .with_context(|| format!("no private key found in {}", path.display()))
}

/// The rustls configuration for `mode`, or `None` when TLS is off.
pub fn server_config(mode: &TlsMode) -> Result<Option<Arc<ServerConfig>>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?;
    let config = match mode {
        TlsMode::Off { .. } => return Ok(None),
        TlsMode::ServerOnly { cert, key: k } => builder
            .with_no_client_auth()
            .with_single_cert(certs(cert)?, key(k)?)
            .context("TLS certificate and key do not match")?,
        TlsMode::Mutual { ca, cert, key: k } => {
            let mut roots = RootCertStore::empty();
            for c in certs(ca)? {
                roots
                    .add(c)
                    .with_context(|| format!("add CA certificate from {}", ca.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .context("build client certificate verifier")?;
            builder
                .with_client_cert_verifier(verifier)
                .with_single_cert(certs(cert)?, key(k)?)
                .context("TLS certificate and key do not match")?
        }
    };
    Ok(Some(Arc::new(config)))
}
