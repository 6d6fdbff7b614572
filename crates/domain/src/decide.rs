//! Deciding a command (受理, 分拨, 督办, …) against the live state: who may, whether the
//! record allows it, whether its words and places are acceptable; the change it makes or
//! the reason it is refused, and the event that records that change. No I/O: the store
//! checks with this, writes the event and applies it; the simulator's year runs the same
//! decision on its mirror, so a command the gateway would refuse is refused there too.

use std::collections::HashSet;

use protocol::{
    AuditEntry, Briefing, Command, ErrorCode, Event, Incident, NewTicket, NewWarning, Ticket,
    TicketStatus, Unit, Warning,
};

use crate::access::{Access, authorize};
use crate::sla::MAX_SLA_MINUTES;
use crate::text::check_text;
use crate::time::DAY_MS;
use crate::{Refusal, State, lifecycle};

/// How far back a ticket's own intake time may lie (an import of history), and how far
/// ahead (clock skew between two systems); the deadline arithmetic stays far from
/// overflow either way.
const CREATED_PAST_MS: i64 = 366 * DAY_MS;
const CREATED_AHEAD_MS: i64 = 60_000;

/// Where the city accepts tickets, warnings and units.
#[derive(Clone, Debug)]
pub struct Bounds {
    /// Accepted positions: [min_lon, min_lat, max_lon, max_lat].
    pub bbox: [f64; 4],
    /// The city's grids, when the gateway knows its layers: a ticket or a warning on any
    /// other grid is refused.
    pub grids: Option<std::sync::Arc<HashSet<String>>>,
    /// The center's workflow rules (review, extensions, hard cases).
    pub workflow: crate::workflow::Rules,
}

impl Default for Bounds {
    /// Anywhere in China's extent, no grid check: a store with no `[area]` configured.
    fn default() -> Self {
        Bounds {
            bbox: [73.0, 3.0, 136.0, 54.0],
            grids: None,
            workflow: Default::default(),
        }
    }
}

/// One command as it is asked: who, with what access, under which idempotency key.
pub struct Ask<'a> {
    pub actor: &'a str,
    pub access: &'a Access,
    pub key: &'a str,
    pub command: &'a Command,
    /// Sent from the field (the phone page): position, the phone's time, photos.
    pub field: Option<&'a protocol::FieldMark>,
}

/// A briefing's audit trail, as the store reads it (a promotion checks the entry is in it).
pub type Trail<'a> = &'a dyn Fn(&Briefing) -> Result<Vec<AuditEntry>, String>;

/// The live state and the city's bounds a command is decided against.
pub struct Decider<'a> {
    pub state: &'a State,
    pub bounds: &'a Bounds,
    pub trail: Trail<'a>,
}

impl Decider<'_> {
    /// Check a command against the live state: the change it makes, or why it is
    /// refused. Nothing is written here.
    pub fn decide(&self, ask: &Ask, now_ms: i64) -> Result<Decision, Refusal> {
        check_text("idempotency key", ask.key, 1, 128)?;
        let cmd = ask.command;
        authorize(ask.access, cmd, self.state)?;
        check_command_text(cmd)?;
        if let Some(f) = ask.field {
            crate::field::check(f, cmd, self.state, now_ms)?;
        }
        match cmd {
            Command::Intake { ticket } => {
                self.validate_new_ticket(ticket, now_ms)?;
                Ok(Decision::NewTicket(ticket.clone()))
            }
            Command::RaiseWarning { warning } => {
                validate_new_warning(warning)?;
                for g in &warning.grids {
                    self.check_region(g)?;
                }
                Ok(Decision::NewWarning(warning.clone()))
            }
            Command::AckWarning { warning }
            | Command::AssignTaskForce { warning, .. }
            | Command::LiftWarning { warning, .. }
            | Command::UpdateWarning { warning, .. } => {
                if let Command::UpdateWarning { update, .. } = cmd {
                    validate_new_warning(update)?;
                    for g in &update.grids {
                        self.check_region(g)?;
                    }
                }
                let w = self.state.warnings.get(warning).ok_or_else(|| {
                    Refusal::new(
                        ErrorCode::UnknownWarning,
                        format!("no live warning {warning} (never raised, or lifted)"),
                    )
                })?;
                let changed = lifecycle::apply_warning(w, cmd, now_ms, ask.actor)?;
                Ok(match cmd {
                    Command::UpdateWarning { .. } => Decision::WarningUpdated(changed),
                    _ => Decision::Warning(changed),
                })
            }
            Command::UpsertUnit { unit } => {
                if unit.id.trim().is_empty() || unit.name.trim().is_empty() {
                    return Err(Refusal::new(
                        ErrorCode::Invalid,
                        "unit id and name must not be blank",
                    ));
                }
                self.check_position(unit.lon, unit.lat)?;
                if !unit.phone.is_empty() && !crate::text::is_phone(&unit.phone) {
                    return Err(Refusal::new(
                        ErrorCode::Invalid,
                        format!(
                            "phone {:?} is not a number (5 to 20 digits, + in front allowed)",
                            unit.phone
                        ),
                    ));
                }
                Ok(Decision::Unit(unit.clone()))
            }
            Command::StartBriefing { incident } => {
                let found = match incident {
                    Incident::Ticket { id } => self
                        .state
                        .tickets
                        .get(id)
                        .map(|t| (t.title.clone(), vec![t.id], vec![t.grid.clone()])),
                    Incident::Warning { id } => self
                        .state
                        .warnings
                        .get(id)
                        .map(|w| (w.title.clone(), w.tickets.clone(), w.grids.clone())),
                };
                let (title, tickets, grids) = found.ok_or_else(|| {
                    let what = match incident {
                        Incident::Ticket { id } => format!("ticket {id}"),
                        Incident::Warning { id } => format!("warning {id}"),
                    };
                    Refusal::new(
                        ErrorCode::UnknownIncident,
                        format!("no live {what} to brief on"),
                    )
                })?;
                Ok(Decision::Briefing(Some(Briefing {
                    incident: *incident,
                    title,
                    tickets,
                    grids,
                    significant: vec![],
                    started_ms: now_ms,
                    by: ask.actor.to_string(),
                })))
            }
            Command::Promote { seq, significant } => {
                let mut b = self.state.briefing.clone().ok_or_else(|| {
                    Refusal::new(
                        ErrorCode::NoBriefing,
                        "no briefing is running: start one first",
                    )
                })?;
                let mine = (self.trail)(&b).map_err(|e| Refusal::new(ErrorCode::Storage, e))?;
                if !mine.iter().any(|a| a.seq == *seq) {
                    return Err(Refusal::new(
                        ErrorCode::UnknownEntry,
                        format!("audit entry {seq} is not in this incident's trail"),
                    ));
                }
                b.significant.retain(|s| s != seq);
                if *significant {
                    b.significant.push(*seq);
                }
                Ok(Decision::Briefing(Some(b)))
            }
            Command::EndBriefing => {
                if self.state.briefing.is_none() {
                    return Err(Refusal::new(
                        ErrorCode::NoBriefing,
                        "no briefing is running",
                    ));
                }
                Ok(Decision::Briefing(None))
            }
            Command::SetRoster { .. }
            | Command::SwapShift { .. }
            | Command::AckEscalation { .. }
            | Command::AnnotateHandover { .. }
            | Command::SignHandover { .. }
            | Command::DutyRecord { .. } => {
                let region_ok = |c: &str| self.region_known(c);
                crate::duty::decide(self.state, cmd, ask.actor, ask.access, now_ms, &region_ok)
                    .map(Decision::Duty)
            }
            Command::SetUnitDuty { unit, on_duty } => {
                let u = self.state.units.get(unit).ok_or_else(|| {
                    Refusal::new(ErrorCode::UnknownUnit, format!("no unit with id {unit}"))
                })?;
                Ok(Decision::Unit(Unit {
                    on_duty: *on_duty,
                    ..u.clone()
                }))
            }
            // Every command on one ticket (`Command::ticket` names it).
            _ => {
                let Some(ticket) = &cmd.ticket() else {
                    return Err(Refusal::new(
                        ErrorCode::Invalid,
                        format!("{} is not a command this gateway decides", cmd.name()),
                    ));
                };
                if let Command::MeetingOutcome {
                    lead_unit: Some(u), ..
                } = cmd
                    && !self.state.units.contains_key(u)
                {
                    return Err(Refusal::new(
                        ErrorCode::UnknownUnit,
                        format!("no unit with id {u}"),
                    ));
                }
                if let Command::Place { grid, lon, lat, .. } = cmd {
                    self.check_position(*lon, *lat)?;
                    check_text("grid", grid, 1, 64)?;
                    self.check_grid(grid)?;
                }
                let t = self.state.tickets.get(ticket).ok_or_else(|| {
                    Refusal::new(
                        ErrorCode::UnknownTicket,
                        format!("no live ticket {ticket} (never taken in, or archived)"),
                    )
                })?;
                let unit = match cmd {
                    Command::Dispatch { unit, .. } => {
                        Some(self.state.units.get(unit).ok_or_else(|| {
                            Refusal::new(ErrorCode::UnknownUnit, format!("no unit with id {unit}"))
                        })?)
                    }
                    _ => None,
                };
                if let Command::Merge { ticket, into } = cmd {
                    self.check_merge(t, *ticket, *into)?;
                }
                let c = lifecycle::apply_ticket_with(t, cmd, unit, now_ms, &self.bounds.workflow)?;
                let action = cmd.audit_action().ok_or_else(|| {
                    Refusal::new(
                        ErrorCode::Invalid,
                        format!("{} is not a ticket command", cmd.name()),
                    )
                })?;
                Ok(Decision::Ticket {
                    from: t.status,
                    change: c,
                    action,
                })
            }
        }
    }

    /// A merge joins a ticket to a live master of the same kind, one level deep: the master
    /// is not itself merged, and nothing is merged into the ticket being merged.
    fn check_merge(&self, t: &Ticket, ticket: u64, into: u64) -> Result<(), Refusal> {
        let invalid = |m: String| Refusal::new(ErrorCode::Invalid, m);
        if ticket == into {
            return Err(invalid(format!(
                "ticket {ticket} cannot be merged into itself"
            )));
        }
        let master = self.state.tickets.get(&into).ok_or_else(|| {
            Refusal::new(
                ErrorCode::UnknownTicket,
                format!("no live ticket {into} to merge into"),
            )
        })?;
        if let Some(m) = master.merged_into {
            return Err(invalid(format!(
                "ticket {into} is itself merged into {m}: merge into {m}"
            )));
        }
        if master.category != t.category {
            return Err(invalid(format!(
                "ticket {ticket} ({}) and {into} ({}) are not the same kind of matter",
                t.category.zh(),
                master.category.zh()
            )));
        }
        if let Some(d) = self
            .state
            .tickets
            .values()
            .find(|x| x.merged_into == Some(ticket))
        {
            return Err(invalid(format!(
                "ticket {} is merged into {ticket}: unmerge it first",
                d.id
            )));
        }
        Ok(())
    }

    fn check_position(&self, lon: f64, lat: f64) -> Result<(), Refusal> {
        let [x0, y0, x1, y1] = self.bounds.bbox;
        if !(lon.is_finite() && lat.is_finite() && lon >= x0 && lon <= x1 && lat >= y0 && lat <= y1)
        {
            return Err(Refusal::new(
                ErrorCode::OutOfRange,
                format!(
                    "position ({lon}, {lat}) is outside the accepted area \
                     lon {x0}..{x1}, lat {y0}..{y1}"
                ),
            ));
        }
        Ok(())
    }

    /// A grid the city has, when the gateway knows its layers.
    fn check_grid(&self, g: &str) -> Result<(), Refusal> {
        match &self.bounds.grids {
            Some(grids) if !grids.contains(g) => Err(Refusal::new(
                ErrorCode::Invalid,
                format!("grid {g} is not one of the city's grids"),
            )),
            _ => Ok(()),
        }
    }

    /// A region the city has (a grid, or a district, town or village: a warning may cover
    /// any of them), when the gateway knows its layers. Warnings are rare: a scan will do.
    /// Is `r` one of the city's regions (any, when the gateway does not know its grids)?
    fn region_known(&self, r: &str) -> bool {
        self.check_region(r).is_ok()
    }

    fn check_region(&self, r: &str) -> Result<(), Refusal> {
        match &self.bounds.grids {
            Some(grids)
                if !grids.contains(r)
                    && !grids.iter().any(|g| {
                        g.len() > r.len() && g.starts_with(r) && g.as_bytes()[r.len()] == b'-'
                    }) =>
            {
                Err(Refusal::new(
                    ErrorCode::Invalid,
                    format!("{r} is none of the city's regions (grid, village, town or district)"),
                ))
            }
            _ => Ok(()),
        }
    }

    fn validate_new_ticket(&self, t: &NewTicket, now_ms: i64) -> Result<(), Refusal> {
        // No grid: taken in by its address alone (待定位), for an operator to place.
        let unplaced = t.grid.is_empty();
        if unplaced && t.address.trim().is_empty() {
            return Err(Refusal::new(
                ErrorCode::Invalid,
                "a ticket without a grid needs its address (address), to be placed by hand",
            ));
        }
        if !unplaced {
            self.check_position(t.lon, t.lat)?;
        }
        check_text("title", t.title.trim(), 1, 200)?;
        check_text("grid", &t.grid, 0, 64)?;
        check_text("subtype", &t.subtype, 0, 64)?;
        check_text("reporter", &t.reporter, 0, 64)?;
        crate::text::check_words("content", &t.content, 4000)?;
        check_text("address", t.address.trim(), 0, 200)?;
        if !unplaced {
            self.check_grid(&t.grid)?;
        }
        if let Some(c) = t.created_ms
            && !(now_ms - CREATED_PAST_MS..=now_ms + CREATED_AHEAD_MS).contains(&c)
        {
            return Err(Refusal::new(
                ErrorCode::Invalid,
                format!("created_ms {c} is not within the last 366 days: leave it out to mean now"),
            ));
        }
        if let Some(m) = t.sla_minutes
            && !(1..=MAX_SLA_MINUTES).contains(&m)
        {
            return Err(Refusal::new(
                ErrorCode::Invalid,
                format!("sla_minutes must be 1-{MAX_SLA_MINUTES}, got {m}"),
            ));
        }
        Ok(())
    }
}

/// The free text of a command: lengths in characters, no control characters.
fn check_command_text(cmd: &Command) -> Result<(), Refusal> {
    match cmd {
        Command::Return { reason: t, .. }
        | Command::Escalate { reason: t, .. }
        | Command::RequestExtension { reason: t, .. }
        | Command::MarkHard { reason: t, .. }
        | Command::Suspend { reason: t, .. } => check_text("reason", t, 0, 500),
        Command::Supervise { note: t, .. }
        | Command::Resolve { note: t, .. }
        | Command::Progress { note: t, .. }
        | Command::Review { note: t, .. }
        | Command::DecideExtension { note: t, .. }
        | Command::LiftWarning { note: t, .. } => check_text("note", t, 0, 500),
        Command::Callback { words, .. } => crate::text::check_words("words", words, 2000),
        Command::ScheduleMeeting { title, .. } => check_text("title", title, 1, 100),
        Command::MeetingOutcome {
            note,
            units_present,
            ..
        } => {
            if units_present.len() > 50 {
                return Err(Refusal::new(ErrorCode::Invalid, "at most 50 units present"));
            }
            for u in units_present {
                check_text("unit", u, 1, 64)?;
            }
            check_text("note", note, 0, 500)
        }
        Command::AssignTaskForce { team, .. } => check_text("team", team, 1, 64),
        Command::Dispatch { unit, .. } | Command::SetUnitDuty { unit, .. } => {
            check_text("unit", unit, 1, 64)
        }
        Command::UpsertUnit { unit } => {
            check_text("unit id", &unit.id, 1, 64)?;
            check_text("unit name", &unit.name, 1, 64)?;
            check_text("unit area", &unit.area, 0, 64)
        }
        _ => Ok(()),
    }
}

fn validate_new_warning(w: &NewWarning) -> Result<(), Refusal> {
    check_text("warning title", w.title.trim(), 1, 200)?;
    for g in &w.grids {
        check_text("grid", g, 1, 64)?;
    }
    // A whole district or the city is linked as its region (one id), not its grids; a
    // polygon over a county can still touch several thousand grids.
    if w.grids.len() > 20_000 || w.tickets.len() > 10_000 {
        return Err(Refusal::new(
            ErrorCode::Invalid,
            format!(
                "a warning links at most 20,000 grids or regions and 10,000 tickets (this one {} and {}): name a whole region by its id instead of its grids",
                w.grids.len(),
                w.tickets.len()
            ),
        ));
    }
    if w.cap_refs.len() > 50 {
        return Err(Refusal::new(
            ErrorCode::Invalid,
            "at most 50 CAP references",
        ));
    }
    for r in &w.cap_refs {
        check_text("CAP reference", r, 3, 400)?;
    }
    Ok(())
}

/// A decided change, before it is written.
pub enum Decision {
    NewTicket(NewTicket),
    Ticket {
        from: TicketStatus,
        change: lifecycle::TicketChange,
        action: protocol::AuditAction,
    },
    NewWarning(NewWarning),
    Warning(Warning),
    /// Changed in place (`update_warning`).
    WarningUpdated(Warning),
    Unit(Unit),
    Briefing(Option<Briefing>),
    /// The duty room (roster, shifts, escalations, handovers).
    Duty(protocol::DutyChange),
}

/// The numbers a new record takes: the next ticket's and warning's ids.
#[derive(Clone, Copy, Debug)]
pub struct NextIds {
    pub ticket: u64,
    pub warning: u64,
}

impl Decision {
    /// The event that records this change (made at `now_ms` by `actor`, the log's `seq`),
    /// and the id a new ticket or warning takes.
    pub fn event(
        self,
        next: NextIds,
        seq: u64,
        now_ms: i64,
        actor: &str,
        sla_minutes: [u32; 3],
    ) -> (Event, Option<u64>) {
        match self {
            Decision::NewTicket(n) => {
                let t = lifecycle::new_ticket(next.ticket, &n, now_ms, sla_minutes);
                (
                    lifecycle::intake_event(t, seq, now_ms, actor),
                    Some(next.ticket),
                )
            }
            Decision::Ticket {
                from,
                change,
                action,
            } => (change.event(from, action, seq, now_ms, actor), None),
            Decision::NewWarning(n) => {
                let w = lifecycle::new_warning(next.warning, &n, now_ms);
                (lifecycle::warning_event(w), Some(next.warning))
            }
            Decision::Warning(w) => (lifecycle::warning_event(w), None),
            Decision::WarningUpdated(w) => (Event::WarningUpdated { warning: w }, None),
            Decision::Unit(u) => (Event::UnitStatus { unit: u }, None),
            Decision::Briefing(b) => (Event::BriefingChanged { briefing: b }, None),
            Decision::Duty(c) => (
                Event::Duty {
                    change: Box::new(c),
                },
                None,
            ),
        }
    }
}
