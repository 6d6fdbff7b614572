//! Interface language and the formatting of times and durations. Chinese first.

use bevy::prelude::Resource;

use super::config::Lang;
use crate::protocol::{Category, Channel, Priority, TicketStatus};

#[derive(Resource, Clone, Copy, Debug, Default)]
pub struct UiLang(pub Lang);

impl UiLang {
    /// Pick the string for the interface language.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.0 {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
    pub fn channel(&self, c: Channel) -> &'static str {
        self.t(c.zh(), c.en())
    }
    pub fn category(&self, c: Category) -> &'static str {
        self.t(c.zh(), c.en())
    }
    pub fn priority(&self, p: Priority) -> &'static str {
        self.t(p.zh(), p.en())
    }
    pub fn status(&self, s: TicketStatus) -> &'static str {
        self.t(s.zh(), s.en())
    }
}

/// An audit action's name in the interface language.
pub fn action(lang: UiLang, a: &str) -> &str {
    let zh = match a {
        "intake" => "受理",
        "dispatch" => "分拨",
        "accept" => "签收",
        "start" => "处置",
        "return" => "退回",
        "escalate" => "上报",
        "supervise" => "督办",
        "resolve" => "办结",
        "rate" => "回访",
        "close" => "归档",
        _ => a,
    };
    lang.t(zh, a)
}

/// Beijing civil time (UTC+8) of a Unix ms: (year, month, day, hour, minute, second).
pub fn beijing(ms: i64) -> (i64, u32, u32, u32, u32, u32) {
    let s = ms.div_euclid(1000) + 8 * 3600;
    let days = s.div_euclid(86_400);
    let secs = s.rem_euclid(86_400);
    // Days to civil date (proleptic Gregorian), after H. Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + (m <= 2) as i64;
    (
        y,
        m,
        d,
        (secs / 3600) as u32,
        (secs / 60 % 60) as u32,
        (secs % 60) as u32,
    )
}

/// `HH:MM` Beijing time.
pub fn hhmm(ms: i64) -> String {
    let (_, _, _, h, m, _) = beijing(ms);
    format!("{h:02}:{m:02}")
}

/// A signed duration as `1:02:03` / `12:03` (negative: overdue).
pub fn countdown(ms: i64) -> String {
    let s = ms.abs() / 1000;
    let (h, m, sec) = (s / 3600, s / 60 % 60, s % 60);
    let body = if h > 0 {
        format!("{h}:{m:02}:{sec:02}")
    } else {
        format!("{m:02}:{sec:02}")
    };
    if ms < 0 { format!("-{body}") } else { body }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_time_is_utc_plus_eight() {
        // 2026-11-22 07:26:15 UTC
        assert_eq!(beijing(1_795_332_375_000), (2026, 11, 22, 15, 26, 15));
        assert_eq!(beijing(0), (1970, 1, 1, 8, 0, 0));
    }

    #[test]
    fn countdowns_show_sign_and_hours() {
        assert_eq!(countdown(3_723_000), "1:02:03");
        assert_eq!(countdown(-65_000), "-01:05");
    }
}
