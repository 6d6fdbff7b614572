//! The duty room on the gateway (值班): its config, the notifier that carries escalations
//! to people (WeCom, DingTalk, webhook, SMS), acknowledgement links, and rosters read
//! from CSV. The rules themselves are the domain's (`domain::duty`); the engine's round
//! runs on the core (`engine/duty.rs`).

pub mod channels;
pub mod config;
pub mod link;
pub mod notify;
pub mod roster_csv;
pub mod template;

pub use config::DutyConfig;
pub use notify::Notifier;
