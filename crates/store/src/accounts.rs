//! Accounts: one credential per person or screen, in the gateway's own database, with a
//! role, a region scope and (for a unit's credential) its unit; the token only as an
//! argon2id hash. And the access log: logins, refusals, additions, rotations and
//! revocations. `yiping account …` writes them directly (`AccountBook`; SQLite lets it
//! while the gateway runs); the gateway notices the change within a second.

use domain::access::Role;

/// One credential.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    /// Stable and public: it is the first part of the token, and named in logs.
    pub id: String,
    /// Who or what: written in the audit trail of everything it does.
    pub name: String,
    pub role: Role,
    /// A grid-id prefix; "" is the whole city.
    pub region: String,
    /// The unit a `unit` credential acts for.
    pub unit: Option<String>,
    /// argon2id, PHC string.
    pub token_hash: String,
    pub created_ms: i64,
    pub revoked_ms: Option<i64>,
}

/// One line of the access log.
#[derive(Clone, Debug, PartialEq)]
pub struct AccessEntry {
    pub at_ms: i64,
    /// The account id, or the name a refused token claimed to be ("?" when none).
    pub account: String,
    /// `login`, `refused`, `added`, `rotated`, `revoked`, `logout`.
    pub event: String,
    pub detail: String,
}

/// An access-log line. Every field is cut to a bounded length (in characters): a line
/// is written for refusals too, so what a stranger sends must not size it.
pub fn entry(at_ms: i64, account: &str, event: &str, detail: &str) -> AccessEntry {
    let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    AccessEntry {
        at_ms,
        account: cut(account, MAX_ACCOUNT_CHARS),
        event: cut(event, 32),
        detail: cut(detail, MAX_DETAIL_CHARS),
    }
}

/// The longest account id (and claimed id) an access-log line carries.
pub const MAX_ACCOUNT_CHARS: usize = 32;
/// The longest detail an access-log line carries.
pub const MAX_DETAIL_CHARS: usize = 300;
