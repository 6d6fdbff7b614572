//! An SMS gateway's request body as a template: `{phone}`, `{name}`, `{text}`, `{link}`
//! and `{id}` are put in, escaped for the body's type (JSON strings, or form encoding);
//! any other `{word}` is refused when the config is read, and a JSON body must be JSON
//! once filled in.

/// The names a template may use.
pub const FIELDS: [&str; 5] = ["phone", "name", "text", "link", "id"];

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Text(String),
    Field(&'static str),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
    json: bool,
}

impl Template {
    pub fn parse(body: &str, content_type: &str) -> Result<Template, String> {
        let json = match content_type {
            "application/json" => true,
            "application/x-www-form-urlencoded" => false,
            other => {
                return Err(format!(
                    "content_type {other:?}: use application/json or application/x-www-form-urlencoded"
                ));
            }
        };
        if body.trim().is_empty() {
            return Err("an SMS channel needs its body template (with {phone} and {text})".into());
        }
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = body;
        while let Some(i) = rest.find('{') {
            text.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let word: String = after
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !word.is_empty() && after[word.len()..].starts_with('}') {
                let Some(f) = FIELDS.iter().find(|f| **f == word) else {
                    let col = body.len() - rest.len() + i + 1;
                    return Err(format!(
                        "unknown field {{{word}}} at character {col}: use {}",
                        FIELDS.map(|f| format!("{{{f}}}")).join(", ")
                    ));
                };
                parts.push(Part::Text(std::mem::take(&mut text)));
                parts.push(Part::Field(f));
                rest = &after[word.len() + 1..];
            } else {
                text.push('{');
                rest = after;
            }
        }
        text.push_str(rest);
        parts.push(Part::Text(text));
        let t = Template { parts, json };
        if !t.parts.contains(&Part::Field("phone")) || !t.parts.contains(&Part::Field("text")) {
            return Err("the body must put in {phone} and {text}".into());
        }
        if json {
            let sample = t.render(&|f| format!("sample \"{f}\" 值"));
            serde_json::from_str::<serde_json::Value>(&sample).map_err(|e| {
                format!("filled in, it is not JSON ({e}): put each field inside a JSON string, e.g. \"{{phone}}\"")
            })?;
        }
        Ok(t)
    }

    /// The body with each field's value (escaped for the body's type).
    pub fn render(&self, value: &dyn Fn(&str) -> String) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) => {
                    let v = value(f);
                    if self.json {
                        // A JSON string's inside: its quotes off.
                        let q = serde_json::Value::String(v).to_string();
                        out.push_str(&q[1..q.len() - 1]);
                    } else {
                        out.extend(form_urlencoded::byte_serialize(v.as_bytes()));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_escaped_for_json_and_unknown_ones_refused() {
        let t = Template::parse(r#"{"to":"{phone}","msg":"{text}"}"#, "application/json").unwrap();
        let body = t.render(&|f| {
            if f == "text" {
                "红色\"预警\"\n".into()
            } else {
                "138".into()
            }
        });
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["msg"], "红色\"预警\"\n");
        let e =
            Template::parse(r#"{"to":"{mobile}","m":"{text}"}"#, "application/json").unwrap_err();
        assert!(e.contains("{mobile}") && e.contains("character 8"), "{e}");
        let e = Template::parse(r#"{"to":{phone},"m":"{text}"}"#, "application/json").unwrap_err();
        assert!(e.contains("not JSON"), "{e}");
        let f =
            Template::parse("to={phone}&m={text}", "application/x-www-form-urlencoded").unwrap();
        assert_eq!(f.render(&|_| "a b&c".into()), "to=a+b%26c&m=a+b%26c");
    }
}
