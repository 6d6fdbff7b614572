//! `[cluster]` in the gateway's settings (config/cluster.toml).

use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// This node's name, in logs, `/healthz` and `/metrics`.
    pub node: String,
    /// PostgreSQL, the record: a `postgresql://user@host:port/db` URL or
    /// `host=… port=… user=… dbname=…`.
    pub postgres: String,
    /// NATS servers with JetStream, comma-separated (`nats://127.0.0.1:4222`).
    pub nats: String,
    /// How often a follower tries to take the writer's lease, and a writer checks it still
    /// has its connection, in milliseconds.
    #[serde(default = "default_lease_ms")]
    pub lease_ms: u64,
    /// How long a follower waits for the writer's answer to a forwarded command, ms.
    #[serde(default = "default_forward_ms")]
    pub forward_timeout_ms: u64,
    /// JetStream replicas of the log: 1 on one machine, 3 across machines in production.
    #[serde(default = "default_replicas")]
    pub replicas: usize,
}

fn default_lease_ms() -> u64 {
    200
}
fn default_forward_ms() -> u64 {
    3000
}
fn default_replicas() -> usize {
    1
}

impl ClusterConfig {
    pub fn new(node: &str, postgres: &str, nats: &str) -> ClusterConfig {
        ClusterConfig {
            node: node.into(),
            postgres: postgres.into(),
            nats: nats.into(),
            lease_ms: default_lease_ms(),
            forward_timeout_ms: default_forward_ms(),
            replicas: default_replicas(),
        }
    }
}
