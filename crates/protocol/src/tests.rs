use super::examples::{self, client_messages, server_messages};
use super::*;

#[test]
fn every_client_message_round_trips() {
    let msgs = client_messages();
    assert_eq!(
        msgs.len(),
        42,
        "one example per client message (two hellos, two reviews, two rates)"
    );
    for (name, msg) in msgs {
        let json = serde_json::to_string(&msg).unwrap();
        let back: ClientMsg = serde_json::from_str(&json).unwrap();
        assert_eq!(back, msg, "{name} did not round-trip: {json}");
    }
}

#[test]
fn every_server_message_round_trips() {
    let msgs = server_messages();
    assert_eq!(msgs.len(), 21, "one example per server message");
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
    // Whole parts only: a town 321102-0 (were there one) is not 321102-01's parent.
    assert!(!event.in_region("321102-0"));
    assert!(!event.in_region("321102-01-003-0"));
    // An unplaced ticket (no grid yet) goes to the city-wide feeds only.
    let mut unplaced = event.clone();
    if let Event::TicketCreated { ticket, .. }
    | Event::TicketTransitioned { ticket, .. }
    | Event::TicketUpdated { ticket, .. } = &mut unplaced
    {
        ticket.grid = String::new();
    }
    assert!(unplaced.ticket().is_some_and(|t| t.grid.is_empty()));
    assert!(unplaced.in_region(""));
    assert!(!unplaced.in_region("321102"));
}

/// PROTOCOL.md, as the repository holds it.
const SPEC: &str = include_str!("../../../PROTOCOL.md");

#[test]
fn protocol_md_shows_exactly_the_examples_the_code_prints() {
    let (_, shown) = SPEC
        .split_once("## Every message\n")
        .expect("PROTOCOL.md has a section '## Every message'");
    let want = examples::markdown();
    if shown.trim_end() != want.trim_end() {
        let first = shown
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "PROTOCOL.md's examples differ from `yiping protocol-examples` from line {} of the \
             section:\n  doc:  {:?}\n  code: {:?}\nregenerate the section with \
             `cargo run -- protocol-examples`",
            first + 1,
            shown.lines().nth(first),
            want.lines().nth(first)
        );
    }
}

#[test]
fn protocol_md_lists_every_code_action_and_kind() {
    let section = |title: &str| -> &str {
        let start = SPEC
            .find(title)
            .unwrap_or_else(|| panic!("PROTOCOL.md has no {title:?}"));
        let rest = &SPEC[start + title.len()..];
        &rest[..rest.find("\n## ").unwrap_or(rest.len())]
    };
    let errors = section("## Errors");
    for c in ErrorCode::ALL {
        assert!(
            errors.contains(&format!("`{c}`")),
            "PROTOCOL.md's Errors section does not list `{c}`"
        );
    }
    let vocab = section("## Audit actions and warning kinds");
    for a in AuditAction::ALL {
        assert!(
            vocab.contains(&format!("`{a}`")),
            "audit action `{a}` is not listed"
        );
    }
    for k in WarningKind::ALL {
        assert!(
            vocab.contains(&format!("`{k}`")),
            "warning kind `{k}` is not listed"
        );
    }
    // And no row of the table names a code the code does not know.
    for row in errors.lines().filter(|l| l.starts_with("| `")) {
        let word = row.split('`').nth(1).unwrap_or("");
        assert!(
            ErrorCode::ALL.iter().any(|c| c.as_str() == word),
            "PROTOCOL.md's Errors table lists `{word}`, which no code is"
        );
    }
}
