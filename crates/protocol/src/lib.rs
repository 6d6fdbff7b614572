//! The wire protocol between a gateway and its walls: pure types, no I/O.
//!
//! JSON text frames, one message per frame, tagged by `"type"`. PROTOCOL.md at the
//! repository root is the spec, with an example of every message. Everything here derives
//! serde so that a round trip is lossless; the tests below check every message.

mod client;
mod codes;
pub mod compact;
pub mod decode;
mod duty;
#[doc(hidden)]
pub mod duty_examples;
#[doc(hidden)]
pub mod examples;
mod field;
pub mod kpi;
mod names;
mod records;
mod server;

pub use client::{ClientMsg, Command, Hello, NewTicket, NewWarning, Resume, RewindAsk};
pub use codes::{AuditAction, ErrorCode, WarningKind};
pub use duty::{
    CHANNEL_FAILING, ChannelHealth, Duty, DutyChange, DutyFigures, DutyRole, Escalation,
    EscalationRule, Handover, HardCase, KEEP_CLOSED, Notice, Person, Roster, Shift, Subject,
};
pub use field::{
    FieldMark, LiveUnit, MAX_PHOTOS_PER_ACTION, MAX_PHOTOS_PER_TICKET, PhotoRef, PhotoSlot,
    Position, is_photo_id,
};
pub use kpi::KpiFigures;
pub use records::*;
pub use server::{CommandOutcome, Event, RecordLine, ServerMsg, Snapshot};

/// The protocol version this build speaks. A hello that names another gets an error frame
/// (`code: "version"`) and the connection is closed.
pub const PROTOCOL_VERSION: u32 = 1;

/// The actor the gateway names in the audit trail when it supervises (督办) a ticket on
/// its own; walls show these as notices.
pub const AUTO_SUPERVISOR: &str = "系统自动督办";

/// The actor the gateway names when its duty engine records a change (shifts,
/// escalations, messages).
pub const DUTY_SYSTEM: &str = "值班系统";

#[cfg(test)]
mod tests;
