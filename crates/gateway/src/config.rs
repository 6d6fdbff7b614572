//! The gateway's settings: `config/gateway.toml`, every field with a documented default.
//! Command-line flags override the file for one run (see `src/cli/`).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use domain::decide::Bounds;
use domain::sla::DEFAULT_SLA_MINUTES;
use store::Policy;

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// WebSocket feed address.
    pub listen: SocketAddr,
    /// HTTP intake and health address.
    pub http_listen: SocketAddr,
    /// The SQLite file; created on first start.
    pub database: PathBuf,
    pub limits: Limits,
    pub sla: Sla,
    pub area: Area,
    /// TLS on both ports, when set.
    pub tls: Option<Tls>,
    pub tokens: Vec<TokenConfig>,
    /// Open311 GeoReport v2 (`/open311/v2/`).
    pub open311: Open311,
    /// CAP alerts out (`/cap/…`).
    pub cap: Cap,
    /// The center's workflow: which levels' results it reviews, extensions, 疑难.
    pub workflow: domain::workflow::Rules,
    /// The duty room (`[duty]`): escalations, their channels, reports. Absent: no duty
    /// engine runs (a roster may still be set and shown).
    pub duty: Option<crate::duty::DutyConfig>,
    /// Cluster mode (config/cluster.toml): PostgreSQL is the record and JetStream the log;
    /// `database` is not used.
    pub cluster: Option<cluster::ClusterConfig>,
    /// Replay a recording instead of taking commands (`yiping replay`), not from the file.
    #[serde(skip)]
    pub replay: Option<ReplaySource>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// A client frame longer than this gets an `too_large` error; the connection stays.
    pub max_frame_bytes: usize,
    /// A frame longer than this closes the connection (the WebSocket layer's own limit).
    pub hard_frame_bytes: usize,
    /// Messages queued for one client before it is cut off as too slow.
    pub outbox: usize,
    /// Deltas kept for resuming clients; an older resume point gets a fresh snapshot.
    pub resume_window: usize,
    /// Commands committed together in one transaction at most.
    pub batch: usize,
    /// Tickets per snapshot part.
    pub snapshot_part: usize,
    pub heartbeat_ms: u64,
    /// Authenticated clients at most (fewer if the open-file limit leaves less room).
    pub max_clients: usize,
    /// Seconds a new WebSocket connection has, from its accept, to finish the upgrade and
    /// send its hello.
    pub hello_timeout_s: u64,
    /// WebSocket connections waiting for their hello at most; a new one closes the oldest.
    pub max_unauthenticated: usize,
    /// HTTP connections at most; a new one closes the oldest.
    pub max_http_connections: usize,
    /// Seconds an HTTP request's head may take (an idle keep-alive connection is closed
    /// after as long).
    pub http_header_timeout_s: u64,
    /// Seconds an HTTP request's body may take, once the caller is authenticated.
    pub http_body_timeout_s: u64,
    /// Hours an idempotency key is remembered (a repeat after that is a new command).
    pub idempotency_hours: u64,
    /// Bytes a batch intake (`POST /api/tickets/batch`) may carry.
    pub max_batch_bytes: usize,
    /// Commands one viewer, unit or operator credential may send in a minute (refilled
    /// evenly, a minute's worth at once); past it a command is refused `rate_limited` and
    /// nothing changes. Admin credentials (imports, bridges, the simulator) are not held.
    pub commands_per_minute: u32,
    /// Days the access log keeps a line; older lines are removed once an hour.
    pub access_log_days: u32,
    /// Lines the access log keeps at most (the oldest go first).
    pub access_log_rows: u64,
    /// Bytes a photo upload (`POST /api/photos`) may carry; the phone page sends at most
    /// 1 MB.
    pub max_photo_bytes: usize,
    /// Pixels (width x height) a photo may declare; more is refused before decoding (a
    /// decompression bomb: a small PNG that would fill gigabytes).
    pub max_photo_pixels: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sla {
    pub urgent_minutes: u32,
    pub important_minutes: u32,
    pub normal_minutes: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Area {
    /// Positions accepted on intake: [min_lon, min_lat, max_lon, max_lat].
    pub bbox: [f64; 4],
    /// The city's grid layer (GeoJSON, an `id` per feature): when set, a ticket or a
    /// warning on a grid it does not hold is refused.
    pub grids: Option<PathBuf>,
}

/// `[open311]`: the GeoReport v2 interface.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Open311 {
    /// Whether `GET requests` answers without an `api_key` (the spec's default); then the
    /// reporter is left out. Off: reading needs a token too, scoped to its region.
    pub public_requests: bool,
}

/// `[cap]`: the gateway's own CAP alerts.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cap {
    /// The sender code of GB/T 35965.1 identifiers (`<code>_<YYYYMMDDhhmmss>_<n>`): the
    /// center's own, as the national warning system assigned it.
    pub sender_code: String,
}

impl Default for Cap {
    fn default() -> Self {
        Cap {
            // 镇江市's GB/T 2260 code and zeros: a placeholder until the site has its own.
            sender_code: "32110000000000".into(),
        }
    }
}

pub use domain::access::Role;

/// The certificate chain and private key (PEM) that make both ports TLS: `wss://` and
/// `https://`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
/// A static token of gateway.toml (for local use; a site's credentials are accounts).
pub struct TokenConfig {
    pub token: String,
    pub role: Role,
    /// Who this token is, as written in the audit trail.
    pub name: String,
    /// The region it is scoped to (a grid-id prefix); "" or absent: the whole city.
    #[serde(default)]
    pub region: String,
    /// The unit a `unit` token acts for.
    #[serde(default)]
    pub unit: Option<String>,
}

impl TokenConfig {
    /// A city-wide token.
    pub fn new(token: impl Into<String>, role: Role, name: impl Into<String>) -> TokenConfig {
        TokenConfig {
            token: token.into(),
            role,
            name: name.into(),
            region: String::new(),
            unit: None,
        }
    }
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: ([127, 0, 0, 1], 7400).into(),
            http_listen: ([127, 0, 0, 1], 7401).into(),
            database: "yiping.sqlite".into(),
            limits: Limits::default(),
            sla: Sla::default(),
            area: Area::default(),
            tls: None,
            tokens: vec![],
            open311: Open311::default(),
            cap: Cap::default(),
            workflow: Default::default(),
            duty: None,
            cluster: None,
            replay: None,
        }
    }
}

impl GatewayConfig {
    /// A gateway on loopback (any free port) that replays `source` on a fresh database
    /// at `database`, watched with one viewer token.
    pub fn for_replay(source: ReplaySource, database: PathBuf, viewer_token: String) -> Self {
        GatewayConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            http_listen: ([127, 0, 0, 1], 0).into(),
            database,
            tokens: vec![TokenConfig::new(viewer_token, Role::Viewer, "回看")],
            replay: Some(source),
            ..Default::default()
        }
    }
}

/// A fresh folder and viewer token for a private replay gateway (a rewind): the folder
/// holds its database; remove it when the replay ends.
pub fn replay_workspace() -> std::io::Result<(PathBuf, String)> {
    let dir = std::env::temp_dir().join(format!(
        "yiping-rewind-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    // Private: the copy of the record it builds holds every ticket and reporter.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)?;
    Ok((dir, format!("rewind-viewer-{:016x}", rand::random::<u64>())))
}

/// A recording to play back into the gateway.
#[derive(Clone, Debug)]
pub struct ReplaySource {
    /// A recording, or a gateway's SQLite file.
    pub path: PathBuf,
    /// A cluster's PostgreSQL (its event log), read instead of `path` when set.
    pub postgres: Option<String>,
    /// Recorded seconds per real second.
    pub speed: f64,
    /// Start here (ms since the epoch): what comes before is applied at once.
    pub from_ms: Option<i64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_bytes: 64 * 1024,
            hard_frame_bytes: 1024 * 1024,
            outbox: 8192,
            resume_window: 100_000,
            batch: 512,
            snapshot_part: 2000,
            heartbeat_ms: 1000,
            // A city's phones and screens (config/gateway.toml says why).
            max_clients: 18_000,
            hello_timeout_s: 10,
            max_unauthenticated: 256,
            max_http_connections: 256,
            http_header_timeout_s: 10,
            http_body_timeout_s: 10,
            idempotency_hours: 24,
            max_batch_bytes: 4 * 1024 * 1024,
            commands_per_minute: 6000,
            access_log_days: 90,
            access_log_rows: 1_000_000,
            max_photo_bytes: 4 * 1024 * 1024,
            // A 48-megapixel phone camera's full frame.
            max_photo_pixels: 50_000_000,
        }
    }
}

impl Default for Sla {
    fn default() -> Self {
        Sla {
            urgent_minutes: DEFAULT_SLA_MINUTES[0],
            important_minutes: DEFAULT_SLA_MINUTES[1],
            normal_minutes: DEFAULT_SLA_MINUTES[2],
        }
    }
}

impl Default for Area {
    fn default() -> Self {
        // Mainland China, roughly; a site narrows it to its own city.
        Area {
            bbox: [73.0, 3.0, 136.0, 54.0],
            grids: None,
        }
    }
}

#[derive(thiserror::Error, Debug)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid gateway config: {source}")]
    Parse {
        path: String,
        source: Box<toml::de::Error>,
    },
    #[error("{0}")]
    Invalid(String),
}

impl GatewayConfig {
    /// Read `path`. Relative paths in it (`database`, `[area] grids`, `[tls]`) are read
    /// from the file's own folder, as nginx and Prometheus do: `--config
    /// /etc/yiping/gateway.toml` works from any working directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut cfg = Self::parse(&text, &path.display().to_string())?;
        cfg.resolve_paths(path.parent().unwrap_or(Path::new("")));
        Ok(cfg)
    }

    /// Make the file's relative paths relative to `folder` (the config file's).
    pub fn resolve_paths(&mut self, folder: &Path) {
        let at = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = folder.join(&*p);
            }
        };
        at(&mut self.database);
        if let Some(g) = self.area.grids.as_mut() {
            at(g);
        }
        if let Some(t) = self.tls.as_mut() {
            at(&mut t.cert);
            at(&mut t.key);
        }
        if let Some(f) = self.duty.as_mut().and_then(|d| d.reports.folder.as_mut()) {
            at(f);
        }
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let cfg: GatewayConfig = toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: origin.into(),
            source: Box::new(source),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let l = &self.limits;
        let bad = |m: &str| Err(ConfigError::Invalid(m.into()));
        if l.max_frame_bytes == 0 || l.hard_frame_bytes < l.max_frame_bytes {
            return bad("limits: hard_frame_bytes must be at least max_frame_bytes (> 0)");
        }
        if l.batch == 0 || l.snapshot_part == 0 || l.heartbeat_ms == 0 {
            return bad("limits: batch, snapshot_part and heartbeat_ms must be > 0");
        }
        // One batch can put a delta and a result in a client's outbox per command: a
        // smaller outbox would cut off a client that reads as fast as it can.
        if l.outbox < 2 * l.batch + 16 {
            return bad("limits: outbox must be at least 2 x batch + 16");
        }
        if l.commands_per_minute == 0 || l.access_log_days == 0 || l.access_log_rows == 0 {
            return bad(
                "limits: commands_per_minute, access_log_days and access_log_rows must be > 0",
            );
        }
        if let Some(d) = &self.duty {
            d.check().map_err(ConfigError::Invalid)?;
        }
        let mut seen = std::collections::HashSet::new();
        for t in &self.tokens {
            if (t.role == Role::Unit) != t.unit.is_some() {
                return Err(ConfigError::Invalid(format!(
                    "token for '{}': a unit token names its unit (unit = \"…\"), and only a unit token does",
                    t.name
                )));
            }
            if t.token.len() < 8 {
                return Err(ConfigError::Invalid(format!(
                    "token for '{}' is shorter than 8 characters",
                    t.name
                )));
            }
            if !seen.insert(&t.token) {
                return Err(ConfigError::Invalid(format!(
                    "token for '{}' is listed twice",
                    t.name
                )));
            }
            // A static credential's id is its name (`static:<name>`): a cluster's writer
            // finds it by that.
            if self.tokens.iter().filter(|o| o.name == t.name).count() > 1 {
                return Err(ConfigError::Invalid(format!(
                    "two static tokens are named '{}': each needs a name of its own",
                    t.name
                )));
            }
        }
        Ok(())
    }

    /// On an address other than loopback, refuse static tokens: they sit unhashed in a
    /// file and anyone holding one is that credential, and the shipped demo tokens
    /// (`demo-…-token`) are printed in config/gateway.toml and the README. A live gateway
    /// there uses accounts; a replay (a fresh database, no accounts, no commands taken)
    /// may use a site's own static tokens but not the public ones. Warns when TLS is off
    /// there. Checked at start, after the command line's overrides.
    pub fn check_exposure(&self) -> Result<(), ConfigError> {
        let Some(addr) = [self.listen, self.http_listen]
            .into_iter()
            .find(|a| !a.ip().is_loopback())
        else {
            return Ok(());
        };
        let public = |t: &&TokenConfig| t.token.starts_with("demo-") && t.token.ends_with("-token");
        let refused = match &self.replay {
            Some(_) => self.tokens.iter().find(public),
            None => self.tokens.first(),
        };
        if let Some(t) = refused {
            let why = if public(&t) {
                "is public (printed in config/gateway.toml)"
            } else {
                "sits unhashed in a file, shared by whoever holds it"
            };
            return Err(ConfigError::Invalid(format!(
                "the static token for '{}' {why}: the gateway will not take it on {addr}, \
                 which is not loopback. Give each person and screen an account (`yiping \
                 account add`, hashed, revocable) and remove [[tokens]], or listen on \
                 127.0.0.1",
                t.name
            )));
        }
        if self.tls.is_none() {
            tracing::warn!(
                "listening on {addr} without TLS: tokens and tickets cross the network in \
                 the clear; set [tls] (README, \"Accounts, scopes and TLS\")"
            );
        }
        Ok(())
    }

    /// The store's rules from these settings (reads the grid layer, if one is set).
    pub fn policy(&self) -> Result<Policy, ConfigError> {
        let layer = self.grid_layer()?;
        self.policy_from(layer.as_deref())
    }

    /// The grid layer `[area] grids` names, read (`None` when none is set).
    pub fn grid_layer(&self) -> Result<Option<Vec<gis::Feature>>, ConfigError> {
        self.area
            .grids
            .as_ref()
            .map(|path| {
                gis::read_layer(path)
                    .map_err(|e| ConfigError::Invalid(format!("[area] grids: {e}")))
            })
            .transpose()
    }

    /// The store's rules, with the grid layer already read (`grid_layer`).
    pub fn policy_from(&self, layer: Option<&[gis::Feature]>) -> Result<Policy, ConfigError> {
        let grids = match layer {
            None => None,
            Some(features) => {
                let ids: HashSet<String> = features
                    .iter()
                    .map(|f| f.prop("id").to_string())
                    .filter(|id| !id.is_empty())
                    .collect();
                if ids.is_empty() {
                    return Err(ConfigError::Invalid(format!(
                        "[area] grids: {} holds no feature with an id",
                        self.area
                            .grids
                            .as_deref()
                            .unwrap_or(Path::new(""))
                            .display()
                    )));
                }
                Some(Arc::new(ids))
            }
        };
        Ok(Policy {
            sla_minutes: [
                self.sla.urgent_minutes,
                self.sla.important_minutes,
                self.sla.normal_minutes,
            ],
            bounds: Bounds {
                bbox: self.area.bbox,
                grids,
                workflow: self.workflow.clone(),
            },
            key_ttl_ms: self.limits.idempotency_hours as i64 * 3_600_000,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_tokens_are_refused_on_an_address_other_than_loopback() {
        let mut cfg = GatewayConfig {
            tokens: vec![TokenConfig::new(
                "demo-admin-token",
                Role::Admin,
                "演示管理员",
            )],
            ..GatewayConfig::default()
        };
        assert!(cfg.check_exposure().is_ok(), "loopback: the demo's");
        cfg.http_listen = "0.0.0.0:7401".parse().unwrap();
        let e = cfg.check_exposure().unwrap_err().to_string();
        assert!(
            e.contains("0.0.0.0:7401") && e.contains("account add"),
            "{e}"
        );
        cfg.tokens = vec![TokenConfig::new(
            "a-site-s-own-long-token",
            Role::Admin,
            "站点",
        )];
        let e = cfg.check_exposure().unwrap_err().to_string();
        assert!(e.contains("static token for '站点'"), "{e}");
        // A replay serves a fresh database with no accounts: a site's own token, not a
        // public one.
        cfg.replay = Some(ReplaySource {
            path: "day.jsonl".into(),
            postgres: None,
            speed: 1.0,
            from_ms: None,
        });
        assert!(
            cfg.check_exposure().is_ok(),
            "a replay with a site's own token"
        );
        cfg.tokens.push(TokenConfig::new(
            "demo-viewer-token",
            Role::Viewer,
            "演示大屏",
        ));
        assert!(
            cfg.check_exposure().is_err(),
            "a replay with a public token"
        );
        cfg.replay = None;
        cfg.tokens.clear();
        assert!(cfg.check_exposure().is_ok(), "accounts only");
    }

    #[test]
    fn relative_paths_are_read_from_the_config_files_folder() {
        let dir = std::env::temp_dir().join(format!("yiping-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("gateway.toml");
        std::fs::write(
            &file,
            "database = \"data/y.sqlite\"\n[area]\ngrids = \"/abs/grids.geojson\"\n[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n",
        )
        .unwrap();
        let cfg = GatewayConfig::load(&file).unwrap();
        assert_eq!(cfg.database, dir.join("data/y.sqlite"));
        assert_eq!(cfg.area.grids.unwrap(), PathBuf::from("/abs/grids.geojson"));
        assert_eq!(cfg.tls.unwrap().cert, dir.join("c.pem"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_unit_token_names_its_unit() {
        let t = |unit: &str| {
            format!("[[tokens]]\ntoken = \"unit-token-1\"\nrole = \"unit\"\nname = \"n\"\n{unit}")
        };
        let e = GatewayConfig::parse(&t(""), "t").unwrap_err().to_string();
        assert!(e.contains("names its unit"), "{e}");
        assert!(GatewayConfig::parse(&t("unit = \"U-1\"\n"), "t").is_ok());
    }

    #[test]
    fn a_grid_layer_that_is_missing_is_refused_with_its_path() {
        let mut cfg = GatewayConfig::default();
        cfg.area.grids = Some("no/such/grids.geojson".into());
        let e = cfg.policy().unwrap_err().to_string();
        assert!(e.contains("no/such/grids.geojson"), "{e}");
    }
}
