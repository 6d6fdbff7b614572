//! Who may do what, where: a credential's role and region scope, checked against a
//! command and the records it touches. The one place this is decided: the store asks it
//! for every command, the gateway for every hello.

use serde::Deserialize;

use super::Refusal;
use super::state::State;
use protocol::{Command, ErrorCode, Incident, Ticket, within};

/// What a credential may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Watches the feed.
    Viewer,
    /// A linked unit's screen or person: accepts, starts, resolves or returns the tickets
    /// assigned to its own unit, nothing else.
    Unit,
    /// Watches and commands.
    Operator,
    /// Also registers units and imports history (`created_ms`).
    Admin,
    /// The gateway's own duty engine (`duty_record`): no credential has this role (a
    /// config or an account naming it is refused).
    #[serde(skip)]
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Unit => "unit",
            Role::Operator => "operator",
            Role::Admin => "admin",
            Role::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Viewer, Role::Unit, Role::Operator, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }

    /// Sends commands at all.
    pub fn can_command(self) -> bool {
        self != Role::Viewer
    }
}

/// What a connection or request may do: the role, the region it is scoped to (a grid-id
/// prefix; "" is the whole city) and, for the unit role, its unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    pub role: Role,
    pub region: String,
    pub unit: Option<String>,
}

impl Access {
    /// The whole city with `role` (a credential with no scope).
    pub fn city(role: Role) -> Access {
        Access {
            role,
            region: String::new(),
            unit: None,
        }
    }

    /// Is the grid (or region id) `id` inside this scope?
    pub fn covers(&self, id: &str) -> bool {
        within(id, &self.region)
    }

    /// The region a feed is scoped to, from the region a hello asks for: its own when it
    /// asks for none, a narrower one inside it, never a wider one.
    pub fn feed_region(&self, asked: Option<&str>) -> Result<String, Refusal> {
        match asked {
            None | Some("") => Ok(self.region.clone()),
            Some(r) if self.covers(r) => Ok(r.to_string()),
            Some(r) => Err(Refusal::new(
                ErrorCode::Forbidden,
                format!(
                    "this credential is scoped to region {}: it cannot watch {r}",
                    self.region
                ),
            )),
        }
    }
}

/// A unit's own report of a new matter (网格上报): channel `grid_app`, on a grid inside
/// its unit's area (and its credential's region), at the intake time of now.
fn field_report(
    access: &Access,
    ticket: &protocol::NewTicket,
    state: &State,
) -> Result<(), Refusal> {
    if ticket.channel != protocol::Channel::GridApp {
        return Err(forbidden(
            "a unit credential reports new matters as channel grid_app (网格上报) only",
        ));
    }
    if ticket.created_ms.is_some() {
        return Err(forbidden(
            "created_ms (an intake time of its own) is an import's: leave it out",
        ));
    }
    let unit = access
        .unit
        .as_ref()
        .and_then(|u| state.units.get(u))
        .ok_or_else(|| forbidden("this credential's unit is not registered"))?;
    if !within(&ticket.grid, &unit.area) || !access.covers(&ticket.grid) {
        return Err(forbidden(format!(
            "grid {} is outside unit {}'s area {}",
            ticket.grid, unit.id, unit.area
        )));
    }
    Ok(())
}

fn forbidden(msg: impl Into<String>) -> Refusal {
    Refusal::new(ErrorCode::Forbidden, msg)
}

/// May `access` send `cmd`, given the live state? (Unknown records are left to the
/// lifecycle, which says so in its own words.)
pub fn authorize(access: &Access, cmd: &Command, state: &State) -> Result<(), Refusal> {
    let role = access.role;
    // The duty engine's records are the gateway's own; the engine sends nothing else.
    match (
        matches!(cmd, Command::DutyRecord { .. }),
        role == Role::System,
    ) {
        (true, false) => {
            return Err(forbidden(
                "duty_record is sent by the gateway's duty engine only",
            ));
        }
        (false, true) => {
            return Err(forbidden("the duty engine sends duty_record only"));
        }
        _ => {}
    }
    if matches!(cmd, Command::SetRoster { .. }) && role != Role::Admin {
        return Err(forbidden(
            "the roster is set by an admin credential (yiping roster import)",
        ));
    }
    if !role.can_command() {
        return Err(forbidden(format!(
            "a viewer credential cannot send commands ({}): ask for an operator's",
            cmd.name()
        )));
    }
    let outside = |what: &str| {
        forbidden(format!(
            "{what} is outside this credential's region {}",
            access.region
        ))
    };
    let ticket_in_scope = |t: &Ticket| {
        if access.covers(&t.grid) {
            Ok(())
        } else {
            Err(outside(&format!("ticket {} (grid {})", t.id, t.grid)))
        }
    };
    if role == Role::Unit {
        // A unit acts on its own tickets only, and only as the unit.
        let allowed = matches!(
            cmd,
            Command::Accept { .. }
                | Command::Start { .. }
                | Command::Resolve { .. }
                | Command::Return { .. }
                | Command::RequestExtension { .. }
                | Command::Progress { .. }
        );
        // 网格上报: a unit (a grid worker) reports a new matter on its own area's grids.
        if let Command::Intake { ticket } = cmd {
            return field_report(access, ticket, state);
        }
        if !allowed {
            return Err(forbidden(format!(
                "a unit credential may accept, start, note progress, resolve, return or ask more time for its unit's tickets, or report a new matter (网格上报), not {}",
                cmd.name()
            )));
        }
        if let Some(t) = cmd.ticket().and_then(|id| state.tickets.get(&id))
            && t.unit != access.unit
        {
            return Err(forbidden(format!(
                "ticket {} is not assigned to this credential's unit",
                t.id
            )));
        }
    }
    match cmd {
        Command::Intake { ticket } => {
            if ticket.created_ms.is_some() && role != Role::Admin {
                return Err(forbidden(
                    "created_ms (an intake time of its own) is an import's: an admin credential's; leave it out to mean now",
                ));
            }
            if !access.covers(&ticket.grid) {
                return Err(outside(&format!("grid {}", ticket.grid)));
            }
        }
        // Both ends: merging another region's ticket would hide it there (it drops out
        // of that region's queue, figures and supervision).
        Command::Merge { ticket, into } => {
            for id in [ticket, into] {
                if let Some(t) = state.tickets.get(id) {
                    ticket_in_scope(t)?;
                }
            }
        }
        // A meeting's lead unit, like a dispatch's unit (below).
        Command::MeetingOutcome {
            ticket,
            lead_unit: Some(unit),
            ..
        }
        | Command::Dispatch { ticket, unit } => {
            if let Some(t) = state.tickets.get(ticket) {
                ticket_in_scope(t)?;
                // The unit is the other end: one of the scope's own, or one whose area
                // takes in the ticket's place (a district or city-wide unit serving this
                // town). Another town's unit is not this town's to send.
                if let Some(u) = state.units.get(unit)
                    && !access.covers(&u.area)
                    && !within(&t.grid, &u.area)
                {
                    return Err(outside(&format!("unit {} (area {})", u.id, u.area)));
                }
            }
        }
        // Placing puts it in another region: that one must be the credential's too.
        Command::Place { ticket, grid, .. } => {
            if let Some(t) = state.tickets.get(ticket) {
                ticket_in_scope(t)?;
            }
            if !access.covers(grid) {
                return Err(outside(&format!("grid {grid}")));
            }
        }
        // Unmerging changes the matter it was merged into as well (its count of reports).
        Command::Unmerge { ticket } => {
            if let Some(t) = state.tickets.get(ticket) {
                ticket_in_scope(t)?;
                if let Some(into) = t.merged_into.and_then(|id| state.tickets.get(&id)) {
                    ticket_in_scope(into)?;
                }
            }
        }
        Command::UpsertUnit { unit } => {
            if role != Role::Admin {
                return Err(forbidden("registering units needs an admin credential"));
            }
            if !access.covers(&unit.area) {
                return Err(outside(&format!("unit area {}", unit.area)));
            }
            // An existing unit stays where it is unless its current area is covered too:
            // a town admin cannot take over (move, rename) another town's unit.
            if let Some(old) = state.units.get(&unit.id)
                && !access.covers(&old.area)
            {
                return Err(outside(&format!("unit {} (area {})", old.id, old.area)));
            }
        }
        Command::SetUnitDuty { unit, .. } => {
            if let Some(u) = state.units.get(unit)
                && !access.covers(&u.area)
            {
                return Err(outside(&format!("unit {}", u.id)));
            }
        }
        Command::RaiseWarning { warning } => {
            if let Some(g) = warning.grids.iter().find(|g| !access.covers(g)) {
                return Err(outside(&format!("grid {g}")));
            }
            if warning.grids.is_empty() && !access.region.is_empty() {
                return Err(outside("a city-wide warning"));
            }
        }
        Command::AckWarning { warning }
        | Command::AssignTaskForce { warning, .. }
        | Command::LiftWarning { warning, .. }
        | Command::UpdateWarning { warning, .. } => {
            // An update's new area must be the credential's too.
            if let Command::UpdateWarning { update, .. } = cmd {
                if let Some(g) = update.grids.iter().find(|g| !access.covers(g)) {
                    return Err(outside(&format!("grid {g}")));
                }
                if update.grids.is_empty() && !access.region.is_empty() {
                    return Err(outside("a city-wide warning"));
                }
            }
            if let Some(w) = state.warnings.get(warning)
                && (w.grids.iter().any(|g| !access.covers(g))
                    || (w.grids.is_empty() && !access.region.is_empty()))
            {
                return Err(outside(&format!("warning {}", w.id)));
            }
        }
        // A briefing turns every wall of the city: a city-wide credential's.
        Command::StartBriefing { .. } | Command::Promote { .. } | Command::EndBriefing
            if !access.region.is_empty() =>
        {
            return Err(forbidden(
                "a briefing turns every wall of the city: it needs a city-wide credential",
            ));
        }
        Command::StartBriefing {
            incident: Incident::Ticket { id },
        } => {
            if let Some(t) = state.tickets.get(id) {
                ticket_in_scope(t)?;
            }
        }
        other => {
            if let Some(t) = other.ticket().and_then(|id| state.tickets.get(&id)) {
                ticket_in_scope(t)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Ticket, examples};

    fn state() -> State {
        let mut s = State::default();
        let mut t = examples::ticket(); // grid 321102-01-003-005
        t.unit = Some("U-1".into());
        s.tickets.insert(t.id, Box::new(t));
        let other = Ticket {
            id: 7,
            grid: "321111-02-001-01".into(),
            ..examples::ticket()
        };
        s.tickets.insert(7, Box::new(other));
        s
    }

    #[test]
    fn a_town_operator_commands_its_town_only() {
        let s = state();
        let town = Access {
            role: Role::Operator,
            region: "321102-01".into(),
            unit: None,
        };
        assert!(authorize(&town, &Command::Accept { ticket: 1024 }, &s).is_ok());
        let e = authorize(&town, &Command::Accept { ticket: 7 }, &s).unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden);
        assert!(e.message.contains("outside"), "{}", e.message);
        let mut n = examples::new_ticket();
        assert!(authorize(&town, &Command::Intake { ticket: n.clone() }, &s).is_ok());
        n.grid = "321102-02-001-01".into();
        assert!(authorize(&town, &Command::Intake { ticket: n }, &s).is_err());
        assert!(authorize(&town, &Command::EndBriefing, &s).is_err());
        // "321102-011" is not inside "321102-01".
        assert!(!town.covers("321102-011-001"));
        assert_eq!(town.feed_region(None).unwrap(), "321102-01");
        assert_eq!(
            town.feed_region(Some("321102-01-003")).unwrap(),
            "321102-01-003"
        );
        assert!(town.feed_region(Some("321102")).is_err());
    }

    #[test]
    fn a_unit_acts_on_its_own_tickets_only() {
        let s = state();
        let unit = Access {
            role: Role::Unit,
            region: String::new(),
            unit: Some("U-1".into()),
        };
        assert!(authorize(&unit, &Command::Accept { ticket: 1024 }, &s).is_ok());
        assert!(authorize(&unit, &Command::Accept { ticket: 7 }, &s).is_err());
        let d = Command::Dispatch {
            ticket: 1024,
            unit: "U-1".into(),
        };
        assert!(authorize(&unit, &d, &s).is_err());
        let viewer = Access::city(Role::Viewer);
        assert!(authorize(&viewer, &Command::Accept { ticket: 1024 }, &s).is_err());
    }

    #[test]
    fn a_town_cannot_merge_another_towns_ticket_into_its_own_or_the_reverse() {
        let mut s = state();
        let mine = Ticket {
            id: 8,
            ..examples::ticket()
        };
        s.tickets.insert(8, Box::new(mine));
        let town = Access {
            role: Role::Operator,
            region: "321102-01".into(),
            unit: None,
        };
        // Ticket 7 is another district's.
        let hide = Command::Merge {
            ticket: 7,
            into: 1024,
        };
        let e = authorize(&town, &hide, &s).unwrap_err();
        assert_eq!(e.code, ErrorCode::Forbidden);
        assert!(e.message.contains("ticket 7"), "{}", e.message);
        let into_theirs = Command::Merge {
            ticket: 1024,
            into: 7,
        };
        assert!(authorize(&town, &into_theirs, &s).is_err());
        let own = Command::Merge {
            ticket: 8,
            into: 1024,
        };
        assert!(authorize(&town, &own, &s).is_ok());
        assert!(authorize(&Access::city(Role::Operator), &hide, &s).is_ok());
    }

    #[test]
    fn a_town_dispatches_its_own_units_and_those_serving_it_and_unmerges_within_itself() {
        let mut s = state();
        let unit = |id: &str, area: &str| protocol::Unit {
            id: id.into(),
            area: area.into(),
            ..examples::unit()
        };
        for u in [
            unit("mine", "321102-01"),
            unit("district", "321102"),
            unit("theirs", "321111-02"),
        ] {
            s.units.insert(u.id.clone(), u);
        }
        let town = Access {
            role: Role::Operator,
            region: "321102-01".into(),
            unit: None,
        };
        let send = |u: &str| Command::Dispatch {
            ticket: 1024,
            unit: u.into(),
        };
        assert!(authorize(&town, &send("mine"), &s).is_ok());
        assert!(authorize(&town, &send("district"), &s).is_ok());
        let e = authorize(&town, &send("theirs"), &s).unwrap_err();
        assert!(e.message.contains("theirs"), "{}", e.message);
        assert!(authorize(&Access::city(Role::Operator), &send("theirs"), &s).is_ok());
        // Ticket 1024 (this town's) merged into 7 (another district's): unmerging it
        // changes theirs too.
        if let Some(t) = s.tickets.get_mut(&1024) {
            t.merged_into = Some(7);
        }
        let e = authorize(&town, &Command::Unmerge { ticket: 1024 }, &s).unwrap_err();
        assert!(e.message.contains("ticket 7"), "{}", e.message);
        assert!(
            authorize(
                &Access::city(Role::Operator),
                &Command::Unmerge { ticket: 1024 },
                &s
            )
            .is_ok()
        );
    }

    #[test]
    fn a_town_admin_cannot_take_over_another_towns_unit() {
        let mut s = state();
        let theirs = protocol::Unit {
            id: "U-9".into(),
            area: "321111-02".into(),
            ..examples::unit()
        };
        s.units.insert(theirs.id.clone(), theirs.clone());
        let town = Access {
            role: Role::Admin,
            region: "321102-01".into(),
            unit: None,
        };
        let takeover = Command::UpsertUnit {
            unit: protocol::Unit {
                area: "321102-01".into(),
                name: "改名".into(),
                ..theirs
            },
        };
        let e = authorize(&town, &takeover, &s).unwrap_err();
        assert!(e.message.contains("U-9"), "{}", e.message);
        let new_one = Command::UpsertUnit {
            unit: protocol::Unit {
                id: "U-10".into(),
                area: "321102-01-003".into(),
                ..examples::unit()
            },
        };
        assert!(authorize(&town, &new_one, &s).is_ok());
        assert!(authorize(&Access::city(Role::Admin), &takeover, &s).is_ok());
    }
}
