//! Credentials as the gateway sees them: the accounts of its database (tokens stored as
//! argon2id hashes) and the static tokens of gateway.toml (for local use and the demo).
//! A token is `yp1.<account id>.<secret>`: the id finds the one hash to check. A token
//! checked once is remembered in memory (never on disk) until the accounts change, so a
//! wall that reconnects does not pay the hash again. Wrong tokens back off by address
//! and by account id (`backoff.rs`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

use super::backoff::{Backoff, Key};

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
            field: None,
        }
    }
}

fn of_static(t: &TokenConfig) -> Credential {
    Credential {
        id: format!("static:{}", t.name),
        name: t.name.clone(),
        access: Access {
            role: t.role,
            region: t.region.clone(),
            unit: t.unit.clone(),
        },
    }
}

fn of_account(a: &Account) -> Credential {
    Credential {
        id: a.id.clone(),
        name: a.name.clone(),
        access: Access {
            role: a.role,
            region: a.region.clone(),
            unit: a.unit.clone(),
        },
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
    // The shape of an id (`new_id`: 12 hex; imported ones letters, digits, '-' and '_'),
    // so a claimed id in the access log is never more than that.
    let shaped = !id.is_empty()
        && id.len() <= store::accounts::MAX_ACCOUNT_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    shaped.then_some(id)
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

/// Why a token was not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// No credential has it (or it is revoked, or too long to be one).
    Unknown,
    /// Too many wrong tokens from this address or for this account lately: nothing
    /// was checked; try again after this long.
    Wait(Duration),
}

impl Refused {
    /// What the client is told.
    pub fn message(&self) -> String {
        match self {
            Refused::Unknown => "unknown token".into(),
            Refused::Wait(d) => format!(
                "too many wrong tokens lately: nothing checked; try again in {} s",
                d.as_secs() + 1
            ),
        }
    }
}

fn digest(token: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).into()
}

/// Account tokens remembered as checked, at most.
const CHECKED_MAX: usize = 50_000;

/// Every credential the gateway knows, shared by its connections and its core.
pub struct Directory {
    statics: Vec<TokenConfig>,
    /// The static tokens by the SHA-256 of the token: one look-up a hello. (Checking the
    /// token against each in turn cost every hello the whole list: with 15,000 phones on
    /// static tokens connecting took 9.7 s and its backlog filled the admission gate,
    /// which closed connections; `yiping-bench units`, BENCHMARKS.md.) Comparing digests
    /// tells a timing observer nothing about the token itself.
    by_digest: HashMap<[u8; 32], usize>,
    accounts: RwLock<HashMap<String, Account>>,
    /// Tokens already checked: token → (account id, the hash it was checked against).
    /// A hit counts only while the account still has that hash, so a check that raced
    /// a rotation can never put the old token back.
    checked: Mutex<HashMap<String, (String, String)>>,
    backoff: Backoff,
    /// Turns at argon2 (`HASHES_AT_ONCE`), and how many wait for one.
    hashing: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    /// The most checks that ran at once, and how many run now (what the tests check).
    peak: std::sync::atomic::AtomicUsize,
    running: std::sync::atomic::AtomicUsize,
}

impl Directory {
    pub fn new(statics: Vec<TokenConfig>) -> Arc<Directory> {
        let by_digest = statics
            .iter()
            .enumerate()
            .map(|(i, t)| (digest(&t.token), i))
            .collect();
        Arc::new(Directory {
            statics,
            by_digest,
            accounts: RwLock::new(HashMap::new()),
            checked: Mutex::new(HashMap::new()),
            backoff: Backoff::default(),
            hashing: tokio::sync::Semaphore::new(HASHES_AT_ONCE),
            waiting: Default::default(),
            peak: Default::default(),
            running: Default::default(),
        })
    }

    /// Whether `token` was checked already against account `id`'s current `hash`.
    fn is_checked(&self, token: &str, id: &str, hash: &str) -> bool {
        self.checked
            .lock()
            .ok()
            .is_some_and(|c| c.get(token).is_some_and(|(i, h)| i == id && h == hash))
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
        if self.is_checked(token, id, hash) {
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

    /// Who `token` is, presented from address `from`. An account token costs one argon2
    /// check the first time (on a blocking thread), nothing after; wrong ones back off.
    pub async fn authenticate(
        self: &Arc<Self>,
        token: &str,
        from: IpAddr,
    ) -> Result<Credential, Refused> {
        let address = Key::Address(from);
        let fail = |account: Option<&str>| {
            let now = Instant::now();
            self.backoff.failed(address.clone(), now);
            if let Some(id) = account {
                self.backoff.failed(Key::Account(id.to_string()), now);
            }
            Err(Refused::Unknown)
        };
        if token.len() > MAX_TOKEN_CHARS {
            return fail(None);
        }
        // Known tokens never wait: a static one (loopback only) and an account token
        // already checked against its account's current hash (a wall reconnecting from
        // an address it shares with someone guessing).
        if let Some(t) = self.static_token(token) {
            return Ok(of_static(t));
        }
        let id = account_of(token);
        let account = id.and_then(|id| {
            self.accounts
                .read()
                .ok()
                .and_then(|a| a.get(id).cloned())
                .filter(|a| a.revoked_ms.is_none())
        });
        if let Some(a) = &account
            && self.is_checked(token, &a.id, &a.token_hash)
        {
            return Ok(of_account(a));
        }
        if let Some(d) = self.backoff.wait(&address, Instant::now()) {
            return Err(Refused::Wait(d));
        }
        let (Some(id), Some(account)) = (id, account) else {
            return fail(None);
        };
        let key = Key::Account(id.to_string());
        if let Some(d) = self.backoff.wait(&key, Instant::now()) {
            return Err(Refused::Wait(d));
        }
        if !self.verify_in_turn(token, id, &account.token_hash).await {
            return fail(Some(id));
        }
        self.backoff.succeeded(&key);
        self.backoff.succeeded(&address);
        if let Ok(mut c) = self.checked.lock() {
            // Bounded: a directory of a city's screens and phones (15,000 grid workers and
            // their units), not of every token tried; past it, every check starts again.
            if c.len() >= CHECKED_MAX {
                c.clear();
            }
            c.insert(
                token.to_string(),
                (id.to_string(), account.token_hash.clone()),
            );
        }
        Ok(of_account(&account))
    }

    /// The live credential with this id (`static:<name>` or an account's), as this
    /// gateway's own directory has it: what a cluster's writer acts on for a command
    /// forwarded by id.
    pub fn credential_of(&self, id: &str) -> Option<Credential> {
        if let Some(name) = id.strip_prefix("static:") {
            return self.statics.iter().find(|t| t.name == name).map(of_static);
        }
        let accounts = self.accounts.read().ok()?;
        accounts
            .get(id)
            .filter(|a| a.revoked_ms.is_none())
            .map(of_account)
    }

    /// The static token equal to `token`, compared in constant time and against every
    /// one (no early exit tells how many characters matched, or which entry).
    fn static_token(&self, token: &str) -> Option<&TokenConfig> {
        let t = &self.statics[*self.by_digest.get(&digest(token))?];
        // The whole token, in constant time (a digest collision is not a way in).
        bool::from(t.token.as_bytes().ct_eq(token.as_bytes())).then_some(t)
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

    const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

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
        let c = d.authenticate(&t, HERE).await.expect("the right token");
        assert_eq!(
            (c.id.as_str(), c.access.region.as_str()),
            ("a1", "321102-01")
        );
        assert!(
            d.authenticate(&format!("{t}0"), HERE).await.is_err(),
            "a wrong secret"
        );
        assert!(
            d.authenticate("yp1.zz.123", HERE).await.is_err(),
            "an unknown account"
        );
        assert!(
            !account("a1", &t).token_hash.contains(&t[8..]),
            "no token in the hash"
        );
        let mut revoked = account("a1", &t);
        revoked.revoked_ms = Some(1);
        assert_eq!(d.replace(vec![revoked]), vec!["a1".to_string()]);
        assert!(d.authenticate(&t, HERE).await.is_err());
        assert!(!d.is_valid("a1"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_wrong_secrets_is_checked_one_at_a_time_then_backs_off() {
        let d = Directory::new(vec![]);
        let t = new_token("a1");
        d.replace(vec![account("a1", &t)]);
        // Eight addresses, one wrong secret each, all at once: every one waits its turn.
        let wrong: Vec<_> = (0..8u8)
            .map(|i| {
                let d = d.clone();
                let w = new_token("a1");
                let from = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, i));
                tokio::spawn(async move { d.authenticate(&w, from).await })
            })
            .collect();
        for w in wrong {
            assert_eq!(w.await.unwrap(), Err(Refused::Unknown));
        }
        assert_eq!(d.peak_hashing(), 1, "one argon2 check at a time");
        // Eight failures for one account: the ninth check waits (250 ms doubled twice),
        // the right token too, and not for long.
        let Err(Refused::Wait(wait)) = d.authenticate(&t, HERE).await else {
            panic!("the account backs off");
        };
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
        tokio::time::sleep(wait).await;
        assert!(
            d.authenticate(&t, HERE).await.is_ok(),
            "the right token works once the wait is over"
        );
        // An address that keeps sending unknown tokens waits before any look-up.
        let bad = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 1));
        for _ in 0..6 {
            assert_eq!(
                d.authenticate("yp1.nobody.0", bad).await,
                Err(Refused::Unknown)
            );
        }
        assert!(matches!(
            d.authenticate("yp1.nobody.1", bad).await,
            Err(Refused::Wait(_))
        ));
        assert!(
            d.authenticate(&t, bad).await.is_ok(),
            "a token already checked never waits, whatever its address"
        );
        assert!(d.authenticate("yp1.nobody.2", HERE).await.is_err());
    }

    #[tokio::test]
    async fn a_check_that_raced_a_rotation_never_restores_the_old_token() {
        let d = Directory::new(vec![]);
        let old = new_token("a1");
        d.replace(vec![account("a1", &old)]);
        assert!(d.authenticate(&old, HERE).await.is_ok());
        // The login of the old token lands in the cache after the rotation cleared it:
        // its entry names the old hash, which the account no longer has.
        let old_hash = d.accounts.read().unwrap()["a1"].token_hash.clone();
        let new = new_token("a1");
        d.replace(vec![account("a1", &new)]);
        d.checked
            .lock()
            .unwrap()
            .insert(old.clone(), ("a1".into(), old_hash));
        assert_eq!(d.authenticate(&old, HERE).await, Err(Refused::Unknown));
        assert!(d.authenticate(&new, HERE).await.is_ok());
    }

    #[tokio::test]
    async fn static_tokens_match_whole_and_only_whole() {
        let s = |name: &str, token: &str| TokenConfig {
            name: name.into(),
            token: token.into(),
            role: Role::Viewer,
            region: String::new(),
            unit: None,
        };
        let d = Directory::new(vec![s("a", "site-secret-a"), s("b", "site-secret-b")]);
        assert_eq!(
            d.authenticate("site-secret-b", HERE).await.unwrap().name,
            "b"
        );
        for wrong in ["site-secret-", "site-secret-bb", "", "site-secret-c"] {
            assert_eq!(
                d.authenticate(wrong, HERE).await,
                Err(Refused::Unknown),
                "{wrong}"
            );
        }
    }

    #[tokio::test]
    async fn an_oversized_token_is_refused_before_any_work_and_logged_as_no_one() {
        let d = Directory::new(vec![]);
        let t = new_token("a1");
        d.replace(vec![account("a1", &t)]);
        let huge = format!("yp1.{}.{}", "a".repeat(900_000), "0".repeat(32));
        assert!(d.authenticate(&huge, HERE).await.is_err());
        assert_eq!(Directory::claimed(&huge), "?");
        assert_eq!(d.peak_hashing(), 0, "no hash was computed");
        assert_eq!(Directory::claimed(&t), "a1");
    }
}
