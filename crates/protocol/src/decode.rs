//! Strict decoding of what clients send. serde alone takes an internally tagged enum's tag
//! by its index as well as its name (`"op": 0` was an intake: found by a barrage of
//! hostile frames), so the tags are checked to be names before the message is decoded;
//! unknown fields are refused by the types themselves (`deny_unknown_fields`). A name
//! given twice in one object is refused too: a generic JSON value keeps the last, a typed
//! decoder the first or neither, and two parsers that disagree on which value counts is
//! how CouchDB's CVE-2017-12635 let a user make itself an admin (`"token"` twice in a
//! hello here let the second in).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::ClientMsg;

/// Where a tag must be a string: (path of objects to walk, tag field).
const TAGS: [(&[&str], &str); 3] = [
    (&[], "type"),
    (&["command"], "op"),
    (&["command", "incident"], "kind"),
];

/// Decode a client's frame, or say what is wrong with it.
pub fn client_msg(text: &str) -> Result<ClientMsg, String> {
    let v = strict_value(text)?;
    check_tags(&v)?;
    serde_json::from_value(v).map_err(|e| e.to_string())
}

/// Read `text` as JSON, refusing any object that names a field twice, at any depth.
pub fn strict_value(text: &str) -> Result<Value, String> {
    serde_json::from_str::<Strict>(text)
        .map(|s| s.0)
        .map_err(|e| e.to_string())
}

/// A JSON value read with every object's names checked to be distinct.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(name) = map.next_key::<String>()? {
            if out.contains_key(&name) {
                return Err(de::Error::custom(format!(
                    "field `{name}` is given twice in one object"
                )));
            }
            let Strict(v) = map.next_value()?;
            out.insert(name, v);
        }
        Ok(Value::Object(out))
    }
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
    fn a_name_twice_in_one_object_is_refused_at_any_depth() {
        for bad in [
            r#"{"type":"hello","protocol":1,"token":"wrong","token":"demo-operator-token"}"#,
            r#"{"type":"command","key":"a","key":"b","command":{"op":"accept","ticket":1}}"#,
            r#"{"type":"command","key":"k","command":{"op":"accept","ticket":1,"ticket":2}}"#,
            r#"{"type":"command","key":"k","command":{"op":"start_briefing","incident":{"kind":"ticket","id":1,"id":2}}}"#,
        ] {
            let e = client_msg(bad).unwrap_err();
            assert!(e.contains("twice"), "{bad}: {e}");
        }
        // The same name in two different objects is two fields.
        let v =
            strict_value(r#"{"a":{"id":1},"b":[{"id":2},{"id":3}],"n":-1.5,"z":null}"#).unwrap();
        assert_eq!(v["b"][1]["id"], 3);
        assert_eq!(v["n"], -1.5);
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
