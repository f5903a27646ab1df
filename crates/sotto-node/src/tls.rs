//! The HTTPS certificate. Like oxen-storage-server, a node uses a self-signed certificate made at
//! first start: clients do not verify it, since a node's identity is proven by its onion-layer
//! key and its signed answers (`storage-rpc.md` §1.1).

use std::fs;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::err::{Error, Result};
use crate::keys::write_private;

/// Certificate file in the data directory.
pub const CERT_FILE: &str = "tls_cert.pem";
/// Its private key.
pub const CERT_KEY_FILE: &str = "tls_key.pem";

/// A rustls server configuration from the data directory's certificate, made if absent.
pub fn server_config(dir: &Path) -> Result<Arc<rustls::ServerConfig>> {
    let cert_path = dir.join(CERT_FILE);
    let key_path = dir.join(CERT_KEY_FILE);
    if !cert_path.exists() || !key_path.exists() {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
            .map_err(|e| Error::Tls(e.to_string()))?;
        // A half-written pair from an interrupted start is replaced.
        let _ = fs::remove_file(&key_path);
        write_private(&key_path, cert.key_pair.serialize_pem().as_bytes())?;
        fs::write(&cert_path, cert.cert.pem())?;
    }
    let certs = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| Error::Tls(format!("{}: {e}", cert_path.display())))?;
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| Error::Tls(format!("{}: {e}", key_path.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::Tls(e.to_string()))?;
    Ok(Arc::new(config))
}
