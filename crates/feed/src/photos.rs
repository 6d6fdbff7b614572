//! Photos from the field, fetched from the gateway's HTTP port for a wall: a few threads
//! of their own take asks (photo, ticket, thumbnail or whole) from a channel and hand back
//! decoded RGBA pixels, so that neither the feed's thread nor the wall's frame waits on a
//! download or a decode.

use std::thread;

use crossbeam_channel::{Receiver, Sender, bounded};

/// Which photo: its id, the ticket that names it (the gateway serves it for that ticket's
/// scope), and whether the thumbnail will do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PhotoAsk {
    pub id: String,
    pub ticket: u64,
    pub thumb: bool,
}

/// A photo fetched and decoded, or why not.
pub struct PhotoGot {
    pub ask: PhotoAsk,
    /// (width, height, RGBA pixels).
    pub image: Result<(u32, u32, Vec<u8>), String>,
}

pub struct PhotoFetcher {
    pub asks: Sender<PhotoAsk>,
    pub got: Receiver<PhotoGot>,
}

/// Fetchers working at once: a briefing board asks for six thumbnails together.
const THREADS: usize = 2;

/// Start fetching from `http` (the gateway's HTTP address, `http://host:port`) with
/// `token`; `ca` for an `https://` one.
pub fn start(
    http: &str,
    token: &str,
    ca: Option<&std::path::Path>,
) -> Result<PhotoFetcher, String> {
    let tls = ca.map(wire::tls).transpose()?;
    // Asks beyond these wait for the next frame (`try_send`); photos fetched wait in
    // `got` until the wall takes them.
    let (asks, asked) = bounded::<PhotoAsk>(256);
    let (done, got) = bounded(32);
    for n in 0..THREADS {
        let (asked, done, tls) = (asked.clone(), done.clone(), tls.clone());
        let (base, token) = (http.trim_end_matches('/').to_string(), token.to_string());
        thread::Builder::new()
            .name(format!("yiping-photos-{n}"))
            .spawn(move || {
                for ask in asked {
                    let url = format!(
                        "{base}/api/photos/{}?ticket={}{}",
                        ask.id,
                        ask.ticket,
                        if ask.thumb { "&thumb=1" } else { "" }
                    );
                    let image = wire::http::get(&url, &token, tls.as_ref()).and_then(|b| {
                        let img = image::load_from_memory_with_format(&b, image::ImageFormat::Jpeg)
                            .map_err(|e| format!("photo {}: {e}", ask.id))?
                            .to_rgba8();
                        Ok((img.width(), img.height(), img.into_raw()))
                    });
                    if let Err(e) = &image {
                        tracing::warn!("photo {} not fetched: {e}", ask.id);
                    }
                    if done.send(PhotoGot { ask, image }).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| format!("no thread for photos: {e}"))?;
    }
    Ok(PhotoFetcher { asks, got })
}

/// The HTTP address beside a gateway's WebSocket address: the same host, the next port
/// (the gateway's defaults are 7400 and 7401), `https` for `wss`. The first of a cluster's
/// list.
pub fn http_beside(ws_url: &str) -> Option<String> {
    let first = ws_url.split(',').next()?.trim();
    let (scheme, rest) = if let Some(r) = first.strip_prefix("wss://") {
        ("https", r)
    } else {
        ("http", first.strip_prefix("ws://")?)
    };
    let authority = rest.split('/').next()?;
    let i = authority.rfind(':')?;
    let port: u16 = authority[i + 1..].parse().ok()?;
    Some(format!(
        "{scheme}://{}:{}",
        &authority[..i],
        port.checked_add(1)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_http_port_is_the_next_one_on_the_same_host() {
        assert_eq!(
            http_beside("ws://127.0.0.1:7400").as_deref(),
            Some("http://127.0.0.1:7401")
        );
        assert_eq!(
            http_beside("wss://gw.example:9000/,ws://b:1").as_deref(),
            Some("https://gw.example:9001")
        );
        assert_eq!(http_beside("gw.example"), None);
    }
}
