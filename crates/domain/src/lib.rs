//! The rules of the domain (shared/DOMAIN.md), over the wire's records and with no I/O:
//! the ticket and warning lifecycles, the one way an event changes the live state, the
//! figures kept up incrementally, deadlines, SLA defaults, which units answer for a
//! ticket, civil time and the names a person reads. The store, the feed's mirror, the
//! replay writer and the simulator all use these; this module uses only `protocol`.

pub mod access;
mod change;
pub mod deadline;
pub mod decide;
pub mod duplicates;
pub mod duty;
pub mod field;
pub mod kpi;
pub mod lifecycle;
pub mod past;
mod refusal;
pub mod rules;
pub mod services;
pub mod sla;
pub mod state;
pub mod text;
pub mod time;
pub mod units;
pub mod workflow;

pub use deadline::Deadlines;
pub use refusal::Refusal;
pub use state::{Change, State, apply};
