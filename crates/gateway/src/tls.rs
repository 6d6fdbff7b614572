//! TLS for both ports (`wss://` and `https://`), with rustls: the certificate chain and
//! key from PEM files named in gateway.toml (`[tls]`). Plain TCP stays the default, for
//! the demo on loopback. The handshake counts against the same deadline as the hello.

use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

/// A connection's byte stream, over TLS or not.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
pub type Stream = Pin<Box<dyn Io>>;

/// The server side of TLS, from the certificate chain and key files.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<_, _>>())
        .map_err(|e| format!("[tls] cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "[tls] cert {}: no certificate in it",
            cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("[tls] key {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("[tls]: the key does not go with the certificate: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The stream of an accepted connection: through the TLS handshake when there is an
/// acceptor, as it is otherwise.
pub async fn accept(tcp: TcpStream, tls: Option<&TlsAcceptor>) -> io::Result<Stream> {
    Ok(match tls {
        Some(a) => Box::pin(a.accept(tcp).await?),
        None => Box::pin(tcp),
    })
}
