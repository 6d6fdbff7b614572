//! Opening a session with a gateway, in one place for every client of the feed (the
//! wall's network thread, the recorder, the benches): connect within a time limit, then
//! say hello with the protocol version, the token, the resume point and the region.

use std::time::Duration;

use futures_util::SinkExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::protocol::{ClientMsg, Hello, PROTOCOL_VERSION, Resume};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a connection may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The hello this build sends.
pub fn hello(token: &str, resume_from: Option<Resume>, region: Option<String>) -> ClientMsg {
    ClientMsg::Hello(Hello {
        protocol: PROTOCOL_VERSION,
        token: token.to_string(),
        resume_from,
        region,
    })
}

/// Connect to `url` and say `hello`. The error says which step failed, in words.
pub async fn open(url: &str, hello: &ClientMsg) -> Result<Ws, String> {
    // Small reads: a wall takes many small frames, and memory per connection matters more
    // than throughput on one.
    let cfg = WebSocketConfig::default().read_buffer_size(8 * 1024);
    let connect = tokio_tungstenite::connect_async_with_config(url, Some(cfg), true);
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
