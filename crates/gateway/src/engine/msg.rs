//! What connections, HTTP handlers and the cluster's links ask of the core, and what a
//! command's asker gets back.

use super::*;

/// What connections and HTTP handlers ask of the core.
pub enum CoreMsg {
    /// A client finished its hello: send it a snapshot or its missed deltas, then the feed.
    Join {
        id: u64,
        region: String,
        /// A phone's unit (a unit credential's feed): that unit's tickets only.
        unit: Option<String>,
        /// The credential it came with: its session ends when that is revoked.
        credential: String,
        role: domain::access::Role,
        resume: Option<Resume>,
        outbox: mpsc::Sender<Utf8Bytes>,
        kill: oneshot::Sender<&'static str>,
        /// Where its snapshot comes from, if it gets one.
        snapshot: snapshot::Ask,
    },
    Leave {
        id: u64,
    },
    /// A command; the result goes to the client `id`'s outbox, or to `reply`.
    /// A command (boxed: it is the largest message by far, and the others are many).
    Command {
        id: Option<u64>,
        request: Box<Request>,
        reply: Option<oneshot::Sender<Answer>>,
    },
    /// A rewind wants to start for `credential`: it counts as a client (`max_clients`),
    /// one per credential, `rewind::MAX_REWINDS` per gateway; `kill` ends it on a
    /// revocation. The answer: its place, or why not. `Leave` ends it.
    Rewind {
        id: u64,
        credential: String,
        kill: oneshot::Sender<&'static str>,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// An audit query, answered for `region` only (the asking feed's scope).
    Audit {
        id: u64,
        ticket: u64,
        region: String,
    },
    /// Replay: one part of the recorded snapshot.
    Seed(Box<Snapshot>),
    /// Replay: recorded events, the last of them recorded at `at_ms`.
    Replayed {
        at_ms: i64,
        events: Vec<Event>,
    },
    /// Replay: the recording has ended.
    ReplayEnd,
    /// A line for the access log (logins and refusals).
    Access(AccessEntry),
    /// A scrape of `/metrics`: set the state gauges, then answer.
    Gauges(oneshot::Sender<()>),
    /// Tickets for a reader (Open311) in `region`: those with these ids (archived ones
    /// too), or the live ones taken in within `created` (from, to ms).
    Tickets {
        ids: Option<Vec<u64>>,
        region: String,
        created: (i64, i64),
        reply: oneshot::Sender<Vec<Ticket>>,
    },
    /// The first outcome of a credential's idempotency key, while remembered (CAP
    /// references: the warning an earlier alert raised).
    KeyOutcome {
        credential: String,
        key: String,
        reply: oneshot::Sender<Option<CommandOutcome>>,
    },
    /// The live warnings, for a reader (CAP).
    Warnings {
        reply: oneshot::Sender<Vec<protocol::Warning>>,
    },
    /// The duty room as it stands (roster, on duty, escalations, handovers).
    Duty {
        reply: oneshot::Sender<Box<protocol::Duty>>,
    },
    /// What a report of `region` is made of (figures, duty, warnings, 疑难 cases).
    Report {
        region: String,
        reply: oneshot::Sender<Result<Box<crate::report::Inputs>, String>>,
    },
    /// A cluster follower: the writer's answer to a command forwarded to it.
    Forwarded {
        id: Option<u64>,
        key: String,
        answer: Answer,
        reply: Option<oneshot::Sender<Answer>>,
    },
}

/// The answer to an HTTP caller: the outcome, and whether this request made the change
/// (`false` for a repeat of a key already applied, which gets the first outcome).
#[derive(Clone, Debug)]
pub struct Answer {
    pub outcome: CommandOutcome,
    pub fresh: bool,
}
