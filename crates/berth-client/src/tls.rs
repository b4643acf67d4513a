//! TLS for TCP endpoints, with the docker CLI's options: `--tlsverify` checks the daemon's
//! certificate against `--tlscacert`; plain `--tls` encrypts without checking it; a client
//! certificate is presented when one is given (mutual TLS).

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::ClientError;

#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    pub verify: bool,
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

fn tls_err(path: &Path, what: &str, e: impl std::fmt::Display) -> ClientError {
    ClientError::Tls(format!("could not read {what} {}: {e}", path.display()))
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let f = File::open(path).map_err(|e| tls_err(path, "certificate", e))?;
    rustls_pemfile::certs(&mut BufReader::new(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_err(path, "certificate", e))
}

fn key(path: &Path) -> Result<PrivateKeyDer<'static>, ClientError> {
    let f = File::open(path).map_err(|e| tls_err(path, "key", e))?;
    rustls_pemfile::private_key(&mut BufReader::new(f))
        .map_err(|e| tls_err(path, "key", e))?
        .ok_or_else(|| tls_err(path, "key", "no private key found"))
}

impl TlsOptions {
    pub(crate) fn client_config(&self) -> Result<Arc<ClientConfig>, ClientError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| ClientError::Tls(e.to_string()))?;
        let builder = if self.verify {
            let ca = self.ca.as_deref().ok_or_else(|| {
                ClientError::Tls("--tlsverify needs a CA certificate (--tlscacert)".into())
            })?;
            let mut roots = RootCertStore::empty();
            for c in certs(ca)? {
                roots.add(c).map_err(|e| tls_err(ca, "CA certificate", e))?;
            }
            builder.with_root_certificates(roots)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoServerVerification(provider)))
        };
        let config = match (&self.cert, &self.key) {
            (Some(c), Some(k)) if c.exists() && k.exists() => builder
                .with_client_auth_cert(certs(c)?, key(k)?)
                .map_err(|e| ClientError::Tls(format!("client certificate: {e}")))?,
            _ => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}

/// `--tls` without `--tlsverify`: encrypt, but accept any server certificate (the docker
/// CLI's InsecureSkipVerify). Signatures are still checked so the handshake is sound.
#[derive(Debug)]
struct NoServerVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoServerVerification {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
