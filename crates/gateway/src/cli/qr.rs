//! The phone page's sign-in as a QR code: the link `<page>/m/#t=<token>` (the token after
//! `#`, so that it is never sent to a server in a URL nor kept in its logs), drawn in the
//! terminal and as an SVG to print with the account's name under it.

use qrcode::QrCode;
use qrcode::render::{svg, unicode};

/// The sign-in link for `token` on the gateway whose HTTP address is `page`.
pub fn link(page: &str, token: &str) -> anyhow::Result<String> {
    let base = page.trim_end_matches('/');
    if !(base.starts_with("https://") || base.starts_with("http://")) || base.len() < 9 {
        anyhow::bail!("--page {page}: the gateway's HTTP address, as https://host:port");
    }
    Ok(format!("{base}/m/#t={token}"))
}

fn code(link: &str) -> anyhow::Result<QrCode> {
    // Medium error correction: still readable with a fold or a smudge on the printout.
    QrCode::with_error_correction_level(link.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| anyhow::anyhow!("the link does not fit a QR code: {e}"))
}

/// The code in half-height blocks, for a terminal.
pub fn terminal(link: &str) -> anyhow::Result<String> {
    Ok(code(link)?
        .render::<unicode::Dense1x2>()
        .dark_color(unicode::Dense1x2::Light)
        .light_color(unicode::Dense1x2::Dark)
        .build())
}

/// The code as an SVG page: the code, then who it signs in.
pub fn svg(link: &str, name: &str) -> anyhow::Result<String> {
    let image = code(link)?
        .render::<svg::Color>()
        .min_dimensions(320, 320)
        .quiet_zone(true)
        .build();
    // The code's own SVG, placed in a page with the name under it.
    let inner = image
        .split_once("?>")
        .map(|(_, rest)| rest)
        .unwrap_or(&image)
        .trim();
    let name = name
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"360\" height=\"440\" viewBox=\"0 0 360 440\">\
<rect width=\"360\" height=\"440\" fill=\"#fff\"/><g transform=\"translate(20,20)\">{inner}</g>\
<text x=\"180\" y=\"375\" font-size=\"22\" text-anchor=\"middle\" font-family=\"Noto Sans CJK SC, sans-serif\">{name}</text>\
<text x=\"180\" y=\"405\" font-size=\"14\" text-anchor=\"middle\" font-family=\"Noto Sans CJK SC, sans-serif\" fill=\"#555\">一屏·网格通 扫码登录 (scan to sign in)</text></svg>\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_carries_the_token_after_the_hash_and_draws() {
        let l = link("https://gw.example:7401/", "tok-123").unwrap();
        assert_eq!(l, "https://gw.example:7401/m/#t=tok-123");
        assert!(link("gw.example", "t").is_err());
        let t = terminal(&l).unwrap();
        assert!(t.lines().count() > 10 && t.contains('█'));
        let s = svg(&l, "网格员 <李娜>").unwrap();
        assert!(s.contains("网格员 &lt;李娜&gt;") && s.matches("<svg").count() == 2);
    }
}
