//! TCP with mutual TLS: certificates made here; a client without a valid certificate is
//! refused.

use std::path::Path;

use berth_testkit::{TestDaemon, DOCKER_CLI};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

const BIN: &str = env!("CARGO_BIN_EXE_berth");

struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// Writes `<prefix>cert.pem` and `<prefix>key.pem` signed by `ca`.
fn leaf(ca: &Ca, dir: &Path, prefix: &str, sans: &[&str], usage: ExtendedKeyUsagePurpose) {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, prefix);
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, &ca.issuer).unwrap();
    std::fs::write(dir.join(format!("{prefix}cert.pem")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{prefix}key.pem")), key.serialize_pem()).unwrap();
}

fn path(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

#[test]
fn mutual_tls_admits_signed_clients_and_refuses_others() {
    let certs = tempfile::tempdir().unwrap();
    let dir = certs.path();
    let good = ca("berth test CA");
    std::fs::write(dir.join("ca.pem"), &good.pem).unwrap();
    leaf(
        &good,
        dir,
        "server-",
        &["localhost", "127.0.0.1"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    leaf(
        &good,
        dir,
        "",
        &["client"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let rogue = ca("rogue CA");
    leaf(
        &rogue,
        dir,
        "rogue-",
        &["client"],
        ExtendedKeyUsagePurpose::ClientAuth,
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let tcp = format!("tcp://127.0.0.1:{port}");
    let (ca_pem, server_cert, server_key) = (
        path(dir, "ca.pem"),
        path(dir, "server-cert.pem"),
        path(dir, "server-key.pem"),
    );
    let d = TestDaemon::start_with(
        BIN,
        &[
            "-H",
            &tcp,
            "--tlsverify",
            "--tlscacert",
            &ca_pem,
            "--tlscert",
            &server_cert,
            "--tlskey",
            &server_key,
        ],
    );

    let (cert, key) = (path(dir, "cert.pem"), path(dir, "key.pem"));
    let tls_args = [
        "--tlsverify",
        "--tlscacert",
        &ca_pem,
        "--tlscert",
        &cert,
        "--tlskey",
        &key,
        "-H",
        &tcp,
    ];
    for program in [DOCKER_CLI, BIN] {
        let out = d.cli_with(program, &tls_args, &["version"]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("1.50 (minimum version 1.24)"),
            "{program}: {stdout}"
        );
    }
    let info = d.cli_with(DOCKER_CLI, &tls_args, &["info", "--format", "{{.OSType}}"]);
    assert_eq!(String::from_utf8_lossy(&info.stdout).trim(), "linux");

    // No client certificate at all.
    let no_cert = d.cli_with(
        DOCKER_CLI,
        &["--tlsverify", "--tlscacert", &ca_pem, "-H", &tcp],
        &["version", "--format", "{{.Server.Version}}"],
    );
    assert!(!no_cert.status.success());
    assert!(String::from_utf8_lossy(&no_cert.stdout).trim().is_empty());
    // A certificate from another CA.
    let (rc, rk) = (path(dir, "rogue-cert.pem"), path(dir, "rogue-key.pem"));
    for program in [DOCKER_CLI, BIN] {
        let out = d.cli_with(
            program,
            &[
                "--tlsverify",
                "--tlscacert",
                &ca_pem,
                "--tlscert",
                &rc,
                "--tlskey",
                &rk,
                "-H",
                &tcp,
            ],
            &["version", "--format", "{{.Server.Version}}"],
        );
        assert!(
            !out.status.success(),
            "{program} with a rogue certificate was admitted"
        );
    }
    // Plain HTTP on the TLS port gets nothing useful either.
    let plain = d.cli_with(
        DOCKER_CLI,
        &["-H", &tcp],
        &["version", "--format", "{{.Server.Version}}"],
    );
    assert!(!plain.status.success());
    // The unix socket still works alongside.
    assert_eq!(d.http("GET", "/_ping", &[], b"").unwrap().status, 200);
}
