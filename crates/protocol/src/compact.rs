//! The compact snapshot: what a client that says `"encoding": "compact"` in its hello gets
//! instead of JSON `snapshot` parts. Each part is one binary WebSocket frame:
//!
//! ```text
//! "YSC4"  head (postcard: epoch, seq, part, last, ticket count, warnings, units, the
//!         briefing and the duty room as JSON text)  then `count` tickets, each a postcard `Row`
//! ```
//!
//! A ticket's row is its fields in declaration order: integers as varints, enums as their
//! variant number, strings length-prefixed, options with a tag byte. Everything after a
//! snapshot (deltas, figures, results) stays JSON text. Warnings, units and the briefing
//! are few and keep their JSON form inside the head.
//!
//! The gateway keeps every live ticket's row ready (`store::Rows`): a compact part is
//! those rows one after the other, with no encoding at join time.

use serde::{Deserialize, Serialize};

use super::{
    Briefing, CallbackResult, Category, Channel, ExtensionAsk, Level, Meeting, Priority, Snapshot,
    Stage, Ticket, TicketStatus, Unit, Warning, Workflow,
};

/// The first bytes of every compact part (and its version).
pub const MAGIC: &[u8; 4] = b"YSC4";

/// How a client wants its snapshot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// `snapshot` messages in JSON text frames (the documented default).
    #[default]
    Json,
    /// Binary frames in the format above.
    Compact,
}

#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    #[error("not a compact snapshot part (no YSC4 at its start)")]
    Magic,
    #[error("compact snapshot part does not decode: {0}")]
    Postcard(#[from] postcard::Error),
    #[error("compact snapshot part's JSON does not decode: {0}")]
    Json(#[from] serde_json::Error),
    #[error("compact snapshot part has {0} bytes after its last ticket")]
    Trailing(usize),
}

#[derive(Serialize, Deserialize)]
struct Head<'a> {
    epoch: &'a str,
    seq: u64,
    part: u32,
    last: bool,
    tickets: u32,
    warnings: &'a str,
    units: &'a str,
    briefing: &'a str,
    duty: &'a str,
}

/// A ticket as a row: the same fields, borrowed, with no field ever left out (postcard
/// has no field names, so `skip_serializing_if` would shift every field after it).
#[derive(Serialize, Deserialize)]
struct Row<'a> {
    id: u64,
    channel: Channel,
    category: Category,
    subtype: &'a str,
    priority: Priority,
    status: TicketStatus,
    lon: f64,
    lat: f64,
    grid: &'a str,
    title: &'a str,
    reporter: &'a str,
    created_ms: i64,
    updated_ms: i64,
    deadline_ms: i64,
    level: Level,
    unit: Option<&'a str>,
    supervised: bool,
    resolved_level: Option<Level>,
    satisfied: Option<bool>,
    resolved_ms: Option<i64>,
    stage_deadline_ms: Option<i64>,
    supervised_stages: Vec<Stage>,
    merged_into: Option<u64>,
    content: &'a str,
    address: &'a str,
    work: WorkRow,
}

/// A ticket's `Workflow` in a row: every field, always (the JSON form leaves unset ones
/// out, which postcard cannot read back).
#[derive(Serialize, Deserialize)]
struct WorkRow {
    rework: u32,
    hard: Option<String>,
    suspended_since_ms: Option<i64>,
    suspended_total_ms: i64,
    extension_asked: Option<ExtensionAsk>,
    extensions: u32,
    callback: Option<CallbackResult>,
    callbacks_reached: u32,
    callbacks_satisfied: u32,
    unreached: u32,
    sla_ms: i64,
    meeting: Option<Meeting>,
    photos: Vec<crate::PhotoRef>,
}

impl From<&Workflow> for WorkRow {
    fn from(w: &Workflow) -> WorkRow {
        WorkRow {
            rework: w.rework,
            hard: w.hard.clone(),
            suspended_since_ms: w.suspended_since_ms,
            suspended_total_ms: w.suspended_total_ms,
            extension_asked: w.extension_asked.clone(),
            extensions: w.extensions,
            callback: w.callback,
            callbacks_reached: w.callbacks_reached,
            callbacks_satisfied: w.callbacks_satisfied,
            unreached: w.unreached,
            sla_ms: w.sla_ms,
            meeting: w.meeting.clone(),
            photos: w.photos.clone(),
        }
    }
}

impl From<WorkRow> for Workflow {
    fn from(w: WorkRow) -> Workflow {
        Workflow {
            rework: w.rework,
            hard: w.hard,
            suspended_since_ms: w.suspended_since_ms,
            suspended_total_ms: w.suspended_total_ms,
            extension_asked: w.extension_asked,
            extensions: w.extensions,
            callback: w.callback,
            callbacks_reached: w.callbacks_reached,
            callbacks_satisfied: w.callbacks_satisfied,
            unreached: w.unreached,
            sla_ms: w.sla_ms,
            meeting: w.meeting,
            photos: w.photos,
        }
    }
}

/// A ticket's row.
pub fn ticket_row(t: &Ticket) -> Vec<u8> {
    let row = Row {
        id: t.id,
        channel: t.channel,
        category: t.category,
        subtype: &t.subtype,
        priority: t.priority,
        status: t.status,
        lon: t.lon,
        lat: t.lat,
        grid: &t.grid,
        title: &t.title,
        reporter: &t.reporter,
        created_ms: t.created_ms,
        updated_ms: t.updated_ms,
        deadline_ms: t.deadline_ms,
        level: t.level,
        unit: t.unit.as_deref(),
        supervised: t.supervised,
        resolved_level: t.resolved_level,
        satisfied: t.satisfied,
        resolved_ms: t.resolved_ms,
        stage_deadline_ms: t.stage_deadline_ms,
        supervised_stages: t.supervised_stages.clone(),
        merged_into: t.merged_into,
        content: &t.content,
        address: &t.address,
        work: WorkRow::from(&*t.work),
    };
    // Serializing plain fields into a Vec cannot fail.
    postcard::to_stdvec(&row).unwrap_or_default()
}

/// The ticket in a row, and what follows the row.
fn take_ticket(bytes: &[u8]) -> Result<(Ticket, &[u8]), CompactError> {
    let (r, rest) = postcard::take_from_bytes::<Row>(bytes)?;
    let t = Ticket {
        id: r.id,
        channel: r.channel,
        category: r.category,
        subtype: r.subtype.to_string(),
        priority: r.priority,
        status: r.status,
        lon: r.lon,
        lat: r.lat,
        grid: r.grid.to_string(),
        title: r.title.to_string(),
        reporter: r.reporter.to_string(),
        created_ms: r.created_ms,
        updated_ms: r.updated_ms,
        deadline_ms: r.deadline_ms,
        level: r.level,
        unit: r.unit.map(str::to_string),
        supervised: r.supervised,
        resolved_level: r.resolved_level,
        satisfied: r.satisfied,
        resolved_ms: r.resolved_ms,
        stage_deadline_ms: r.stage_deadline_ms,
        supervised_stages: r.supervised_stages,
        merged_into: r.merged_into,
        content: r.content.to_string(),
        address: r.address.to_string(),
        work: Box::new(r.work.into()),
    };
    Ok((t, rest))
}

/// A row's ticket.
pub fn row_ticket(row: &[u8]) -> Result<Ticket, CompactError> {
    let (t, rest) = take_ticket(row)?;
    if !rest.is_empty() {
        return Err(CompactError::Trailing(rest.len()));
    }
    Ok(t)
}

/// A row's grid, without making the ticket (a scoped snapshot keeps the rows in scope).
pub fn row_grid(row: &[u8]) -> Result<&str, CompactError> {
    Ok(postcard::from_bytes::<Row>(row)?.grid)
}

/// What a part says besides its tickets.
pub struct PartHead<'a> {
    pub epoch: &'a str,
    pub seq: u64,
    pub part: u32,
    pub last: bool,
    pub warnings: &'a [Warning],
    pub units: &'a [Unit],
    pub briefing: Option<&'a Briefing>,
    pub duty: Option<&'a crate::Duty>,
}

/// One compact part: the head, then the rows as they are.
pub fn encode_part<'r>(head: &PartHead, rows: impl ExactSizeIterator<Item = &'r [u8]>) -> Vec<u8> {
    // Plain records: their JSON cannot fail.
    let warnings = serde_json::to_string(head.warnings).unwrap_or_default();
    let units = serde_json::to_string(head.units).unwrap_or_default();
    let briefing = serde_json::to_string(&head.briefing).unwrap_or_default();
    let duty = serde_json::to_string(&head.duty).unwrap_or_default();
    let h = Head {
        epoch: head.epoch,
        seq: head.seq,
        part: head.part,
        last: head.last,
        tickets: rows.len() as u32,
        warnings: &warnings,
        units: &units,
        briefing: &briefing,
        duty: &duty,
    };
    let mut out = MAGIC.to_vec();
    out.extend(postcard::to_stdvec(&h).unwrap_or_default());
    for r in rows {
        out.extend_from_slice(r);
    }
    out
}

/// A compact part back as the `snapshot` message it stands for.
pub fn decode_part(bytes: &[u8]) -> Result<Snapshot, CompactError> {
    let body = bytes.strip_prefix(MAGIC).ok_or(CompactError::Magic)?;
    let (h, mut rest) = postcard::take_from_bytes::<Head>(body)?;
    // A count is a claim, not a size to reserve: at most what the bytes could hold.
    let mut tickets = Vec::with_capacity((h.tickets as usize).min(rest.len() / 8));
    for _ in 0..h.tickets {
        let (t, r) = take_ticket(rest)?;
        tickets.push(t);
        rest = r;
    }
    if !rest.is_empty() {
        return Err(CompactError::Trailing(rest.len()));
    }
    Ok(Snapshot {
        epoch: h.epoch.to_string(),
        seq: h.seq,
        part: h.part,
        last: h.last,
        tickets,
        warnings: serde_json::from_str(h.warnings)?,
        units: serde_json::from_str(h.units)?,
        briefing: serde_json::from_str(h.briefing)?,
        duty: serde_json::from_str(h.duty)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::examples;

    #[test]
    fn a_ticket_with_every_workflow_mark_round_trips_through_a_row() {
        let mut t = examples::ticket();
        *t.work = Workflow {
            rework: 2,
            hard: Some("疑难".into()),
            suspended_since_ms: Some(5),
            suspended_total_ms: 7,
            extension_asked: Some(ExtensionAsk {
                until_ms: 9,
                reason: "等".into(),
            }),
            extensions: 1,
            callback: Some(CallbackResult::Unreached),
            callbacks_reached: 3,
            callbacks_satisfied: 2,
            unreached: 1,
            sla_ms: 60_000,
            meeting: Some(Meeting {
                at_ms: 11,
                title: "协调会".into(),
            }),
            photos: vec![crate::PhotoRef {
                id: "ab".repeat(32),
                slot: crate::PhotoSlot::After,
            }],
        };
        assert_eq!(row_ticket(&ticket_row(&t)).unwrap(), t);
        // And in JSON an unset mark is left out.
        let plain = serde_json::to_string(&examples::ticket()).unwrap();
        assert!(plain.contains(r#""work":{"sla_ms":86400000}"#), "{plain}");
    }

    #[test]
    fn a_part_round_trips_and_is_smaller_than_json() {
        let mut a = examples::ticket();
        a.unit = None;
        a.resolved_ms = Some(1);
        a.supervised_stages = vec![Stage::Accept, Stage::Resolve];
        let mut b = examples::ticket();
        b.id = 99;
        b.merged_into = Some(7);
        b.satisfied = Some(false);
        let snap = Snapshot {
            epoch: "e1".into(),
            seq: 42,
            part: 3,
            last: true,
            tickets: vec![a, b],
            warnings: vec![examples::warning()],
            units: vec![],
            briefing: None,
            duty: None,
        };
        let rows: Vec<Vec<u8>> = snap.tickets.iter().map(ticket_row).collect();
        let head = PartHead {
            epoch: &snap.epoch,
            seq: snap.seq,
            part: snap.part,
            last: snap.last,
            warnings: &snap.warnings,
            units: &snap.units,
            briefing: None,
            duty: None,
        };
        let bytes = encode_part(&head, rows.iter().map(|r| r.as_slice()));
        assert_eq!(decode_part(&bytes).unwrap(), snap);
        assert_eq!(row_grid(&rows[1]).unwrap(), snap.tickets[1].grid);
        assert_eq!(row_ticket(&rows[0]).unwrap(), snap.tickets[0]);
        let json = serde_json::to_string(&snap.tickets[0]).unwrap().len();
        assert!(rows[0].len() * 2 < json, "{} vs {json}", rows[0].len());
    }

    #[test]
    fn damaged_parts_are_refused_not_misread() {
        let rows = [ticket_row(&examples::ticket())];
        let head = PartHead {
            epoch: "e",
            seq: 1,
            part: 0,
            last: true,
            warnings: &[],
            units: &[],
            briefing: None,
            duty: None,
        };
        let bytes = encode_part(&head, rows.iter().map(|r| r.as_slice()));
        assert!(matches!(decode_part(&bytes[1..]), Err(CompactError::Magic)));
        // Cut anywhere after the magic: an error, never a shorter snapshot.
        for cut in 4..bytes.len() {
            assert!(decode_part(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            decode_part(&longer),
            Err(CompactError::Trailing(1))
        ));
    }
}
