//! Free text from outside: a length in characters (as PROTOCOL.md documents each field)
//! and no control characters (NUL, newlines, escapes: nothing a wall would draw oddly or a
//! log would split on).

use super::Refusal;
use protocol::ErrorCode;

/// `value` has `min..=max` characters and no control character.
pub fn check_text(field: &str, value: &str, min: usize, max: usize) -> Result<(), Refusal> {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(Refusal::new(
            ErrorCode::Invalid,
            format!("{field} must be {min}-{max} characters, got {n}"),
        ));
    }
    no_control(field, value, |_| false)
}

/// No control character in `value`, but those `allowed` lets through.
fn no_control(field: &str, value: &str, allowed: fn(char) -> bool) -> Result<(), Refusal> {
    match value.chars().find(|c| c.is_control() && !allowed(*c)) {
        Some(c) => Err(Refusal::new(
            ErrorCode::Invalid,
            format!(
                "{field} holds a control character (U+{:04X}): send plain text",
                c as u32
            ),
        )),
        None => Ok(()),
    }
}

/// Long text a person wrote (诉求内容): `0..=max` characters; line breaks and tabs are
/// the writer's, any other control character is refused.
pub fn check_words(field: &str, value: &str, max: usize) -> Result<(), Refusal> {
    let n = value.chars().count();
    if n > max {
        return Err(Refusal::new(
            ErrorCode::Invalid,
            format!("{field} must be at most {max} characters, got {n}"),
        ));
    }
    no_control(field, value, |c| matches!(c, '\n' | '\t'))
}

/// A mobile number as rosters and unit records give it: 5 to 20 digits, `+` in front allowed.
pub fn is_phone(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    (5..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_characters_and_control_characters_are_refused() {
        assert!(check_text("title", "小区漏水", 1, 4).is_ok());
        assert!(check_text("title", "小区漏水了", 1, 4).is_err());
        assert!(check_text("title", "", 1, 4).is_err());
        for bad in ["a\0b", "a\nb", "a\u{1b}[31mb", "a\u{85}b"] {
            let e = check_text("title", bad, 0, 10).unwrap_err();
            assert!(
                e.message.contains("control character"),
                "{bad:?}: {}",
                e.message
            );
        }
    }
}
