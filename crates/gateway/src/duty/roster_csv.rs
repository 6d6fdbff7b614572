//! A roster from CSV (`yiping roster import roster.csv`, `POST /api/roster`): a header
//! row, then one shift a row:
//!
//! ```text
//! center,role,person,name,phone,credential,start,end
//! ,值班员,ZB001,王敏,13800000001,console-wang,2026-12-08 08:00,2026-12-08 20:00
//! 321102,值班长,ZB010,李强,13800000010,jingkou-li,2026-12-08 08:00,2026-12-09 08:00
//! ```
//!
//! `center`: a district or town id, empty for the city's own center; `role`: 值班员 /
//! 值班长 / 值班领导 (or officer / chief / leader); times in the center's local time. A
//! person is given by every row they are on, the same each time. Every row is checked
//! before any is taken, and each problem is named with its line and what to fix.

use std::collections::HashMap;

use protocol::{DutyRole, Person, Roster, Shift};

/// The columns, in order.
pub const HEADER: [&str; 8] = [
    "center",
    "role",
    "person",
    "name",
    "phone",
    "credential",
    "start",
    "end",
];

/// At most this many problems are listed.
const MAX_PROBLEMS: usize = 20;

/// Read a roster: the roster, or every problem found (line: what to fix).
pub fn read(text: &str) -> Result<Roster, Vec<String>> {
    let mut problems = Vec::new();
    let mut rd = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    match rd.headers() {
        Ok(h) if h.iter().eq(HEADER.iter().copied()) => {}
        Ok(h) => {
            return Err(vec![format!(
                "line 1: the header must be {} (it is {})",
                HEADER.join(","),
                h.iter().collect::<Vec<_>>().join(",")
            )]);
        }
        Err(e) => return Err(vec![format!("line 1: {e}")]),
    }
    let mut people: Vec<Person> = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut shifts = Vec::new();
    let mut lines = Vec::new();
    for rec in rd.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{e}"));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line()) as usize;
        let f = |i: usize| rec.get(i).unwrap_or("").to_string();
        let mut bad = |m: String| problems.push(format!("line {line}: {m}"));
        let Some(role) = DutyRole::parse(&f(1)) else {
            bad(format!("role {:?}: write 值班员, 值班长 or 值班领导", f(1)));
            continue;
        };
        let (start, end) = (
            domain::time::parse_civil(&f(6)),
            domain::time::parse_civil(&f(7)),
        );
        let (Some(start), Some(end)) = (start, end) else {
            bad(format!(
                "start {:?} or end {:?} is not a time: write 2026-12-08 08:00",
                f(6),
                f(7)
            ));
            continue;
        };
        let p = Person {
            id: f(2),
            name: f(3),
            phone: f(4),
            credential: f(5),
        };
        match people.iter().find(|o| o.id == p.id) {
            Some(o) if *o != p => {
                let first = first_line.get(&p.id).copied().unwrap_or(0);
                bad(format!(
                    "person {} is written differently on line {first} (name, phone or credential): make them the same",
                    p.id
                ));
                continue;
            }
            Some(_) => {}
            None => {
                first_line.insert(p.id.clone(), line);
                people.push(p.clone());
            }
        }
        shifts.push(Shift {
            id: 0,
            center: f(0),
            role,
            person: p.id,
            start_ms: start,
            end_ms: end,
        });
        lines.push(line);
    }
    if !problems.is_empty() {
        problems.truncate(MAX_PROBLEMS);
        return Err(problems);
    }
    let roster = Roster { people, shifts };
    // The domain's checks (the gateway makes them again): its "shift N" is the Nth row.
    if let Err(r) = domain::duty::roster::check(&roster, 1, &|_| true) {
        let mut m = r.message;
        for (i, line) in lines.iter().enumerate().rev() {
            m = m.replace(&format!("shift {} ", i + 1), &format!("line {line} "));
        }
        for (i, p) in roster.people.iter().enumerate() {
            if let Some(line) = first_line.get(&p.id) {
                m = m.replace(
                    &format!("person {} ({})", i + 1, p.id),
                    &format!("line {line} (person {})", p.id),
                );
            }
        }
        return Err(vec![m]);
    }
    Ok(roster)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "center,role,person,name,phone,credential,start,end
,值班员,ZB001,王敏,13800000001,console-wang,2026-12-08 08:00,2026-12-08 20:00
321102,chief,ZB010,李强,13800000010,jingkou-li,2026-12-08 08:00,2026-12-09 08:00
,值班员,ZB001,王敏,13800000001,console-wang,2026-12-09 08:00,2026-12-09 20:00
";

    /// The README's example ("The duty room") reads as it is written there.
    #[test]
    fn the_readmes_roster_reads() {
        let readme = include_str!("../../../../README.md");
        let start = readme.find("center,role,person").unwrap();
        let block = &readme[start..start + readme[start..].find("```").unwrap()];
        let text: String = block.lines().map(|l| l.trim().to_string() + "\n").collect();
        let r = read(&text).unwrap();
        assert_eq!((r.people.len(), r.shifts.len()), (2, 2));
        assert_eq!(r.shifts[1].center, "321102");
    }

    #[test]
    fn a_good_roster_reads_and_each_bad_row_is_named_by_its_line() {
        let r = read(GOOD).unwrap();
        assert_eq!(r.people.len(), 2);
        assert_eq!(r.shifts.len(), 3);
        assert_eq!(r.shifts[1].role, DutyRole::Chief);
        let bad = GOOD
            .replace("2026-12-09 08:00,2026-12-09 20:00", "2026-12-09 25:00,x")
            .replace("chief", "captain");
        let e = read(&bad).unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].starts_with("line 3: role \"captain\""), "{e:?}");
        assert!(e[1].starts_with("line 4: start"), "{e:?}");
        let clash = format!(
            "{GOOD},值班员,ZB001,王敏,13800000001,console-wang,2026-12-08 19:00,2026-12-08 23:00\n"
        );
        let e = read(&clash).unwrap_err();
        assert!(e[0].contains("two shifts at once"), "{e:?}");
        let phone = GOOD.replace("13800000010", "138-0000");
        let e = read(&phone).unwrap_err();
        assert!(e[0].contains("phone") && e[0].contains("ZB010"), "{e:?}");
    }
}
