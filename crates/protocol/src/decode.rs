//! Strict decoding of what clients send. serde alone takes an internally tagged enum's tag
//! by its index as well as its name (`"op": 0` was an intake: found by a barrage of
//! hostile frames), so the tags are checked to be names before the message is decoded;
//! unknown fields are refused by the types themselves (`deny_unknown_fields`).

use serde_json::Value;

use super::ClientMsg;

/// Where a tag must be a string: (path of objects to walk, tag field).
const TAGS: [(&[&str], &str); 3] = [
    (&[], "type"),
    (&["command"], "op"),
    (&["command", "incident"], "kind"),
];

/// Decode a client's frame, or say what is wrong with it.
pub fn client_msg(text: &str) -> Result<ClientMsg, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    check_tags(&v)?;
    serde_json::from_value(v).map_err(|e| e.to_string())
}

fn check_tags(v: &Value) -> Result<(), String> {
    for (path, tag) in TAGS {
        let mut at = Some(v);
        for p in path {
            at = at.and_then(|o| o.get(p));
        }
        if let Some(t) = at.and_then(|o| o.get(tag))
            && !t.is_string()
        {
            let place = path
                .iter()
                .chain([&tag])
                .copied()
                .collect::<Vec<_>>()
                .join(".");
            return Err(format!("`{place}` must be a name (a string), found {t}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_names_never_indexes() {
        let ok = r#"{"type":"command","key":"k","command":{"op":"accept","ticket":1}}"#;
        assert!(client_msg(ok).is_ok());
        for bad in [
            r#"{"type":1,"key":"k","command":{"op":"accept","ticket":1}}"#,
            r#"{"type":"command","key":"k","command":{"op":0,"ticket":{}}}"#,
            r#"{"type":"command","key":"k","command":{"op":"start_briefing","incident":{"kind":0,"id":1}}}"#,
        ] {
            let e = client_msg(bad).unwrap_err();
            assert!(e.contains("must be a name"), "{bad}: {e}");
        }
    }

    #[test]
    fn unknown_fields_are_refused_everywhere() {
        for bad in [
            r#"{"type":"hello","protocol":1,"token":"t","colour":"red"}"#,
            r#"{"type":"hello","protocol":1,"token":"t","resume_from":{"epoch":"e","seq":1,"x":2}}"#,
            r#"{"type":"command","key":"k","command":{"op":"accept","ticket":1,"extra":true}}"#,
            r#"{"type":"command","key":"k","extra":1,"command":{"op":"accept","ticket":1}}"#,
            r#"{"type":"audit_query","ticket":1,"x":1}"#,
            r#"{"type":"command","key":"k","command":{"op":"start_briefing","incident":{"kind":"ticket","id":1,"x":1}}}"#,
            r#"{"type":"command","key":"k","command":{"op":"upsert_unit","unit":{"id":"u","name":"n","kind":"police","area":"","categories":[],"lon":119.4,"lat":32.2,"on_duty":true,"x":1}}}"#,
        ] {
            let e = client_msg(bad).unwrap_err();
            assert!(e.contains("unknown field"), "{bad}: {e}");
        }
    }
}
