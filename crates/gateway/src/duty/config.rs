//! `[duty]` in the gateway's config: when escalations open and climb, where their
//! messages go (WeCom and DingTalk robots, a JSON webhook, an SMS gateway by template),
//! the acknowledgement links, and the scheduled reports.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use super::template::Template;

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DutyConfig {
    /// A red (orange) warning not acknowledged after this many minutes opens an
    /// escalation; 0: never.
    pub red_minutes: f64,
    pub orange_minutes: f64,
    /// An urgent ticket not accepted by its stage deadline; a ticket supervised twice.
    pub urgent_not_accepted: bool,
    pub supervised_twice: bool,
    /// Minutes between rounds while nobody acknowledges (值班员, then 值班长, then 值班领导,
    /// then the leader again).
    pub repeat_minutes: f64,
    /// This gateway's address as people's phones reach it (`https://yiping.example.gov.cn`):
    /// messages carry an acknowledgement link under it. Empty: no link.
    pub public_url: String,
    /// The key that signs acknowledgement links (16 characters or more). Empty: a new
    /// one each start (links from before a restart stop working).
    pub ack_secret: String,
    /// Tries per message (the first and the retries), and the first retry's wait in ms
    /// (doubled each time).
    pub tries: u32,
    pub retry_ms: u64,
    pub channels: Vec<ChannelConfig>,
    pub reports: ReportsConfig,
}

impl Default for DutyConfig {
    fn default() -> Self {
        DutyConfig {
            red_minutes: 10.0,
            orange_minutes: 30.0,
            urgent_not_accepted: true,
            supervised_twice: true,
            repeat_minutes: 10.0,
            public_url: String::new(),
            ack_secret: String::new(),
            tries: 4,
            retry_ms: 2_000,
            channels: Vec::new(),
            reports: ReportsConfig::default(),
        }
    }
}

/// A notification channel.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// Its name in the audit trail and on the wall (`wecom`, `sms-telecom`, …).
    pub name: String,
    pub kind: ChannelKind,
    /// The robot's webhook address (with its key), the webhook's, or the SMS gateway's.
    pub url: String,
    /// DingTalk: the robot's signing secret (加签, `SEC…`); empty when the robot checks
    /// keywords instead.
    #[serde(default)]
    pub secret: String,
    /// SMS: the request's body, with `{phone}`, `{name}`, `{text}`, `{link}`, `{id}`
    /// put in (escaped for `content_type`).
    #[serde(default)]
    pub body: String,
    /// SMS: `application/json` (default) or `application/x-www-form-urlencoded`.
    #[serde(default = "json_type")]
    pub content_type: String,
    /// Extra request headers (an SMS gateway's key).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Seconds a request may take.
    #[serde(default = "ten")]
    pub timeout_s: u64,
}

fn json_type() -> String {
    "application/json".into()
}
fn ten() -> u64 {
    10
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// 企业微信 group robot: `{"msgtype":"text",…,"mentioned_mobile_list":[…]}`.
    Wecom,
    /// 钉钉 robot, signed (`timestamp` and `sign` on the URL) when it has a secret.
    Dingtalk,
    /// A JSON POST of the escalation, the people told and their links.
    Webhook,
    /// An HTTP SMS gateway: one request a person, from `body`.
    Sms,
}

/// Reports written on a schedule into `folder`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsConfig {
    /// Where scheduled reports go (`<folder>/daily-2026-12-07.pdf` and `.html`); none:
    /// not scheduled (still made on demand).
    pub folder: Option<PathBuf>,
    /// Local time the day before's daily report is made (`HH:MM`); on Mondays the week
    /// before's weekly report too.
    pub at: String,
    /// The title's center name (镇江市社会治理现代化指挥中心).
    pub center: String,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig {
            folder: None,
            at: "07:30".into(),
            center: "社会治理现代化指挥中心".into(),
        }
    }
}

impl DutyConfig {
    /// The rules the engine's round uses.
    pub fn rules(&self) -> domain::duty::round::Rules {
        let on = |m: f64| (m > 0.0).then_some(m);
        domain::duty::round::Rules {
            red_minutes: on(self.red_minutes),
            orange_minutes: on(self.orange_minutes),
            urgent_not_accepted: self.urgent_not_accepted,
            supervised_twice: self.supervised_twice,
            repeat_minutes: self.repeat_minutes,
        }
    }

    /// Every setting checked, with what to fix.
    pub fn check(&self) -> Result<(), String> {
        for (what, v) in [
            ("red_minutes", self.red_minutes),
            ("orange_minutes", self.orange_minutes),
        ] {
            if !(0.0..=10_080.0).contains(&v) {
                return Err(format!("[duty] {what} must be 0 (never) to 10080 (a week)"));
            }
        }
        if !(0.01..=1_440.0).contains(&self.repeat_minutes) {
            return Err("[duty] repeat_minutes must be 0.01 to 1440".into());
        }
        if !(1..=10).contains(&self.tries) || self.retry_ms > 600_000 {
            return Err("[duty] tries must be 1 to 10, retry_ms at most 600000".into());
        }
        if !self.ack_secret.is_empty() && self.ack_secret.len() < 16 {
            return Err("[duty] ack_secret must be 16 characters or more (or left out)".into());
        }
        let u = &self.public_url;
        if !(u.is_empty() || u.starts_with("https://") || u.starts_with("http://")) {
            return Err(format!(
                "[duty] public_url {:?} must start with https:// (or http://)",
                self.public_url
            ));
        }
        if parse_hhmm(&self.reports.at).is_none() {
            return Err(format!(
                "[duty.reports] at = {:?}: write the time as HH:MM (07:30)",
                self.reports.at
            ));
        }
        let mut names = std::collections::HashSet::new();
        for (i, c) in self.channels.iter().enumerate() {
            let at = format!("[[duty.channels]] number {} (name = {:?})", i + 1, c.name);
            if c.name.trim().is_empty() || !names.insert(c.name.as_str()) {
                return Err(format!("{at}: each channel needs a name of its own"));
            }
            if !(c.url.starts_with("https://") || c.url.starts_with("http://")) {
                return Err(format!("{at}: url {:?} must start with https://", c.url));
            }
            if c.kind == ChannelKind::Sms {
                Template::parse(&c.body, &c.content_type)
                    .map_err(|e| format!("{at}: body: {e}"))?;
            } else if !c.body.is_empty() {
                return Err(format!(
                    "{at}: body is an SMS gateway's template; a {:?} channel has its own format",
                    c.kind
                ));
            }
            if !(1..=120).contains(&c.timeout_s) {
                return Err(format!("{at}: timeout_s must be 1 to 120"));
            }
        }
        Ok(())
    }
}

/// `07:30` → minutes after midnight.
pub fn parse_hhmm(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && s.len() == 5).then_some(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use crate::config::GatewayConfig;

    fn parse(duty: &str) -> Result<GatewayConfig, String> {
        GatewayConfig::parse(&format!("[duty]\n{duty}"), "t").map_err(|e| e.to_string())
    }

    #[test]
    fn a_bad_channel_or_template_is_refused_with_what_to_fix() {
        let sms = |body: &str| {
            format!(
                "[[duty.channels]]\nname = \"sms\"\nkind = \"sms\"\nurl = \"https://s.example/send\"\nbody = '{body}'\n"
            )
        };
        assert!(parse(&sms(r#"{"m":"{phone}","t":"{text}"}"#)).is_ok());
        let e = parse(&sms(r#"{"m":"{mobile}","t":"{text}"}"#)).unwrap_err();
        assert!(
            e.contains("number 1 (name = \"sms\")")
                && e.contains("{mobile}")
                && e.contains("{phone}"),
            "{e}"
        );
        let e = parse(&sms(r#"{"t":"{text}"}"#)).unwrap_err();
        assert!(e.contains("{phone}"), "{e}");
        let e = parse("[[duty.channels]]\nname = \"w\"\nkind = \"wecom\"\nurl = \"ftp://x\"\n")
            .unwrap_err();
        assert!(e.contains("https://"), "{e}");
        let e = parse("[[duty.channels]]\nname = \"w\"\nkind = \"pager\"\nurl = \"https://x\"\n")
            .unwrap_err();
        assert!(e.contains("pager"), "{e}");
        let e = parse("repeat_minutes = 0\n").unwrap_err();
        assert!(e.contains("repeat_minutes"), "{e}");
        let e = parse("ack_secret = \"short\"\n").unwrap_err();
        assert!(e.contains("16 characters"), "{e}");
        let e = parse("[duty.reports]\nat = \"7:30\"\n").unwrap_err();
        assert!(e.contains("HH:MM"), "{e}");
    }
}
