//! Batch intake: JSON Lines of `{"source_id": "…", "ticket": {…}}`, or CSV with a header
//! row (`source_id` and the ticket's fields as columns). Parsing is strict and line by
//! line, so one bad line is reported with its number and the rest go on.

use serde::{Deserialize, Serialize};

use domain::text::check_text;
use protocol::{CommandOutcome, ErrorCode, NewTicket};

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

/// A CSV body: a header row naming `source_id` and the ticket's fields (`channel`,
/// `category`, `subtype`, `priority`, `lon`, `lat`, `grid`, `title`, `reporter`,
/// `sla_minutes`, `created_ms`), then one ticket a row. A row becomes the same JSON a JSON
/// Lines body carries and is decoded by the same strict rules; an empty cell is an absent
/// field. An unknown column refuses the whole body (every row would be wrong).
pub fn parse_csv(body: &[u8], max_lines: usize) -> Result<Vec<Parsed>, String> {
    const NUMBERS: [&str; 4] = ["lon", "lat", "sla_minutes", "created_ms"];
    const KNOWN: [&str; 12] = [
        "source_id",
        "channel",
        "category",
        "subtype",
        "priority",
        "lon",
        "lat",
        "grid",
        "title",
        "reporter",
        "sla_minutes",
        "created_ms",
    ];
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(body);
    let header: Vec<String> = r
        .headers()
        .map_err(|e| format!("the header row does not read: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    if let Some(bad) = header.iter().find(|h| !KNOWN.contains(&h.as_str())) {
        return Err(format!(
            "unknown column {bad:?}: the columns are {}",
            KNOWN.join(", ")
        ));
    }
    if !header.iter().any(|h| h == "source_id") {
        return Err("no source_id column: it is each row's idempotency key".into());
    }
    let mut out = Vec::new();
    for rec in r.records() {
        if out.len() == max_lines {
            return Err(format!(
                "more than {max_lines} rows: send the rest in another request"
            ));
        }
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                let n = e.position().map_or(0, |p| p.line() as usize);
                out.push(Err((n, format!("the row does not read: {e}"))));
                continue;
            }
        };
        let n = rec.position().map_or(0, |p| p.line() as usize);
        let mut ticket = serde_json::Map::new();
        let mut source_id = String::new();
        let mut bad = None;
        for (h, v) in header.iter().zip(rec.iter()) {
            if h == "source_id" {
                source_id = v.to_string();
            } else if v.is_empty() {
                continue;
            } else if NUMBERS.contains(&h.as_str()) {
                match v.parse::<serde_json::Number>() {
                    Ok(x) => {
                        ticket.insert(h.clone(), serde_json::Value::Number(x));
                    }
                    Err(_) => bad = Some(format!("{h}: {v:?} is not a number")),
                }
            } else {
                ticket.insert(h.clone(), serde_json::Value::String(v.to_string()));
            }
        }
        let parsed = match bad {
            Some(m) => Err((n, m)),
            None => serde_json::from_value::<NewTicket>(serde_json::Value::Object(ticket))
                .map_err(|e| (n, e.to_string()))
                .and_then(|t| {
                    check_text("source_id", &source_id, 1, 100).map_err(|r| (n, r.message))?;
                    Ok((n, source_id, t))
                }),
        };
        out.push(parsed);
    }
    Ok(out)
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
    fn a_csv_row_is_the_json_line_it_stands_for() {
        let body = "source_id,channel,category,subtype,priority,lon,lat,grid,title,reporter\n\
            H-1,hotline12345,dispute,邻里纠纷,normal,119.43,32.19,321102-01-003-005,\"楼上噪音, 夜间\",王女士\n\
            H-2,hotline12345,dispute,,normal,east,32.19,321102-01-003-005,t,\n\
            H-3,fax,dispute,,normal,119.4,32.1,321102-01-003-005,t,\n\
            ,hotline12345,dispute,,normal,119.4,32.1,321102-01-003-005,t,\n";
        let parsed = parse_csv(body.as_bytes(), 10).unwrap();
        assert_eq!(parsed.len(), 4);
        let Ok((2, id, t)) = &parsed[0] else {
            panic!("{:?}", parsed[0])
        };
        assert_eq!(
            (id.as_str(), t.title.as_str(), t.subtype.as_str()),
            ("H-1", "楼上噪音, 夜间", "邻里纠纷")
        );
        assert!(matches!(&parsed[1], Err((3, m)) if m.contains("lon")));
        assert!(
            matches!(&parsed[2], Err((4, m)) if m.contains("fax")),
            "{:?}",
            parsed[2]
        );
        assert!(matches!(&parsed[3], Err((5, m)) if m.contains("source_id")));
        let unknown = parse_csv(b"source_id,colour\nA,red\n", 10).unwrap_err();
        assert!(unknown.contains("colour"), "{unknown}");
        assert!(parse_csv(body.as_bytes(), 2).is_err(), "over the row limit");
    }

    #[test]
    fn each_line_stands_alone() {
        let t = serde_json::to_string(&protocol::examples::new_ticket()).unwrap();
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
