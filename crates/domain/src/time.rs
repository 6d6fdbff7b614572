//! Civil time, in one place: every domain time is ms since the Unix epoch, and every day,
//! hour and clock face a person reads is Asia/Shanghai (UTC+8 all year: China has kept no
//! daylight saving since 1991, so a fixed offset is exact and needs no zone database).

pub const SECOND_MS: i64 = 1000;
pub const HOUR_MS: i64 = 3_600_000;
pub const DAY_MS: i64 = 86_400_000;
/// Asia/Shanghai's offset from UTC.
pub const TZ_MS: i64 = 8 * HOUR_MS;

/// A clock that runs `speed` times as fast as the wall clock from `origin_ms` on (both
/// in ms since the epoch): set once per process, by `yiping-bench year` and the gateway
/// it starts, so that a simulated year passes through the real gateway in minutes.
static FAST: std::sync::OnceLock<(i64, f64)> = std::sync::OnceLock::new();

/// Run this process's domain clock (`now_ms`) `speed` times as fast from `origin_ms`.
/// Once per process; a second call is refused. Gateway stamps (`now_us`) stay real.
pub fn run_fast(origin_ms: i64, speed: f64) -> Result<(), String> {
    if !(speed.is_finite() && speed >= 1.0) {
        return Err(format!("a clock speed is 1 or more, not {speed}"));
    }
    FAST.set((origin_ms, speed))
        .map_err(|_| "the clock's speed is already set".to_string())
}

/// Milliseconds since the Unix epoch: the unit of every domain time. The wall clock,
/// unless `run_fast` was called.
pub fn now_ms() -> i64 {
    let real = now_us() / 1000;
    match FAST.get() {
        Some(&(origin, speed)) => origin + ((real - origin) as f64 * speed) as i64,
        None => real,
    }
}

/// Wall-clock microseconds since the Unix epoch: the unit of gateway stamps.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// The local day a time falls on, as days since the epoch.
pub fn local_day(ms: i64) -> i64 {
    (ms + TZ_MS).div_euclid(DAY_MS)
}

/// The local hour a time falls in, as hours since the epoch.
/// When local day `day` (of `local_day`) starts, ms since the epoch.
pub fn day_start(day: i64) -> i64 {
    day * DAY_MS - TZ_MS
}

/// Local day `day` as `2026-11-23`.
pub fn day_date(day: i64) -> String {
    civil(day_start(day)).date()
}

pub fn local_hour(ms: i64) -> i64 {
    (ms + TZ_MS).div_euclid(HOUR_MS)
}

/// The hour of the local day, 0-23.
pub fn hour_of_day(ms: i64) -> usize {
    local_hour(ms).rem_euclid(24) as usize
}

/// A local date and time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Civil {
    /// `2026-11-23`
    pub fn date(&self) -> String {
        format!("{}-{:02}-{:02}", self.year, self.month, self.day)
    }
    /// `10:30`
    pub fn hhmm(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }
    /// `10:30:05`
    pub fn hhmmss(&self) -> String {
        format!("{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }
}

/// The local civil time of a Unix ms.
pub fn civil(ms: i64) -> Civil {
    let s = (ms + TZ_MS).div_euclid(SECOND_MS);
    let days = s.div_euclid(86_400);
    let secs = s.rem_euclid(86_400);
    // Days to civil date (proleptic Gregorian), after H. Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    Civil {
        year: yoe + era * 400 + (month <= 2) as i64,
        month,
        day,
        hour: (secs / 3600) as u32,
        minute: (secs / 60 % 60) as u32,
        second: (secs % 60) as u32,
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The Unix ms of a local civil time, or `None` for a date or time that does not exist.
pub fn from_civil(c: Civil) -> Option<i64> {
    let days_in = |y: i64, m: u32| match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    };
    if !(1..=12).contains(&c.month)
        || c.day == 0
        || c.day > days_in(c.year, c.month)
        || c.hour > 23
        || c.minute > 59
        || c.second > 59
    {
        return None;
    }
    let secs = days_from_civil(c.year, c.month as i64, c.day as i64) * 86_400
        + c.hour as i64 * 3600
        + c.minute as i64 * 60
        + c.second as i64;
    Some(secs * SECOND_MS - TZ_MS)
}

/// `2026-11-23 10:30[:00]` (or with a `T`), local time.
pub fn parse_civil(s: &str) -> Option<i64> {
    let (date, time) = s.trim().split_once([' ', 'T'])?;
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let t: Vec<u32> = time
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if d.len() != 3 || !(2..=3).contains(&t.len()) {
        return None;
    }
    // In range before any arithmetic: a year of 10^18 would overflow the day count.
    let plausible = (1900..=9999).contains(&d[0])
        && (1..=12).contains(&d[1])
        && (1..=31).contains(&d[2])
        && t[0] < 24
        && t[1] < 60
        && t.get(2).is_none_or(|s| *s < 61);
    if !plausible {
        return None;
    }
    from_civil(Civil {
        year: d[0],
        month: u32::try_from(d[1]).ok()?,
        day: u32::try_from(d[2]).ok()?,
        hour: t[0],
        minute: t[1],
        second: t.get(2).copied().unwrap_or(0),
    })
}

/// ISO 8601 with the zone, in the center's civil time: `2026-12-01T20:53:39+08:00` (what
/// Open311, CAP and Atom carry).
pub fn iso(ms: i64) -> String {
    let c = civil(ms);
    format!("{}T{}+08:00", c.date(), c.hhmmss())
}

/// An ISO 8601 date and time with its zone (`2010-01-01T00:00:00Z`, `…+08:00`, `…-05:00`),
/// or without one (the center's civil time).
pub fn parse_iso(s: &str) -> Option<i64> {
    let s = s.trim();
    let (body, offset_ms) = if let Some(b) = s.strip_suffix('Z') {
        (b, 0)
    } else if let Some(z) = s.get(19..).filter(|z| z.starts_with(['+', '-'])) {
        // `get`, never `[19..]`: byte 19 of what a stranger sends may fall inside a
        // character (`…08:00:0中+08:00` dropped the connection with a panic).
        let b = s.get(..19)?;
        let sign = if z.starts_with('-') { -1 } else { 1 };
        let hm: Vec<i64> = z
            .get(1..)?
            .split(':')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        if hm.is_empty() || hm.len() > 2 || hm[0] > 14 || hm.get(1).is_some_and(|m| *m > 59) {
            return None;
        }
        (
            b,
            sign * (hm.first()? * HOUR_MS + hm.get(1).unwrap_or(&0) * 60_000),
        )
    } else {
        (s, TZ_MS)
    };
    // parse_civil reads the center's civil time: shift to the offset given.
    Some(parse_civil(body)? + TZ_MS - offset_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times_carry_the_zone_and_read_back_from_any_zone() {
        let ms = 1_767_225_600_000; // 2026-01-01T08:00:00+08:00
        assert_eq!(iso(ms), "2026-01-01T08:00:00+08:00");
        assert_eq!(parse_iso("2026-01-01T00:00:00Z"), Some(ms));
        assert_eq!(parse_iso("2026-01-01T08:00:00+08:00"), Some(ms));
        assert_eq!(parse_iso("2025-12-31T19:00:00-05:00"), Some(ms));
        assert_eq!(parse_iso("2026-01-01T08:00:00"), Some(ms));
        assert_eq!(parse_iso("nonsense"), None);
        // Input from outside: no character boundary, no range, no panic.
        for bad in [
            "2026-01-01T08:00:0中+08:00",
            "2026-01-01T08:00:00+中",
            "中中中中中中中中中中中中中中中中中中中中",
            "2026-01-01T08:00:00+99:00",
            "999999999999999999-01-01T08:00:00Z",
            "2026-13-01T08:00:00Z",
            "2026-01-01T08:00:00+",
        ] {
            assert_eq!(parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn civil_time_is_utc_plus_eight() {
        // 2026-11-22 07:26:15 UTC
        let c = civil(1_795_332_375_000);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second),
            (2026, 11, 22, 15, 26, 15)
        );
        assert_eq!(civil(0).hhmmss(), "08:00:00");
        assert_eq!(civil(0).date(), "1970-01-01");
        // Local midnight is 16:00 UTC the day before.
        assert_eq!(hour_of_day(16 * HOUR_MS), 0);
        assert_eq!(local_day(16 * HOUR_MS - 1), 0);
        assert_eq!(local_day(16 * HOUR_MS), 1);
    }

    #[test]
    fn parsing_inverts_printing_and_refuses_dates_that_do_not_exist() {
        assert_eq!(parse_civil("2026-11-23 00:00"), Some(1_795_363_200_000));
        assert_eq!(
            parse_civil("2026-11-23T08:00:30"),
            Some(1_795_363_200_000 + 8 * HOUR_MS + 30_000)
        );
        for ms in [0, 1_795_332_375_000, 951_782_400_000 /* 2000-02-29 */] {
            let c = civil(ms);
            assert_eq!(from_civil(c), Some(ms - ms.rem_euclid(1000)));
        }
        for bad in [
            "2026-13-01 10:00",
            "2026-02-29 10:00",
            "2026-11-23 24:00",
            "x",
        ] {
            assert_eq!(parse_civil(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_wire_examples_day_is_the_local_day_of_its_ticket() {
        let t = protocol::examples::ticket();
        assert_eq!(local_day(t.created_ms), protocol::examples::EXAMPLE_DAY);
    }
}
