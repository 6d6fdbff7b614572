//! Failure back-off for credentials: after a few wrong tokens from one address, or
//! naming one account, each further try waits twice as long as the last (to a minute)
//! and is refused before any work. Argon2's bounded turn (`accounts.rs`) caps what a
//! burst costs the gateway; this caps how fast one address or one account id can be
//! guessed at, so an attacker pays in time what the gateway no longer pays in memory.
//! A known token (a static one, or an account token already checked against its current
//! hash: a wall reconnecting) skips both: the gateway knows it without any work.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong tokens let through before the back-off starts (a typo, a wall with an old
/// config trying a few times).
const FREE_FAILURES: u32 = 5;
/// The first wait, doubled at each failure after that, up to `LONGEST`.
const FIRST: Duration = Duration::from_millis(250);
const LONGEST: Duration = Duration::from_secs(60);
/// An account's own waits stop at a few seconds: its id is public, so anyone can make
/// it wait, and its honest screens (a new token after a rotation) must get in soon
/// anyway. A few seconds still caps a guesser at a handful of checks a minute.
const LONGEST_FOR_ACCOUNT: Duration = Duration::from_secs(5);
/// A key with no failure for this long starts again from nothing.
const FORGET_AFTER: Duration = Duration::from_secs(600);
/// Keys held at most (addresses and account ids); past that the stale ones go first,
/// then new keys are not tracked (their failures still cost a turn at argon2).
const MAX_KEYS: usize = 100_000;

/// What a failure is counted against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Address(IpAddr),
    Account(String),
}

struct Strikes {
    failures: u32,
    last: Instant,
    until: Instant,
}

#[derive(Default)]
pub struct Backoff {
    keys: Mutex<HashMap<Key, Strikes>>,
}

impl Backoff {
    /// How long `key` must still wait, if it must.
    pub fn wait(&self, key: &Key, now: Instant) -> Option<Duration> {
        let keys = self.keys.lock().ok()?;
        let s = keys.get(key)?;
        (s.until > now).then(|| s.until - now)
    }

    /// A wrong token counted against `key`.
    pub fn failed(&self, key: Key, now: Instant) {
        let Ok(mut keys) = self.keys.lock() else {
            return;
        };
        if keys.len() >= MAX_KEYS && !keys.contains_key(&key) {
            keys.retain(|_, s| now.duration_since(s.last) < FORGET_AFTER);
            if keys.len() >= MAX_KEYS {
                return;
            }
        }
        let longest = match key {
            Key::Address(_) => LONGEST,
            Key::Account(_) => LONGEST_FOR_ACCOUNT,
        };
        let s = keys.entry(key).or_insert(Strikes {
            failures: 0,
            last: now,
            until: now,
        });
        if now.duration_since(s.last) >= FORGET_AFTER {
            s.failures = 0;
        }
        s.failures += 1;
        s.last = now;
        if s.failures > FREE_FAILURES {
            let doublings = (s.failures - FREE_FAILURES - 1).min(16);
            s.until = now + (FIRST * 2u32.pow(doublings)).min(longest);
        }
    }

    /// A right token: `key` starts again from nothing.
    pub fn succeeded(&self, key: &Key) {
        if let Ok(mut keys) = self.keys.lock() {
            keys.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_a_few_failures_double_and_end_with_a_success() {
        let b = Backoff::default();
        let k = Key::Address("192.0.2.7".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES {
            b.failed(k.clone(), t0);
        }
        assert_eq!(b.wait(&k, t0), None, "the first few are free");
        b.failed(k.clone(), t0);
        assert_eq!(b.wait(&k, t0), Some(FIRST));
        b.failed(k.clone(), t0);
        assert_eq!(b.wait(&k, t0), Some(FIRST * 2));
        for _ in 0..30 {
            b.failed(k.clone(), t0);
        }
        assert_eq!(b.wait(&k, t0), Some(LONGEST), "capped");
        assert_eq!(b.wait(&k, t0 + LONGEST), None, "over once waited out");
        let other = Key::Account("a1".into());
        assert_eq!(b.wait(&other, t0), None, "keys are counted apart");
        for _ in 0..30 {
            b.failed(other.clone(), t0);
        }
        assert_eq!(b.wait(&other, t0), Some(LONGEST_FOR_ACCOUNT));
        b.succeeded(&other);
        b.succeeded(&k);
        assert_eq!(b.wait(&k, t0), None);
        // Failures long apart do not add up.
        for i in 0..20u64 {
            b.failed(other.clone(), t0 + FORGET_AFTER * i as u32);
        }
        assert_eq!(b.wait(&other, t0 + FORGET_AFTER * 19), None);
    }
}
