//! A plain HTTP/1.1 GET with a bearer token, blocking, over TCP or TLS (the gateway's own
//! CA, as for `wss://`): what a wall needs to fetch a photo from the gateway's HTTP port.
//! One request a connection (`Connection: close`), a body by `Content-Length` or to the
//! end; nothing more of HTTP is needed here.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use tokio_tungstenite::Connector;

const TIMEOUT: Duration = Duration::from_secs(10);
/// A photo is at most a few megabytes: a larger answer is not one.
const MAX_BODY: u64 = 16 << 20;

/// `GET url` with `Authorization: Bearer token`; the body of a 200, or why not.
pub fn get(url: &str, token: &str, tls: Option<&Connector>) -> Result<Vec<u8>, String> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(format!("{url}: not an http:// or https:// address"));
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let host = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => &authority[..i],
        _ => authority,
    };
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("{authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority}: no address"))?;
    let tcp = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(|e| format!("{url}: {e}"))?;
    tcp.set_read_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    tcp.set_write_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    let raw = if https {
        let Some(Connector::Rustls(config)) = tls else {
            return Err(format!(
                "{url}: an https:// gateway needs its CA file (--ca)"
            ));
        };
        let name =
            rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string())
                .map_err(|e| format!("{host}: {e}"))?;
        let conn =
            rustls::ClientConnection::new(Arc::clone(config), name).map_err(|e| e.to_string())?;
        exchange(rustls::StreamOwned::new(conn, tcp), &request)?
    } else {
        exchange(tcp, &request)?
    };
    parse(&raw).map_err(|e| format!("GET {url}: {e}"))
}

fn exchange(mut s: impl Read + Write, request: &str) -> Result<Vec<u8>, String> {
    s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    match s.take(MAX_BODY + 64 * 1024).read_to_end(&mut out) {
        Ok(_) => Ok(out),
        // A TLS peer that closes without close_notify after the whole body: what came is
        // checked against its Content-Length below.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !out.is_empty() => Ok(out),
        Err(e) => Err(e.to_string()),
    }
}

/// The body of a `200` answer, whole.
fn parse(raw: &[u8]) -> Result<Vec<u8>, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no complete answer")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "a head that is not text")?;
    let body = &raw[end + 4..];
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or("no status")?;
    if status != 200 {
        let words = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        return Err(format!("{status}: {words}"));
    }
    let mut length = None;
    for line in head.lines().skip(1) {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        if k.eq_ignore_ascii_case("transfer-encoding") && v.trim().eq_ignore_ascii_case("chunked") {
            return Err("a chunked answer (not what the gateway sends)".into());
        }
        if k.eq_ignore_ascii_case("content-length") {
            length = v.trim().parse::<usize>().ok();
        }
    }
    match length {
        Some(n) if body.len() < n => Err(format!("{} of {n} bytes", body.len())),
        Some(n) => Ok(body[..n].to_vec()),
        None => Ok(body.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_its_body_or_says_why_not() {
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabcdef";
        assert_eq!(parse(ok).unwrap(), b"abc");
        let short = b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\nabc";
        assert!(parse(short).unwrap_err().contains("3 of 9"));
        let no = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 9\r\n\r\n{\"code\":1}";
        assert!(parse(no).unwrap_err().starts_with("403"));
        assert!(get("ftp://x/", "t", None).is_err());
    }
}
