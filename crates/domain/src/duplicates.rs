//! Suggesting duplicates: the same matter reported through several channels (12345, 110,
//! the grid app) shows up as tickets of one category, in one place, close in time. The
//! wall offers them beside a selected ticket; one click merges (`Command::Merge`).

use protocol::Ticket;

/// Reports this close in time may be one matter.
pub const WINDOW_MS: i64 = 2 * 3_600_000;
/// ... and this close in place (when not on the same grid), metres.
pub const NEAR_M: f64 = 300.0;

/// Metres between two positions (an equirectangular approximation: exact enough at a
/// city's scale).
fn metres(a: &Ticket, b: &Ticket) -> f64 {
    let lat = ((a.lat + b.lat) / 2.0).to_radians();
    let dx = (a.lon - b.lon).to_radians() * lat.cos();
    let dy = (a.lat - b.lat).to_radians();
    6_371_000.0 * (dx * dx + dy * dy).sqrt()
}

/// Whether `a` and `b` look like one matter: both open and not merged, the same category,
/// on the same grid or within `NEAR_M`, taken in within `WINDOW_MS` of each other.
pub fn alike(a: &Ticket, b: &Ticket) -> bool {
    a.id != b.id
        && a.status.is_open()
        && b.status.is_open()
        && a.merged_into.is_none()
        && b.merged_into.is_none()
        && a.category == b.category
        && (a.created_ms - b.created_ms).abs() <= WINDOW_MS
        && (a.grid == b.grid || metres(a, b) <= NEAR_M)
}

/// The tickets that look like `t`'s matter, earliest first, at most `n`.
pub fn candidates<'a>(
    t: &Ticket,
    all: impl Iterator<Item = &'a Ticket>,
    n: usize,
) -> Vec<&'a Ticket> {
    let mut v: Vec<&Ticket> = all.filter(|o| alike(t, o)).collect();
    v.sort_by_key(|o| (o.created_ms, o.id));
    v.truncate(n);
    v
}

/// Which of two alike tickets is the master (the earlier report) and which the duplicate.
pub fn master_of<'a>(a: &'a Ticket, b: &'a Ticket) -> (&'a Ticket, &'a Ticket) {
    if (a.created_ms, a.id) <= (b.created_ms, b.id) {
        (a, b)
    } else {
        (b, a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{Category, Channel, TicketStatus, examples};

    fn at(id: u64, channel: Channel, lon: f64, created_ms: i64) -> Ticket {
        let mut t = examples::ticket();
        t.id = id;
        t.channel = channel;
        t.lon = lon;
        t.created_ms = created_ms;
        t.status = TicketStatus::Received;
        t
    }

    #[test]
    fn one_matter_through_three_channels_is_suggested_and_others_are_not() {
        let h = 3_600_000;
        let a = at(1, Channel::Hotline12345, 119.430, 10 * h);
        let b = at(2, Channel::Police110, 119.431, 10 * h + 600_000); // ~95 m away
        let mut c = at(3, Channel::GridApp, 119.430, 11 * h);
        c.grid = "321102-01-003-08".into(); // another grid, same spot
        let late = at(4, Channel::Wechat, 119.430, 13 * h); // 3 h later
        let mut far = at(5, Channel::Wechat, 119.440, 10 * h); // ~940 m, another grid
        far.grid = "321102-01-004-01".into();
        let mut other = at(6, Channel::Wechat, 119.430, 10 * h);
        other.category = Category::Environment;
        let mut merged = at(7, Channel::Wechat, 119.430, 10 * h);
        merged.merged_into = Some(1);
        let all = [&a, &b, &c, &late, &far, &other, &merged];
        let ids: Vec<u64> = candidates(&a, all.into_iter(), 5)
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, [2, 3]);
        assert_eq!(
            master_of(&c, &a).0.id,
            1,
            "the earlier report is the master"
        );
    }
}
