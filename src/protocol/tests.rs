use super::examples::{client_messages, server_messages};
use super::*;

#[test]
fn every_client_message_round_trips() {
    let msgs = client_messages();
    assert_eq!(msgs.len(), 21, "one example per client message");
    for (name, msg) in msgs {
        let json = serde_json::to_string(&msg).unwrap();
        let back: ClientMsg = serde_json::from_str(&json).unwrap();
        assert_eq!(back, msg, "{name} did not round-trip: {json}");
    }
}

#[test]
fn every_server_message_round_trips() {
    let msgs = server_messages();
    assert_eq!(msgs.len(), 17, "one example per server message");
    for (name, msg) in msgs {
        let json = serde_json::to_string(&msg).unwrap();
        let back: ServerMsg = serde_json::from_str(&json).unwrap();
        assert_eq!(back, msg, "{name} did not round-trip: {json}");
    }
}

#[test]
fn unknown_fields_in_new_tickets_are_refused() {
    let json = r#"{"type":"command","key":"k","command":{"op":"intake","ticket":{
        "channel":"wechat","category":"dispute","priority":"normal","lon":119.4,"lat":32.2,
        "grid":"g","title":"t","colour":"red"}}}"#;
    let err = serde_json::from_str::<ClientMsg>(json).unwrap_err();
    assert!(err.to_string().contains("colour"), "{err}");
}

#[test]
fn region_scope_is_a_grid_prefix() {
    let (_, ServerMsg::Delta { event, .. }) = server_messages().swap_remove(1) else {
        panic!("example 1 is a delta")
    };
    assert!(event.in_region(""));
    assert!(event.in_region("321102"));
    assert!(event.in_region("321102-01"));
    assert!(!event.in_region("321111"));
}
