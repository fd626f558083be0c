//! A certificate authority made at test time, and server certificates it signs: for a TLS
//! identity server ([`crate::Idp::start_tls`]) and the N2 trust tests (`tests/cli/tls.rs`).
//!
//! Clients trust it the way a deployment trusts a private CA, without touching the system: the
//! engine (reqwest, rustls, rustls-native-certs) through `SSL_CERT_FILE` naming [`TestCa::ca_file`]
//! (rustls-native-certs 0.8 then loads that file instead of the OS store), Node.js through
//! `NODE_EXTRA_CA_CERTS`. Nothing here turns verification off.

use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// A fresh CA; its certificate is written to `ca.pem` in a folder of its own, removed on drop.
pub struct TestCa {
    dir: PathBuf,
    ca_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A server certificate from a [`TestCa`], for `names` (DNS names or IP addresses: rcgen makes
/// an IP address SAN of a name that parses as one).
pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: Vec<u8>,
    /// PKCS #8.
    pub key_der: Vec<u8>,
}

impl TestCa {
    pub fn new() -> TestCa {
        let key = KeyPair::generate().expect("a CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "dcr-desktop test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_pem = params.self_signed(&key).expect("the CA certificate").pem();
        let dir = scratch_dir("dcr-test-ca");
        std::fs::write(dir.join("ca.pem"), &ca_pem).expect("write ca.pem");
        TestCa {
            dir,
            ca_pem,
            issuer: Issuer::new(params, key),
        }
    }

    /// The CA certificate, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The PEM file holding the CA certificate, for `SSL_CERT_FILE` or `NODE_EXTRA_CA_CERTS`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// A server certificate for `names`, signed by this CA.
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        let key = KeyPair::generate().expect("a server key");
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("server parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, "dcr-desktop test server");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("the server certificate");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }
}

impl Default for TestCa {
    fn default() -> Self {
        TestCa::new()
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A server's certificate and key as PEM files (`IDP_TLS_CERT`, `IDP_TLS_KEY`) and the CA that
/// signed them, in a folder removed on drop. The key is a throwaway made for this server.
pub(crate) struct ServerFiles {
    dir: PathBuf,
    pub(crate) ca_pem: String,
}

impl ServerFiles {
    pub(crate) fn new(ca: &TestCa, names: &[&str]) -> ServerFiles {
        let leaf = ca.leaf(names);
        let dir = scratch_dir("dcr-test-tls-server");
        std::fs::write(dir.join("cert.pem"), leaf.cert_pem).expect("write cert.pem");
        std::fs::write(dir.join("key.pem"), leaf.key_pem).expect("write key.pem");
        ServerFiles {
            dir,
            ca_pem: ca.ca_pem().to_owned(),
        }
    }

    pub(crate) fn cert(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    pub(crate) fn key(&self) -> PathBuf {
        self.dir.join("key.pem")
    }
}

impl Drop for ServerFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh folder under the temporary directory, named after this process and a random token.
fn scratch_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "{prefix}-{}-{}",
        std::process::id(),
        crate::random_token(8)
    ));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}
