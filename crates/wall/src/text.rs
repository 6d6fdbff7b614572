//! Interface language and the formatting of times and durations. Chinese first.

use bevy::prelude::Resource;

use super::config::Lang;
use domain::time::civil;
use protocol::{AuditAction, Category, Channel, Priority, TicketStatus};

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
pub fn action(lang: UiLang, a: AuditAction) -> &'static str {
    lang.t(a.zh(), a.as_str())
}

/// `HH:MM` local time.
pub fn hhmm(ms: i64) -> String {
    civil(ms).hhmm()
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
    fn countdowns_show_sign_and_hours() {
        assert_eq!(countdown(3_723_000), "1:02:03");
        assert_eq!(countdown(-65_000), "-01:05");
    }
}
