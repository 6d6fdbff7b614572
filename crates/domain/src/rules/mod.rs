//! The gateway's automatic rules: each is a function from the live state and the time to
//! the commands it issues as the gateway's own actor (`protocol::AUTO_SUPERVISOR`), each
//! with an idempotency key that makes issuing it twice harmless. The gateway's core runs
//! them on its beat and applies their commands like anyone's: decided, audited, fanned
//! out. A new rule (a warning kind the gateway raises, say) is a file here.

pub mod supervise;

use protocol::Command;

/// A command a rule issues, under the key that makes it once-only.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleCommand {
    pub key: String,
    pub command: Command,
}
