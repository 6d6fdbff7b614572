//! `[cluster]` in the gateway's settings (config/cluster.toml).

use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// This node's name, in logs, `/healthz` and `/metrics`.
    pub node: String,
    /// PostgreSQL, the record: a `postgresql://user@host:port/db` URL or
    /// `host=… port=… user=… dbname=…`. Not used by a town center.
    #[serde(default)]
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
    /// A county or town center: the region it serves (`321102` or `321102-01`). Its node
    /// follows a filtered mirror of the city's stream on the local nats-server (a leaf node
    /// of the city's, with a JetStream domain of its own) and keeps its replica in the
    /// SQLite file `database`; it needs no PostgreSQL. Cut off from the city it keeps
    /// serving its walls, read-only; it catches up when the link is back.
    #[serde(default)]
    pub town: Option<String>,
    /// The city's JetStream domain, as the town's leaf node sees it.
    #[serde(default = "default_hub_domain")]
    pub hub_domain: String,
    /// NATS user and password (config/nats-server.conf's `gateway` user). Anyone who
    /// reaches NATS without them is refused by the server; with them, may only publish
    /// what gateway nodes publish.
    #[serde(default)]
    pub nats_user: Option<String>,
    #[serde(default)]
    pub nats_password: Option<String>,
    /// A NATS credentials file (a user JWT and its NKey seed, `nsc`'s `.creds`) instead of
    /// a user and password.
    #[serde(default)]
    pub nats_creds: Option<std::path::PathBuf>,
    /// The CA (PEM) that signed the NATS servers' certificates: the connection is then
    /// TLS and refused without it (`tls://` URLs).
    #[serde(default)]
    pub nats_ca: Option<std::path::PathBuf>,
}

fn default_hub_domain() -> String {
    "hub".into()
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
            town: None,
            hub_domain: default_hub_domain(),
            nats_user: None,
            nats_password: None,
            nats_creds: None,
            nats_ca: None,
        }
    }

    /// The settings' own errors, before anything starts.
    pub fn check(&self) -> Result<(), String> {
        if self.nats_user.is_some() != self.nats_password.is_some() {
            return Err("[cluster] nats_user and nats_password go together".into());
        }
        if self.nats_user.is_some() && self.nats_creds.is_some() {
            return Err("[cluster] either nats_user/nats_password or nats_creds, not both".into());
        }
        if self.town.is_none() && self.postgres.trim().is_empty() {
            return Err("[cluster] postgres is required (only a town center goes without)".into());
        }
        if let Some(t) = &self.town
            && (t.is_empty()
                || !t
                    .split('-')
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric())))
        {
            return Err(format!(
                "[cluster] town {t:?} is not a region id like 321102-01"
            ));
        }
        Ok(())
    }
}
