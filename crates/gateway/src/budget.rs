//! A command budget per credential: `commands_per_minute`, refilled evenly, a burst of
//! a minute's worth taken at once. Without it one operator's script (a `supervise`
//! always succeeds) could grow the log for ever and take the writer's every turn. The
//! core owns it (one task, no lock); a refused command changes nothing.

use std::collections::HashMap;
use std::time::Instant;

struct Bucket {
    tokens: f64,
    at: Instant,
}

pub struct Budget {
    per_minute: f64,
    buckets: HashMap<String, Bucket>,
}

impl Budget {
    pub fn new(per_minute: u32) -> Budget {
        Budget {
            per_minute: f64::from(per_minute.max(1)),
            buckets: HashMap::new(),
        }
    }

    /// Take one command for `credential` at `now`; false if it is over its budget.
    pub fn take(&mut self, credential: &str, now: Instant) -> bool {
        let full = self.per_minute;
        // Looked up by borrowed key: a credential's name is copied once, not per command.
        if !self.buckets.contains_key(credential) {
            let fresh = Bucket {
                tokens: full,
                at: now,
            };
            self.buckets.insert(credential.to_string(), fresh);
        }
        let Some(b) = self.buckets.get_mut(credential) else {
            return true;
        };
        let refill = now.duration_since(b.at).as_secs_f64() * full / 60.0;
        b.tokens = (b.tokens + refill).min(full);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Seconds until `credential` has a command again (for the refusal's message).
    pub fn wait_s(&self, credential: &str) -> f64 {
        self.buckets.get(credential).map_or(0.0, |b| {
            ((1.0 - b.tokens).max(0.0)) * 60.0 / self.per_minute
        })
    }

    /// Forget full buckets (those idle a minute or more): the map holds the credentials
    /// that sent lately, not every one that ever did.
    pub fn forget_idle(&mut self, now: Instant) {
        self.buckets
            .retain(|_, b| now.duration_since(b.at).as_secs_f64() < 60.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_minutes_worth_at_once_then_evenly() {
        let mut b = Budget::new(60);
        let t0 = Instant::now();
        for i in 0..60 {
            assert!(b.take("op", t0), "command {i} of the burst");
        }
        assert!(!b.take("op", t0), "the 61st in the same instant");
        assert!(
            b.wait_s("op") > 0.9 && b.wait_s("op") <= 1.0,
            "{}",
            b.wait_s("op")
        );
        assert!(b.take("other", t0), "credentials are counted apart");
        assert!(!b.take("op", t0 + Duration::from_millis(500)));
        assert!(
            b.take("op", t0 + Duration::from_millis(1100)),
            "one a second back"
        );
        b.forget_idle(t0 + Duration::from_secs(120));
        assert!(b.buckets.is_empty());
    }
}
