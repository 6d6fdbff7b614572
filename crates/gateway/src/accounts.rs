//! Credentials as the gateway sees them: the accounts of its database (tokens stored as
//! argon2id hashes) and the static tokens of gateway.toml (for local use and the demo).
//! A token is `yp1.<account id>.<secret>`: the id finds the one hash to check. A token
//! checked once is remembered in memory (never on disk) until the accounts change, so a
//! wall that reconnects does not pay the hash again.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use super::config::TokenConfig;
use domain::access::Access;
use store::accounts::Account;

/// Who a token is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    /// The account id (or, for a static token, `static:<name>`): idempotency keys and
    /// the access log name it.
    pub id: String,
    /// Written in the audit trail.
    pub name: String,
    pub access: Access,
}

impl Credential {
    /// A command from this credential, as the store takes it.
    pub fn request(&self, key: String, command: protocol::Command) -> store::Request {
        store::Request {
            actor: self.name.clone(),
            credential: self.id.clone(),
            access: self.access.clone(),
            key,
            command,
        }
    }
}

/// A new account token: `yp1.<id>.<32 hex>`, 128 bits of secret.
pub fn new_token(id: &str) -> String {
    format!(
        "yp1.{id}.{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

/// A new account id: 12 hex.
pub fn new_id() -> String {
    format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)
}

/// The argon2id hash of a token (PHC string, with its own salt).
pub fn hash_token(token: &str) -> Result<String, String> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(token.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

fn verify(token: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(token.as_bytes(), &h)
            .is_ok()
    })
}

/// The longest token taken: an account token is 49 characters (`yp1.` + 12 + `.` + 32); a
/// static one from the config may be longer, not this long. A longer one is refused
/// before any work, and names no account in the access log.
pub const MAX_TOKEN_CHARS: usize = 256;

/// The account id a token names, if it is an account token of a plausible size.
fn account_of(token: &str) -> Option<&str> {
    if token.len() > MAX_TOKEN_CHARS {
        return None;
    }
    let mut parts = token.splitn(3, '.');
    (parts.next()? == "yp1").then_some(())?;
    let id = parts.next()?;
    parts.next()?;
    (id.len() <= 32).then_some(id)
}

/// Argon2 checks run at once, at most: one. An account id is public by design (in every
/// wall's config), so anyone can ask for checks of wrong secrets; 200 at once held 1.4-2.6
/// GB (a hash's memory each) and slowed honest intake 19-26x (issue 26). One at a time
/// costs one core and one hash's memory whatever the burst; a token already checked
/// costs nothing.
const HASHES_AT_ONCE: usize = 1;
/// Checks waiting for their turn, at most; past that a new token is refused at once (its
/// client retries with back-off, as after any refusal).
const HASHES_WAITING: usize = 64;

/// Every credential the gateway knows, shared by its connections and its core.
pub struct Directory {
    statics: Vec<TokenConfig>,
    accounts: RwLock<HashMap<String, Account>>,
    /// Tokens already checked against their hash: token → account id.
    checked: Mutex<HashMap<String, String>>,
    /// Turns at argon2 (`HASHES_AT_ONCE`), and how many wait for one.
    hashing: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    /// The most checks that ran at once, and how many run now (what the tests check).
    peak: std::sync::atomic::AtomicUsize,
    running: std::sync::atomic::AtomicUsize,
}

impl Directory {
    pub fn new(statics: Vec<TokenConfig>) -> Arc<Directory> {
        Arc::new(Directory {
            statics,
            accounts: RwLock::new(HashMap::new()),
            checked: Mutex::new(HashMap::new()),
            hashing: tokio::sync::Semaphore::new(HASHES_AT_ONCE),
            waiting: Default::default(),
            peak: Default::default(),
            running: Default::default(),
        })
    }

    /// Whether `token` was checked already (as account `id`'s).
    fn is_checked(&self, token: &str, id: &str) -> bool {
        self.checked
            .lock()
            .ok()
            .is_some_and(|c| c.get(token).is_some_and(|a| a == id))
    }

    /// The most argon2 checks that ran at once so far.
    pub fn peak_hashing(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Check `token` against `hash` in argon2's turn: one at a time, at most
    /// `HASHES_WAITING` waiting (false at once past that).
    async fn verify_in_turn(&self, token: &str, id: &str, hash: &str) -> bool {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= HASHES_WAITING {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            tracing::warn!("accounts: {HASHES_WAITING} token checks waiting; one refused");
            return false;
        }
        let turn = self.hashing.acquire().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let Ok(_turn) = turn else {
            return false;
        };
        // The same token may have been checked while this one waited (a wall's
        // reconnects, several screens on one credential): no second hash.
        if self.is_checked(token, id) {
            return true;
        }
        let now = self.running.fetch_add(1, Ordering::AcqRel) + 1;
        self.peak.fetch_max(now, Ordering::AcqRel);
        let (t, h) = (token.to_string(), hash.to_string());
        let ok = tokio::task::spawn_blocking(move || verify(&t, &h))
            .await
            .unwrap_or(false);
        self.running.fetch_sub(1, Ordering::AcqRel);
        ok
    }

    /// Take the accounts as they are now; returns the ids of the accounts whose sessions
    /// must end (revoked, rotated or removed since the last time).
    pub fn replace(&self, accounts: Vec<Account>) -> Vec<String> {
        let new: HashMap<String, Account> =
            accounts.into_iter().map(|a| (a.id.clone(), a)).collect();
        let mut ended = vec![];
        if let Ok(mut old) = self.accounts.write() {
            for (id, a) in old.iter() {
                let still = new
                    .get(id)
                    .is_some_and(|n| n.revoked_ms.is_none() && n.token_hash == a.token_hash);
                if !still && a.revoked_ms.is_none() {
                    ended.push(id.clone());
                }
            }
            *old = new;
        }
        if let Ok(mut c) = self.checked.lock() {
            c.clear();
        }
        ended
    }

    /// Is the account `id` still valid (not revoked, not removed)?
    pub fn is_valid(&self, id: &str) -> bool {
        if id.starts_with("static:") {
            return true;
        }
        self.accounts
            .read()
            .is_ok_and(|a| a.get(id).is_some_and(|a| a.revoked_ms.is_none()))
    }

    /// Who `token` is, if anyone. An account token costs one argon2 check the first time
    /// (on a blocking thread), nothing after.
    pub async fn authenticate(self: &Arc<Self>, token: &str) -> Option<Credential> {
        if token.len() > MAX_TOKEN_CHARS {
            return None;
        }
        if let Some(t) = self.statics.iter().find(|t| t.token == token) {
            return Some(Credential {
                id: format!("static:{}", t.name),
                name: t.name.clone(),
                access: Access {
                    role: t.role,
                    region: t.region.clone(),
                    unit: t.unit.clone(),
                },
            });
        }
        let id = account_of(token)?;
        let account = self.accounts.read().ok()?.get(id).cloned()?;
        if account.revoked_ms.is_some() {
            return None;
        }
        if !self.is_checked(token, id) {
            if !self.verify_in_turn(token, id, &account.token_hash).await {
                return None;
            }
            if let Ok(mut c) = self.checked.lock() {
                // Bounded: a directory of thousands of screens, not of every token tried.
                if c.len() >= 10_000 {
                    c.clear();
                }
                c.insert(token.to_string(), id.to_string());
            }
        }
        Some(Credential {
            id: account.id.clone(),
            name: account.name.clone(),
            access: Access {
                role: account.role,
                region: account.region.clone(),
                unit: account.unit.clone(),
            },
        })
    }

    /// The account id a token claims, for the access log of a refusal.
    pub fn claimed(token: &str) -> String {
        account_of(token).unwrap_or("?").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::access::Role;

    fn account(id: &str, token: &str) -> Account {
        Account {
            id: id.into(),
            name: format!("n-{id}"),
            role: Role::Operator,
            region: "321102-01".into(),
            unit: None,
            token_hash: hash_token(token).unwrap(),
            created_ms: 0,
            revoked_ms: None,
        }
    }

    #[tokio::test]
    async fn a_token_is_checked_against_its_hash_and_revocation_ends_it() {
        let d = Directory::new(vec![]);
        let t = new_token("a1");
        assert_eq!(d.replace(vec![account("a1", &t)]), Vec::<String>::new());
        let c = d.authenticate(&t).await.expect("the right token");
        assert_eq!(
            (c.id.as_str(), c.access.region.as_str()),
            ("a1", "321102-01")
        );
        assert!(
            d.authenticate(&format!("{t}0")).await.is_none(),
            "a wrong secret"
        );
        assert!(
            d.authenticate("yp1.zz.123").await.is_none(),
            "an unknown account"
        );
        assert!(
            !account("a1", &t).token_hash.contains(&t[8..]),
            "no token in the hash"
        );
        let mut revoked = account("a1", &t);
        revoked.revoked_ms = Some(1);
        assert_eq!(d.replace(vec![revoked]), vec!["a1".to_string()]);
        assert!(d.authenticate(&t).await.is_none());
        assert!(!d.is_valid("a1"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_wrong_secrets_is_checked_one_at_a_time() {
        let d = Directory::new(vec![]);
        let t = new_token("a1");
        d.replace(vec![account("a1", &t)]);
        let wrong: Vec<_> = (0..12)
            .map(|i| {
                let d = d.clone();
                let w = new_token("a1");
                tokio::spawn(async move { (i, d.authenticate(&w).await.is_none()) })
            })
            .collect();
        for w in wrong {
            assert!(w.await.unwrap().1, "a wrong secret is refused");
        }
        assert_eq!(d.peak_hashing(), 1, "one argon2 check at a time");
        assert!(
            d.authenticate(&t).await.is_some(),
            "the right token still works"
        );
    }

    #[tokio::test]
    async fn an_oversized_token_is_refused_before_any_work_and_logged_as_no_one() {
        let d = Directory::new(vec![]);
        let t = new_token("a1");
        d.replace(vec![account("a1", &t)]);
        let huge = format!("yp1.{}.{}", "a".repeat(900_000), "0".repeat(32));
        assert!(d.authenticate(&huge).await.is_none());
        assert_eq!(Directory::claimed(&huge), "?");
        assert_eq!(d.peak_hashing(), 0, "no hash was computed");
        assert_eq!(Directory::claimed(&t), "a1");
    }
}
