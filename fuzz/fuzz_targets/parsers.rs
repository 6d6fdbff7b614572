//! The parsers of what strangers send besides frames: ISO times (Open311's dates), the
//! query of `GET /open311/v2/requests` and a CAP alert (`POST /cap/alerts`). None may
//! panic, whatever the bytes (a time cut inside a character once dropped the
//! connection).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = domain::time::parse_iso(text);
    let _ = domain::time::parse_civil(text);
    let params: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    let _ = gateway::open311::query(&params, None, 1_767_225_600_000);
    let _ = gateway::cap_in::parse(text, None);
});
