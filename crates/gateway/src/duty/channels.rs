//! Sending one message on one channel: the request each kind of endpoint expects, and
//! what its answer means (a robot answers 200 with `errcode` ≠ 0 when it refuses).

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::config::{ChannelConfig, ChannelKind};
use super::template::Template;

/// One person told: their name, phone and acknowledgement link.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub person: String,
    pub name: String,
    pub phone: String,
    pub role: protocol::DutyRole,
    pub link: String,
}

/// What a round says.
#[derive(Clone, Debug)]
pub struct Message {
    pub escalation: u64,
    pub title: String,
    pub rounds: u32,
    pub to: Vec<Recipient>,
    /// To a unit about its own ticket (its phone page is not connected), not to the
    /// people on duty.
    pub unit: bool,
}

impl Message {
    /// The text of a group message: the title, the round, who is asked, their links.
    pub fn group_text(&self) -> String {
        if self.unit {
            return self
                .to
                .iter()
                .map(|r| self.sms_text(r))
                .collect::<Vec<_>>()
                .join("\n");
        }
        let mut s = format!("【一屏值班提醒】{}（第 {} 轮）", self.title, self.rounds);
        for r in &self.to {
            s += &format!("\n请{} {} 确认", r.role.zh(), r.name);
            if !r.link.is_empty() {
                s += &format!("：{}", r.link);
            }
        }
        s
    }
    /// The text of one person's SMS.
    pub fn sms_text(&self, r: &Recipient) -> String {
        if self.unit {
            let mut s = format!("【一屏】{}：{}，请尽快签收", r.name, self.title);
            if !r.link.is_empty() {
                s += &format!("（手机页 {}）", r.link);
            }
            return s;
        }
        let mut s = format!(
            "【一屏】{}（第 {} 轮），请{}{}确认",
            self.title,
            self.rounds,
            r.role.zh(),
            r.name
        );
        if !r.link.is_empty() {
            s += &format!("：{}", r.link);
        }
        s
    }
}

pub struct Channel {
    pub cfg: ChannelConfig,
    template: Option<Template>,
    agent: ureq::Agent,
}

impl Channel {
    pub fn new(cfg: ChannelConfig) -> Channel {
        let template = (cfg.kind == ChannelKind::Sms)
            .then(|| Template::parse(&cfg.body, &cfg.content_type).ok())
            .flatten();
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(cfg.timeout_s)))
            .http_status_as_error(false)
            .build()
            .into();
        Channel {
            cfg,
            template,
            agent,
        }
    }

    /// The requests a message makes on this channel: (the people it tells, url, content
    /// type, body). Group robots and webhooks: one for all; SMS: one a person.
    pub fn requests(&self, m: &Message, now_ms: i64) -> Vec<(Vec<usize>, String, String, String)> {
        let all: Vec<usize> = (0..m.to.len()).collect();
        let phones: Vec<&str> = m.to.iter().map(|r| r.phone.as_str()).collect();
        let json_ct = "application/json".to_string();
        match self.cfg.kind {
            ChannelKind::Wecom => {
                let body = json!({
                    "msgtype": "text",
                    "text": { "content": m.group_text(), "mentioned_mobile_list": phones },
                });
                vec![(all, self.cfg.url.clone(), json_ct, body.to_string())]
            }
            ChannelKind::Dingtalk => {
                let body = json!({
                    "msgtype": "text",
                    "text": { "content": m.group_text() },
                    "at": { "atMobiles": phones, "isAtAll": false },
                });
                let url = dingtalk_url(&self.cfg.url, &self.cfg.secret, now_ms);
                vec![(all, url, json_ct, body.to_string())]
            }
            ChannelKind::Webhook => {
                let to: Vec<_> = m
                    .to
                    .iter()
                    .map(|r| json!({"person": r.person, "name": r.name, "phone": r.phone, "role": r.role, "link": r.link}))
                    .collect();
                let body = json!({
                    "escalation": m.escalation, "title": m.title, "round": m.rounds,
                    "text": m.group_text(), "to": to,
                });
                vec![(all, self.cfg.url.clone(), json_ct, body.to_string())]
            }
            ChannelKind::Sms => {
                let Some(t) = &self.template else {
                    return vec![];
                };
                m.to.iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let text = m.sms_text(r);
                        let id = m.escalation.to_string();
                        let body = t.render(&|f| match f {
                            "phone" => r.phone.clone(),
                            "name" => r.name.clone(),
                            "text" => text.clone(),
                            "link" => r.link.clone(),
                            _ => id.clone(),
                        });
                        (
                            vec![i],
                            self.cfg.url.clone(),
                            self.cfg.content_type.clone(),
                            body,
                        )
                    })
                    .collect()
            }
        }
    }

    /// Send one request: `Ok` when the endpoint took it.
    pub fn send(&self, url: &str, content_type: &str, body: &str) -> Result<(), String> {
        let mut req = self.agent.post(url).header("Content-Type", content_type);
        for (k, v) in &self.cfg.headers {
            req = req.header(k, v);
        }
        let mut resp = req.send(body).map_err(|e| describe(url, e))?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(format!("HTTP {status}: {}", first_line(&text)));
        }
        // The robots answer 200 and say in the body whether they sent it.
        if matches!(self.cfg.kind, ChannelKind::Wecom | ChannelKind::Dingtalk) {
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|_| format!("answer is not the robot's JSON: {}", first_line(&text)))?;
            let code = v["errcode"].as_i64().unwrap_or(-1);
            if code != 0 {
                return Err(format!(
                    "robot refused: errcode {code} {}",
                    v["errmsg"].as_str().unwrap_or("")
                ));
            }
        }
        Ok(())
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(200).collect()
}

/// The error with the address and its cause (refused, timed out, TLS), not just "io".
fn describe(url: &str, e: ureq::Error) -> String {
    let host = url.split('/').nth(2).unwrap_or(url);
    format!("{host}: {e}")
}

/// A DingTalk robot's address, signed: `&timestamp=<ms>&sign=<base64 HMAC-SHA256 of
/// "<ms>\n<secret>" under the secret, URL-encoded>` (its 加签 security setting).
pub fn dingtalk_url(url: &str, secret: &str, now_ms: i64) -> String {
    if secret.is_empty() {
        return url.to_string();
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return url.to_string();
    };
    mac.update(format!("{now_ms}\n{secret}").as_bytes());
    let sign = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let sign: String = form_urlencoded::byte_serialize(sign.as_bytes()).collect();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}timestamp={now_ms}&sign={sign}")
}
