//! An action sent from the field (the phone page): its mark checked, then put on the
//! event it makes: on the audit entry, and the photos on the ticket's list.

use protocol::{
    Command, ErrorCode, Event, FieldMark, MAX_PHOTOS_PER_ACTION, MAX_PHOTOS_PER_TICKET, PhotoSlot,
    is_photo_id,
};

use crate::time::DAY_MS;
use crate::{Refusal, State};

/// How far back a phone's clock may date an action (a week without signal), and ahead
/// (a phone's clock running fast).
const FIELD_PAST_MS: i64 = 7 * DAY_MS;
const FIELD_AHEAD_MS: i64 = 10 * 60_000;

fn invalid(m: impl Into<String>) -> Refusal {
    Refusal::new(ErrorCode::Invalid, m)
}

/// May `cmd` carry `mark`? A ticket command or an intake may; its position must be a
/// position, its time near now, its photos well-formed, few, and the ticket's room for
/// them not used up. (That each photo is stored is the gateway's check: no I/O here.)
pub fn check(mark: &FieldMark, cmd: &Command, state: &State, now_ms: i64) -> Result<(), Refusal> {
    let ticket = match cmd {
        Command::Intake { .. } => None,
        c => Some(c.ticket().ok_or_else(|| {
            invalid(format!(
                "{} is not a ticket command: it carries no field mark",
                c.name()
            ))
        })?),
    };
    if let Some(p) = &mark.pos {
        let ok = p.lon.is_finite()
            && p.lat.is_finite()
            && (-180.0..=180.0).contains(&p.lon)
            && (-90.0..=90.0).contains(&p.lat)
            && p.accuracy_m.is_finite()
            && (0.0..=100_000.0).contains(&p.accuracy_m);
        if !ok {
            return Err(Refusal::new(
                ErrorCode::OutOfRange,
                "field position: lon -180..180, lat -90..90, accuracy_m 0..100000",
            ));
        }
    }
    if mark.at_ms < now_ms - FIELD_PAST_MS || mark.at_ms > now_ms + FIELD_AHEAD_MS {
        return Err(invalid(format!(
            "field at_ms {} is not within the last 7 days (the phone's clock or a stale outbox)",
            mark.at_ms
        )));
    }
    if mark.photos.len() > MAX_PHOTOS_PER_ACTION {
        return Err(invalid(format!(
            "{} photos: an action carries at most {MAX_PHOTOS_PER_ACTION}",
            mark.photos.len()
        )));
    }
    for (i, p) in mark.photos.iter().enumerate() {
        if !is_photo_id(&p.id) {
            return Err(invalid(format!(
                "photo {i}: an id is the 64 hex digits POST /api/photos answered"
            )));
        }
        if mark.photos[..i].iter().any(|q| q.id == p.id) {
            return Err(invalid(format!("photo {} is named twice", p.id)));
        }
        if (p.slot == PhotoSlot::Report) != ticket.is_none() {
            return Err(invalid(
                "slot report is a new matter's (an intake); an action's photos are before or after",
            ));
        }
    }
    if let Some(t) = ticket.and_then(|id| state.tickets.get(&id))
        && t.work.photos.len() + mark.photos.len() > MAX_PHOTOS_PER_TICKET
    {
        return Err(invalid(format!(
            "ticket {} holds {} photos: at most {MAX_PHOTOS_PER_TICKET} a ticket",
            t.id,
            t.work.photos.len()
        )));
    }
    Ok(())
}

/// Put `mark` on the event a field action made: its audit entry, and its photos at the
/// end of the ticket's list.
pub fn attach(event: &mut Event, mark: &FieldMark) {
    if let Event::TicketCreated { ticket, audit }
    | Event::TicketTransitioned { ticket, audit }
    | Event::TicketUpdated { ticket, audit } = event
    {
        ticket.work.photos.extend(mark.photos.iter().cloned());
        audit.field = Some(Box::new(mark.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{PhotoRef, Position, examples};

    fn mark(photos: Vec<PhotoRef>) -> FieldMark {
        FieldMark {
            pos: Some(Position {
                lon: 119.45,
                lat: 32.2,
                accuracy_m: 12.0,
            }),
            at_ms: 1_000 * DAY_MS,
            photos,
        }
    }

    fn photo(n: u8, slot: PhotoSlot) -> PhotoRef {
        PhotoRef {
            id: format!("{:064x}", n),
            slot,
        }
    }

    #[test]
    fn a_field_mark_is_checked_before_it_is_kept() {
        let mut s = State::default();
        let t = examples::ticket();
        let id = t.id;
        s.tickets.insert(id, t.into());
        let now = 1_000 * DAY_MS;
        let resolve = Command::Resolve {
            ticket: id,
            note: "已清理".into(),
        };
        let ok = mark(vec![
            photo(1, PhotoSlot::Before),
            photo(2, PhotoSlot::After),
        ]);
        assert!(check(&ok, &resolve, &s, now).is_ok());
        // Seven photos, a bad id, a repeat, a report slot on an action.
        let seven = mark((0..7).map(|i| photo(i, PhotoSlot::After)).collect());
        assert!(check(&seven, &resolve, &s, now).is_err());
        let mut bad = ok.clone();
        bad.photos[0].id = "../../etc/passwd".into();
        assert_eq!(
            check(&bad, &resolve, &s, now).unwrap_err().code,
            ErrorCode::Invalid
        );
        let twice = mark(vec![
            photo(1, PhotoSlot::After),
            photo(1, PhotoSlot::Before),
        ]);
        assert!(check(&twice, &resolve, &s, now).is_err());
        assert!(check(&mark(vec![photo(1, PhotoSlot::Report)]), &resolve, &s, now).is_err());
        // A position off the earth, a time a month old, a mark on a non-ticket command.
        let mut far = ok.clone();
        far.pos = Some(Position {
            lon: 200.0,
            lat: 0.0,
            accuracy_m: 0.0,
        });
        assert_eq!(
            check(&far, &resolve, &s, now).unwrap_err().code,
            ErrorCode::OutOfRange
        );
        let mut old = ok.clone();
        old.at_ms = now - 30 * DAY_MS;
        assert!(check(&old, &resolve, &s, now).is_err());
        assert!(check(&ok, &Command::EndBriefing, &s, now).is_err());

        let mut e = Event::TicketUpdated {
            ticket: examples::ticket(),
            audit: examples::audit(),
        };
        attach(&mut e, &ok);
        let (Event::TicketUpdated { ticket, audit } | Event::TicketCreated { ticket, audit }) = &e
        else {
            unreachable!()
        };
        assert_eq!(ticket.work.photos.len(), 2);
        assert_eq!(audit.field.as_deref(), Some(&ok));
    }
}
