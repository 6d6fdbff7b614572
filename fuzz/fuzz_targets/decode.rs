//! Everything a client can send the gateway, as bytes: a WebSocket frame (`ClientMsg`)
//! or an HTTP intake body (`NewTicket`). The decoders must never panic, and whatever
//! they accept must survive a round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use protocol::NewTicket;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(msg) = protocol::decode::client_msg(text)
    {
        let again = serde_json::to_string(&msg).expect("an accepted message encodes");
        let back = protocol::decode::client_msg(&again).expect("and decodes again");
        assert_eq!(back, msg);
    }
    if let Ok(t) = serde_json::from_slice::<NewTicket>(data) {
        let again = serde_json::to_vec(&t).expect("an accepted ticket encodes");
        let back: NewTicket = serde_json::from_slice(&again).expect("and decodes again");
        assert_eq!(back, t);
    }
});
