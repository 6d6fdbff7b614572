//! What each measuring window reports beside the delivery figures: the gateway's slow
//! commits and batches, the host's steal and softirq, run-queue waits.

use super::*;

/// The gateway's own count of slow batches, from `/metrics`: tells a stall on the disk
/// (the commit) from one in the scheduling (delivery slow, batches fast). Counted over
/// each of `OVER`'s bounds: a p99 that moves by 2-3 ms shows in the first.
#[derive(Default)]
pub(super) struct Stalls {
    batches: f64,
    slow_batches: [f64; 3],
    slow_commits: [f64; 3],
}

/// The bounds (s, buckets of the gateway's histograms) a batch is counted over.
const OVER: [&str; 3] = ["0.002", "0.005", "0.01"];

impl Stalls {
    pub(super) fn read(port: u16) -> anyhow::Result<Stalls> {
        let t = crate::process::metrics_text(port)?;
        let series = |s: &str| crate::process::series(&t, s);
        let over = |h: &str| {
            OVER.map(|le| {
                series(&format!("{h}_count")) - series(&format!("{h}_bucket{{le=\"{le}\"}}"))
            })
        };
        Ok(Stalls {
            batches: series("yiping_batch_seconds_count"),
            slow_batches: over("yiping_batch_seconds"),
            slow_commits: over("yiping_commit_seconds"),
        })
    }

    /// What happened between the reading `earlier` and this one.
    pub(super) fn since(&self, earlier: &Stalls) -> Stalls {
        let minus = |a: [f64; 3], b: [f64; 3]| [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
        Stalls {
            batches: self.batches - earlier.batches,
            slow_batches: minus(self.slow_batches, earlier.slow_batches),
            slow_commits: minus(self.slow_commits, earlier.slow_commits),
        }
    }

    pub(super) fn add(&mut self, o: &Stalls) {
        self.batches += o.batches;
        for i in 0..OVER.len() {
            self.slow_batches[i] += o.slow_batches[i];
            self.slow_commits[i] += o.slow_commits[i];
        }
    }
}

/// What is read at a window's edge (and, as differences, what a window or a side of all
/// rounds saw): the gateway's slow batches, the host's steal and softirq time, and how
/// long the gateway's threads and this process's (the watchers and the operator) waited
/// for a CPU.
#[derive(Default)]
pub(super) struct Reading {
    stalls: Stalls,
    pub(super) host: Host,
    gateway: Waits,
    watchers: Waits,
}

impl Reading {
    pub(super) fn take(port: u16, gateway: u32) -> anyhow::Result<Reading> {
        Ok(Reading {
            stalls: Stalls::read(port)?,
            host: Host::read(),
            gateway: Waits::of(gateway),
            watchers: Waits::of(std::process::id()),
        })
    }

    pub(super) fn since(&self, earlier: &Reading) -> Reading {
        Reading {
            stalls: self.stalls.since(&earlier.stalls),
            host: self.host - earlier.host,
            gateway: self.gateway - earlier.gateway,
            watchers: self.watchers - earlier.watchers,
        }
    }

    pub(super) fn add(&mut self, w: &Reading) {
        self.stalls.add(&w.stalls);
        self.host += w.host;
        self.gateway += w.gateway;
        self.watchers += w.watchers;
    }
}

impl std::fmt::Display for Reading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "steal {:.0} ms, softirq {:.0} ms; the gateway's batches over 2 / 5 / 10 ms {}; \
             waited for a CPU: the gateway's threads {}, the watchers' {}",
            self.host.steal_ms, self.host.softirq_ms, self.stalls, self.gateway, self.watchers
        )
    }
}

impl std::fmt::Display for Stalls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [b2, b5, b10] = self.slow_batches;
        let [c2, c5, c10] = self.slow_commits;
        write!(
            f,
            "{b2:.0} / {b5:.0} / {b10:.0} of {:.0} (the commit {c2:.0} / {c5:.0} / {c10:.0})",
            self.batches
        )
    }
}
