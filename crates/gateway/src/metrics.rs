//! `/metrics` in the Prometheus text format (version 0.0.4): what a monitoring stack needs
//! to see the gateway's health. Counters and histograms are atomics updated where things
//! happen; the state gauges (open and overdue tickets by stage, warnings by level, clients
//! by role) are set by the core when a scrape asks, so the heartbeat never pays for them;
//! the store keeps the ticket counts up with each change (`store::gauges`), so a scrape
//! does not walk every ticket.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use domain::access::Role;
use protocol::{Stage, TicketStatus, WarningLevel};

/// A histogram with fixed upper bounds.
pub struct Histogram {
    bounds: &'static [f64],
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    /// The sum, in millionths of the unit.
    sum_micros: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, v: f64) {
        for (b, n) in self.bounds.iter().zip(&self.buckets) {
            if v <= *b {
                n.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((v * 1e6).max(0.0) as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (b, n) in self.bounds.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{b}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

const SECONDS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0,
];
const SIZES: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 512.0];

/// The stages a live ticket can be in, as labels.
const STATUSES: [TicketStatus; 5] = [
    TicketStatus::Received,
    TicketStatus::Assigned,
    TicketStatus::Accepted,
    TicketStatus::InProgress,
    TicketStatus::Returned,
];
const ROLES: [Role; 4] = [Role::Viewer, Role::Unit, Role::Operator, Role::Admin];
const LEVELS: [WarningLevel; 4] = [
    WarningLevel::Red,
    WarningLevel::Orange,
    WarningLevel::Yellow,
    WarningLevel::Blue,
];
const STAGES: [Stage; 3] = [Stage::Accept, Stage::Handle, Stage::Resolve];

/// A status's name on the wire (`in_progress`), as the label.
fn snake(s: TicketStatus) -> String {
    serde_json::to_string(&s)
        .unwrap_or_default()
        .trim_matches('"')
        .to_string()
}

/// Every figure `/metrics` shows.
pub struct Metrics {
    pub commands_ok: AtomicU64,
    pub commands_refused: AtomicU64,
    pub commands_repeated: AtomicU64,
    /// Messages on the log's subjects a follower did not apply: not its writer's.
    pub frames_refused: AtomicU64,
    pub intake: AtomicU64,
    pub joins_snapshot: AtomicU64,
    pub joins_resume: AtomicU64,
    /// Snapshot joins that shared a build started for an earlier join.
    pub snapshots_shared: AtomicU64,
    pub batch_size: Histogram,
    /// One batch: decide, write, commit.
    pub batch_seconds: Histogram,
    /// The COMMIT statement alone: where SQLite's fsync happens.
    pub commit_seconds: Histogram,
    /// Set by the core once a heartbeat.
    pub clients_by_role: [AtomicU64; 4],
    pub open_by_status: [AtomicU64; 5],
    pub overdue_by_stage: [AtomicU64; 3],
    pub warnings_by_level: [AtomicU64; 4],
    /// The duty room: messages sent and failed (every try), escalations open and
    /// acknowledged (of those kept), handovers not yet signed, each channel's failures
    /// in a row.
    pub duty_sent: AtomicU64,
    pub duty_failed: AtomicU64,
    pub duty_open: AtomicU64,
    pub duty_acked: AtomicU64,
    pub handovers_unsigned: AtomicU64,
    pub duty_channels: std::sync::Mutex<Vec<(String, u64)>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            commands_ok: AtomicU64::new(0),
            commands_refused: AtomicU64::new(0),
            commands_repeated: AtomicU64::new(0),
            frames_refused: AtomicU64::new(0),
            intake: AtomicU64::new(0),
            joins_snapshot: AtomicU64::new(0),
            joins_resume: AtomicU64::new(0),
            snapshots_shared: AtomicU64::new(0),
            batch_size: Histogram::new(SIZES),
            batch_seconds: Histogram::new(SECONDS),
            commit_seconds: Histogram::new(SECONDS),
            clients_by_role: Default::default(),
            open_by_status: Default::default(),
            overdue_by_stage: Default::default(),
            warnings_by_level: Default::default(),
            duty_sent: AtomicU64::new(0),
            duty_failed: AtomicU64::new(0),
            duty_open: AtomicU64::new(0),
            duty_acked: AtomicU64::new(0),
            handovers_unsigned: AtomicU64::new(0),
            duty_channels: Default::default(),
        }
    }
}

impl Metrics {
    pub fn role_index(r: Role) -> usize {
        ROLES.iter().position(|x| *x == r).unwrap_or(0)
    }
    pub fn status_index(s: TicketStatus) -> Option<usize> {
        STATUSES.iter().position(|x| *x == s)
    }
    pub fn stage_index(s: Stage) -> usize {
        STAGES.iter().position(|x| *x == s).unwrap_or(0)
    }
    pub fn level_index(l: WarningLevel) -> usize {
        LEVELS.iter().position(|x| *x == l).unwrap_or(0)
    }

    /// The text a scrape gets; `seq` and `cut_off` come from the gateway's status.
    pub fn render(&self, seq: u64, cut_off: u64) -> String {
        let mut o = String::with_capacity(4096);
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut one = |name: &str, kind: &str, help: &str, lines: Vec<(String, u64)>| {
            let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, v) in lines {
                let _ = writeln!(o, "{name}{labels} {v}");
            }
        };
        one(
            "yiping_log_seq",
            "gauge",
            "The sequence number of the last durable change.",
            vec![(String::new(), seq)],
        );
        one(
            "yiping_clients",
            "gauge",
            "Clients connected after an accepted hello, by role.",
            ROLES
                .iter()
                .zip(&self.clients_by_role)
                .map(|(r, v)| (format!("{{role=\"{}\"}}", r.as_str()), get(v)))
                .collect(),
        );
        one(
            "yiping_cut_offs_total",
            "counter",
            "Clients cut off because their outbox filled (they resume on reconnect).",
            vec![(String::new(), cut_off)],
        );
        one(
            "yiping_joins_total",
            "counter",
            "Clients that joined, by what they got first: the missed deltas or a snapshot.",
            vec![
                ("{kind=\"resume\"}".into(), get(&self.joins_resume)),
                ("{kind=\"snapshot\"}".into(), get(&self.joins_snapshot)),
            ],
        );
        one(
            "yiping_snapshots_shared_total",
            "counter",
            "Snapshot joins served by a build started for another join of the same scope.",
            vec![(String::new(), get(&self.snapshots_shared))],
        );
        one(
            "yiping_commands_total",
            "counter",
            "Commands answered, by outcome (a repeat is a key already applied).",
            vec![
                ("{outcome=\"ok\"}".into(), get(&self.commands_ok)),
                ("{outcome=\"refused\"}".into(), get(&self.commands_refused)),
                ("{outcome=\"repeat\"}".into(), get(&self.commands_repeated)),
            ],
        );
        one(
            "yiping_log_frames_refused_total",
            "counter",
            "Messages on the log's subjects a follower did not apply: another epoch, a seq not their place in the stream, or not a delta (not this log's writer's).",
            vec![(String::new(), get(&self.frames_refused))],
        );
        one(
            "yiping_intake_total",
            "counter",
            "Tickets taken in (rate() of it is the intake rate).",
            vec![(String::new(), get(&self.intake))],
        );
        one(
            "yiping_open_tickets",
            "gauge",
            "Open tickets by status.",
            STATUSES
                .iter()
                .zip(&self.open_by_status)
                .map(|(s, v)| (format!("{{status=\"{}\"}}", snake(*s)), get(v)))
                .collect(),
        );
        one(
            "yiping_overdue_tickets",
            "gauge",
            "Open tickets past the deadline of a stage: accept, handle (start work), resolve.",
            STAGES
                .iter()
                .zip(&self.overdue_by_stage)
                .map(|(s, v)| (format!("{{stage=\"{}\"}}", s.en()), get(v)))
                .collect(),
        );
        one(
            "yiping_warnings",
            "gauge",
            "Live warnings by level.",
            LEVELS
                .iter()
                .zip(&self.warnings_by_level)
                .map(|(l, v)| (format!("{{level=\"{}\"}}", l.en().to_lowercase()), get(v)))
                .collect(),
        );
        one(
            "yiping_duty_messages_total",
            "counter",
            "Escalation messages tried, by outcome (each retry counts).",
            vec![
                ("{outcome=\"sent\"}".into(), get(&self.duty_sent)),
                ("{outcome=\"failed\"}".into(), get(&self.duty_failed)),
            ],
        );
        one(
            "yiping_duty_escalations",
            "gauge",
            "Escalations open (nobody acknowledged yet), and acknowledged of the last kept.",
            vec![
                ("{state=\"open\"}".into(), get(&self.duty_open)),
                ("{state=\"acknowledged\"}".into(), get(&self.duty_acked)),
            ],
        );
        one(
            "yiping_duty_handovers_unsigned",
            "gauge",
            "Shift handovers drafted and not yet signed by the incoming officer.",
            vec![(String::new(), get(&self.handovers_unsigned))],
        );
        let channels = self
            .duty_channels
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default();
        one(
            "yiping_duty_channel_failures",
            "gauge",
            "A notification channel's failures in a row (0: its last message went through).",
            channels
                .into_iter()
                .map(|(c, n)| {
                    (
                        format!("{{channel=\"{}\"}}", c.replace(['"', '\\', '\n'], "_")),
                        n,
                    )
                })
                .collect(),
        );
        self.batch_size.render(
            &mut o,
            "yiping_batch_size",
            "Commands committed together in one transaction.",
        );
        self.batch_seconds.render(
            &mut o,
            "yiping_batch_seconds",
            "Time to apply one batch of commands: decide, write, commit.",
        );
        self.commit_seconds.render(
            &mut o,
            "yiping_commit_seconds",
            "Time of the COMMIT statement alone, where SQLite fsyncs (synchronous=FULL).",
        );
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_counts_each_value_in_every_bucket_above_it() {
        let h = Histogram::new(&[1.0, 2.0]);
        h.observe(0.5);
        h.observe(1.5);
        h.observe(3.0);
        let mut o = String::new();
        h.render(&mut o, "x", "help");
        assert!(o.contains("x_bucket{le=\"1\"} 1\n"), "{o}");
        assert!(o.contains("x_bucket{le=\"2\"} 2\n"), "{o}");
        assert!(o.contains("x_bucket{le=\"+Inf\"} 3\n"), "{o}");
        assert!(o.contains("x_sum 5\nx_count 3\n"), "{o}");
    }
}
