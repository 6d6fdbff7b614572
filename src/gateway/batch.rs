//! Batch intake: JSON Lines of `{"source_id": "…", "ticket": {…}}`. Parsing is strict and
//! line by line, so one bad line is reported with its number and the rest go on.

use serde::{Deserialize, Serialize};

use crate::domain::text::check_text;
use crate::protocol::{CommandOutcome, ErrorCode, NewTicket};

/// Lines one request may carry.
pub const MAX_LINES: usize = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    /// The ticket's id in the system it comes from: the batch's idempotency key.
    source_id: String,
    ticket: NewTicket,
}

/// A line (1-based) with its source id and ticket, or its number and what is wrong.
pub type Parsed = Result<(usize, String, NewTicket), (usize, String)>;

/// Every non-blank line of `body`; the whole body is refused only when it has too many.
pub fn parse(body: &[u8], max_lines: usize) -> Result<Vec<Parsed>, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("the body is not UTF-8: {e}"))?;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
        .collect();
    if lines.len() > max_lines {
        return Err(format!(
            "{} lines: at most {max_lines} a request; send the rest in another",
            lines.len()
        ));
    }
    Ok(lines
        .into_iter()
        .map(|(n, l)| {
            let line: Line = serde_json::from_str(l).map_err(|e| (n, e.to_string()))?;
            let id = line.source_id.trim();
            check_text("source_id", id, 1, 100).map_err(|r| (n, r.message))?;
            Ok((n, id.to_string(), line.ticket))
        })
        .collect())
}

/// One refused line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Refused {
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    pub code: ErrorCode,
    pub message: String,
}

/// What a batch came to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// New tickets taken in.
    pub taken_in: usize,
    /// Lines whose source id was taken in before (by this credential): nothing new.
    pub repeats: usize,
    /// The tickets made, by line: (line, ticket id).
    pub ids: Vec<(usize, u64)>,
    pub refused: Vec<Refused>,
}

impl Report {
    pub fn refuse(
        &mut self,
        line: usize,
        source_id: Option<String>,
        code: ErrorCode,
        message: String,
    ) {
        self.refused.push(Refused {
            line,
            source_id,
            code,
            message,
        });
    }

    /// A line's outcome; `fresh`: this line made the ticket (not a repeat of its source id).
    pub fn outcome(&mut self, line: usize, source_id: String, o: CommandOutcome, fresh: bool) {
        match o {
            CommandOutcome::Ok { id: Some(id), .. } if fresh => {
                self.taken_in += 1;
                self.ids.push((line, id));
            }
            CommandOutcome::Ok { .. } => self.repeats += 1,
            CommandOutcome::Refused { code, message } => {
                self.refuse(line, Some(source_id), code, message)
            }
        }
    }

    /// Refusals in line order.
    pub fn finish(mut self) -> Report {
        self.refused.sort_by_key(|r| r.line);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_stands_alone() {
        let t = serde_json::to_string(&crate::protocol::examples::new_ticket()).unwrap();
        let body = format!(
            "{{\"source_id\":\"A-1\",\"ticket\":{t}}}\n\nnot json\n{{\"source_id\":\"\",\"ticket\":{t}}}\n{{\"source_id\":\"A-2\",\"ticket\":{t},\"x\":1}}\n"
        );
        let parsed = parse(body.as_bytes(), 10).unwrap();
        assert_eq!(parsed.len(), 4, "the blank line is skipped");
        assert!(matches!(&parsed[0], Ok((1, id, _)) if id == "A-1"));
        assert!(matches!(&parsed[1], Err((3, _))));
        assert!(matches!(&parsed[2], Err((4, m)) if m.contains("source_id")));
        assert!(matches!(&parsed[3], Err((5, m)) if m.contains("unknown field")));
        assert!(parse(body.as_bytes(), 3).is_err(), "over the line limit");
    }
}
