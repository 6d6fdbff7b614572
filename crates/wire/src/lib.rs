//! Opening a session with a gateway, in one place for every client (the feed's network
//! thread, the gateway's own rewind relay, the unit import, the benches): connect within
//! a time limit (ws, or wss with the site's CA), then say hello with the protocol
//! version, the token, the resume point and the region. A crate of its own below both
//! the feed and the gateway, so that the server never imports the client.

pub mod http;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use protocol::compact::Encoding;
use protocol::{ClientMsg, Hello, PROTOCOL_VERSION, Resume, RewindAsk};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a connection may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The hello this build sends, for a JSON snapshot.
pub fn hello(token: &str, resume_from: Option<Resume>, region: Option<String>) -> ClientMsg {
    hello_with(token, resume_from, region, Encoding::Json)
}

/// The hello, asking for the snapshot in `encoding`.
pub fn hello_with(
    token: &str,
    resume_from: Option<Resume>,
    region: Option<String>,
    encoding: Encoding,
) -> ClientMsg {
    ClientMsg::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        token: token.to_string(),
        resume_from,
        region,
        rewind: None,
        encoding,
    })
}

/// The hello of a rewind: the gateway replays its own log on this connection.
pub fn rewind_hello(token: &str, region: Option<String>, ask: RewindAsk) -> ClientMsg {
    ClientMsg::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        token: token.to_string(),
        resume_from: None,
        region,
        rewind: Some(ask),
        encoding: Encoding::Json,
    })
}

/// The TLS side of a client for `wss://`: trusts the gateway's CA (a PEM file) and
/// nothing else (a center's gateway has its own CA, not a public one).
pub fn tls(ca: &Path) -> Result<Connector, String> {
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("CA file {}: {e}", ca.display()))?;
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!("CA file {}: no certificate in it", ca.display()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Connector::Rustls(Arc::new(config)))
}

/// Connect to `url` (`ws://`, or `wss://` with `tls`) and say `hello`. The error says
/// which step failed, in words.
pub async fn open(url: &str, tls: Option<&Connector>, hello: &ClientMsg) -> Result<Ws, String> {
    if url.starts_with("wss://") && tls.is_none() {
        return Err(format!("{url}: a wss:// gateway needs its CA file (--ca)"));
    }
    // Small reads: a wall takes many small frames, and memory per connection matters more
    // than throughput on one.
    let cfg = WebSocketConfig::default().read_buffer_size(8 * 1024);
    let connector = if url.starts_with("wss://") {
        tls.cloned()
    } else {
        None
    };
    let connect = tokio_tungstenite::connect_async_tls_with_config(url, Some(cfg), true, connector);
    let mut ws = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(e)) => return Err(format!("connect to {url}: {e}")),
        Err(_) => return Err(format!("connect to {url}: timed out")),
    };
    let text = serde_json::to_string(hello).map_err(|e| format!("hello: {e}"))?;
    ws.send(Message::Text(text.into()))
        .await
        .map_err(|e| format!("hello: {e}"))?;
    Ok(ws)
}
