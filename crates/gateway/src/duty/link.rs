//! Acknowledgement links in messages: `<public_url>/duty/ack?e=<escalation>&p=<person>&s=<sig>`,
//! signed with the gateway's key (HMAC-SHA256), so a link acknowledges that escalation
//! as that person and nothing else. Opening it shows a page; its button acknowledges (a
//! messenger's link preview opens links, and must not acknowledge on anyone's behalf).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The signature of (escalation, person) under `key`: 32 hex digits.
pub fn sign(key: &[u8], escalation: u64, person: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(format!("ack:{escalation}:{person}").as_bytes());
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Does `sig` sign (escalation, person)? In constant time.
pub fn verify(key: &[u8], escalation: u64, person: &str, sig: &str) -> bool {
    use subtle::ConstantTimeEq;
    let want = sign(key, escalation, person);
    !want.is_empty() && want.as_bytes().ct_eq(sig.as_bytes()).into()
}

/// The link, under `base` (empty: none).
pub fn url(base: &str, key: &[u8], escalation: u64, person: &str) -> String {
    if base.is_empty() {
        return String::new();
    }
    let p: String = form_urlencoded::byte_serialize(person.as_bytes()).collect();
    format!(
        "{}/duty/ack?e={escalation}&p={p}&s={}",
        base.trim_end_matches('/'),
        sign(key, escalation, person)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_signs_its_escalation_and_person_only() {
        let k = b"0123456789abcdef";
        let s = sign(k, 7, "ZB001");
        assert_eq!(s.len(), 32);
        assert!(verify(k, 7, "ZB001", &s));
        assert!(!verify(k, 8, "ZB001", &s));
        assert!(!verify(k, 7, "ZB002", &s));
        assert!(!verify(b"another key 12345", 7, "ZB001", &s));
        assert!(
            url("https://x.cn/", k, 7, "ZB001").starts_with("https://x.cn/duty/ack?e=7&p=ZB001&s=")
        );
    }
}
