//! Cluster mode: several gateway nodes share one record (PostgreSQL) and one log (a NATS
//! JetStream stream), so that no machine's loss darkens a wall.
//!
//! - **One writer, chosen by a lease.** The node that holds PostgreSQL's advisory lock
//!   (`store::Backend::try_lead`) applies every command, in batches, through the same store
//!   code as the embedded gateway: decide, write the records and the log row in one
//!   transaction, COMMIT. It then publishes the batch's deltas to the stream, each with
//!   `Nats-Expected-Last-Sequence = seq - 1`, and acknowledges only when the stream has
//!   them: a delta's `seq` *is* its stream sequence, and the stream refuses a second writer's
//!   publish. The lease is a session lock: a killed writer's connection closes and the lock
//!   is free at once; a writer cut off from PostgreSQL can write nothing more.
//! - **Every node serves walls.** Followers apply the stream (an ordered consumer from their
//!   own `seq + 1`) to the same in-memory state with `domain::apply`, fan deltas out and
//!   answer resumes from their window; the epoch names the stream, so a wall resumes on any
//!   node by (epoch, seq). A follower forwards its walls' commands to the writer over NATS
//!   request/reply and holds the answer until the delta is applied locally, so a client
//!   still sees the change before its acknowledgement.
//! - **Failover.** Followers try the lease every `lease_ms`. The one that gets it reloads the
//!   state from PostgreSQL (the record), sends its walls any deltas PostgreSQL has beyond what
//!   they saw, publishes to the stream whatever the old writer committed but did not
//!   publish, and takes commands. Commands in flight at the old writer get `unavailable` and
//!   are sent again with the same key by their clients (the key makes that safe).
//!
//! Why a lease and not serialisable transactions on every node: the store decides a
//! command against the whole in-memory state (a dispatch checks the unit, the ticket's
//! stage, the incident), so concurrent writers would conflict on most batches and retry;
//! one writer keeps the first wave's batching (one commit for many commands) and a single
//! order, and the stream's expected-sequence check fences a writer that lost its lease.

pub mod config;
pub mod log;

pub use config::ClusterConfig;
