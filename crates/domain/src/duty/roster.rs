//! A roster's checks: every person and shift whole and consistent before any is taken.

use std::collections::HashSet;

use protocol::{ErrorCode, Roster, Shift};

use crate::Refusal;
use crate::time::DAY_MS;

/// A shift is at most this long (a 24-hour duty and a handover's slack).
pub const MAX_SHIFT_MS: i64 = DAY_MS + 6 * 3_600_000;
/// At most this many shifts in one roster (a year of three roles in three shifts at
/// a hundred centers is 330,000; a roster is a month or a quarter).
pub const MAX_SHIFTS: usize = 50_000;
pub const MAX_PEOPLE: usize = 10_000;

fn bad(msg: String) -> Refusal {
    Refusal::new(ErrorCode::BadRoster, msg)
}

/// Check a roster; give its shifts ids from `first_id` on (in their order). `region_ok`
/// says whether a center's region id is one of the city's.
pub fn check(
    roster: &Roster,
    first_id: u64,
    region_ok: &dyn Fn(&str) -> bool,
) -> Result<Roster, Refusal> {
    if roster.people.len() > MAX_PEOPLE || roster.shifts.len() > MAX_SHIFTS {
        return Err(bad(format!(
            "a roster holds at most {MAX_PEOPLE} people and {MAX_SHIFTS} shifts: split it by center"
        )));
    }
    let mut ids = HashSet::new();
    for (i, p) in roster.people.iter().enumerate() {
        let at = format!("person {} ({})", i + 1, p.id);
        for (what, v, max) in [
            ("id", &p.id, 32),
            ("name", &p.name, 32),
            ("credential", &p.credential, 64),
        ] {
            if v.trim().is_empty() || v.chars().count() > max {
                return Err(bad(format!("{at}: {what} must be 1 to {max} characters")));
            }
        }
        if !crate::text::is_phone(&p.phone) {
            return Err(bad(format!(
                "{at}: phone {:?} is not a number (5 to 20 digits, + in front allowed)",
                p.phone
            )));
        }
        if !ids.insert(p.id.as_str()) {
            return Err(bad(format!("{at}: id {} is given twice", p.id)));
        }
    }
    let mut shifts: Vec<Shift> = Vec::with_capacity(roster.shifts.len());
    for (i, s) in roster.shifts.iter().enumerate() {
        let at = format!("shift {} ({} {})", i + 1, s.person, s.role.zh());
        if !ids.contains(s.person.as_str()) {
            return Err(bad(format!("{at}: no person with id {}", s.person)));
        }
        if s.end_ms <= s.start_ms {
            return Err(bad(format!("{at}: it ends before it starts")));
        }
        if s.end_ms - s.start_ms > MAX_SHIFT_MS {
            return Err(bad(format!(
                "{at}: longer than 30 hours: split it into shifts"
            )));
        }
        if !s.center.is_empty() && !region_ok(&s.center) {
            return Err(bad(format!(
                "{at}: center {} is not a region of this city (a district or town id, or empty for the city)",
                s.center
            )));
        }
        shifts.push(Shift {
            id: first_id + i as u64,
            ..s.clone()
        });
    }
    // One person is in one place at a time.
    let mut by_person: Vec<&Shift> = shifts.iter().collect();
    by_person.sort_by(|a, b| (&a.person, a.start_ms).cmp(&(&b.person, b.start_ms)));
    for w in by_person.windows(2) {
        if w[0].person == w[1].person && w[1].start_ms < w[0].end_ms {
            return Err(bad(format!(
                "person {} has two shifts at once (shift {} and shift {}): take one out",
                w[0].person,
                w[0].id - first_id + 1,
                w[1].id - first_id + 1
            )));
        }
    }
    Ok(Roster {
        people: roster.people.clone(),
        shifts,
    })
}
