//! The gateway: takes tickets in (HTTP and WebSocket commands), keeps them durably (the
//! store), fans the feed out to every wall, and carries commands back.
//!
//! One task, the core, owns the store and the list of clients; connections and the HTTP
//! handlers talk to it over a bounded channel. That keeps every change in one order (the
//! log's) and lets the core commit commands in batches.

pub mod accounts;
pub mod admission;
mod backoff;
pub mod batch;
mod budget;
mod bulk;
pub mod cap;
pub mod cap_in;
pub mod cli;
mod conn;
pub mod duty;
mod engine;
mod forward;
mod http;
pub mod open311;
mod phone;
pub mod photos;
mod replay;
pub mod report;
mod rewind;
mod scope;
mod snapshot;
pub mod tls;
mod web;
mod xml;

pub use snapshot::lower_priority;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

pub mod config;
mod error;
pub use error::GatewayError;
pub mod metrics;

use self::config::GatewayConfig;
use store::Store;

pub use engine::{Answer, CoreMsg};

/// Figures the core publishes for `/healthz` and for tests.
#[derive(Default)]
pub struct Status {
    pub seq: AtomicU64,
    pub clients: AtomicUsize,
    pub cut_off: AtomicU64,
    /// Cluster mode: whether this node holds the writer's lease.
    pub writer: std::sync::atomic::AtomicBool,
    /// What `/metrics` shows.
    pub metrics: metrics::Metrics,
}

/// A running gateway. Dropping it does not stop it; call `shutdown`.
pub struct GatewayHandle {
    pub ws_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub epoch: String,
    pub status: Arc<Status>,
    stop: watch::Sender<bool>,
    core: tokio::task::JoinHandle<()>,
}

impl GatewayHandle {
    /// Stop accepting, close every connection, and wait until the store is closed.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.core.await;
    }
}

/// Open the store and start serving on the configured addresses (port 0 picks a free
/// one; the handle says which).
pub async fn start(mut cfg: GatewayConfig) -> Result<GatewayHandle, GatewayError> {
    cfg.check_exposure()?;
    let open_files = admission::raise_open_files();
    let budget = admission::Budget::new(
        open_files,
        cfg.limits.max_unauthenticated,
        cfg.limits.max_http_connections,
        cfg.limits.max_clients,
    );
    if budget.clients < cfg.limits.max_clients {
        tracing::warn!(
            open_files,
            "the open-file limit leaves room for {} clients, not {} (max_clients): raise the hard limit (LimitNOFILE= in a systemd unit, nofile in /etc/security/limits.conf, ulimit -Hn) to at least {}",
            budget.clients,
            cfg.limits.max_clients,
            cfg.limits.max_clients as u64
                + admission::RESERVE_FILES
                + (cfg.limits.max_unauthenticated + cfg.limits.max_http_connections) as u64
        );
    }
    cfg.limits.max_clients = budget.clients;
    if let Some(c) = &cfg.cluster {
        c.check().map_err(GatewayError::Cluster)?;
    }
    // The grid layer, read once: the store's grid check, the HTTP side's locator and
    // gazetteer all come from it.
    let layer = cfg.grid_layer()?;
    let policy = cfg.policy_from(layer.as_deref())?;
    // Photos from the field: a city cluster keeps them in JetStream's object store (any
    // node serves any photo); a single gateway or a town center beside its SQLite file.
    let mut photos = None;
    let (store, log) = match &cfg.cluster {
        // A town center: its own SQLite replica, named after the city's log.
        Some(c) if c.town.is_some() => {
            let town = c.town.clone().unwrap_or_default();
            let log = cluster::log::JetLog::connect_town(c, &town).await?;
            let mut store = Store::open(&cfg.database, policy.clone())?;
            store.adopt_epoch(log.epoch())?;
            (store, Some(log))
        }
        Some(c) => {
            let url = c.postgres.clone();
            let policy = policy.clone();
            let store =
                tokio::task::spawn_blocking(move || Store::open_postgres(&url, policy)).await??;
            let log = cluster::log::JetLog::connect(c, store.epoch()).await?;
            photos = Some(
                photos::Photos::nats(log.jetstream())
                    .await
                    .map_err(GatewayError::Photos)?,
            );
            (store, Some(log))
        }
        None => (Store::open(&cfg.database, policy.clone())?, None),
    };
    let photos = Arc::new(match photos {
        Some(p) => p,
        None => photos::Photos::disk(photos::Photos::beside(&cfg.database))
            .map_err(|e| GatewayError::Photos(e.to_string()))?,
    });
    if cfg.replay.is_some() && store.seq() > 0 {
        return Err(GatewayError::NotEmpty(cfg.database.clone()));
    }
    let epoch = store.epoch().to_string();
    let directory = accounts::Directory::new(cfg.tokens.clone());
    directory.replace(store.accounts()?);
    let ws = TcpListener::bind(cfg.listen)
        .await
        .map_err(|source| GatewayError::Listen {
            addr: cfg.listen,
            what: "WebSocket",
            source,
        })?;
    let httpl =
        TcpListener::bind(cfg.http_listen)
            .await
            .map_err(|source| GatewayError::Listen {
                addr: cfg.http_listen,
                what: "HTTP",
                source,
            })?;
    let ws_addr = ws.local_addr()?;
    let http_addr = httpl.local_addr()?;
    let status = Arc::new(Status::default());
    status.seq.store(store.seq(), Ordering::Relaxed);
    let (stop, stop_rx) = watch::channel(false);
    let (core_tx, core_rx) = mpsc::channel(4096);
    let cfg = Arc::new(cfg);
    let (replay_tx, replay_stop) = (core_tx.clone(), stop_rx.clone());

    let node = match (log, &cfg.cluster) {
        (Some(log), Some(c)) => Some(engine::Node::new(
            c.clone(),
            log,
            policy,
            core_tx.clone(),
            status.clone(),
        )),
        _ => None,
    };
    let notifier = match &cfg.duty {
        Some(d) => duty::Notifier::start(d, core_tx.clone(), status.clone()),
        None => duty::Notifier::default(),
    };
    tokio::spawn(report::schedule::run(
        cfg.clone(),
        core_tx.clone(),
        stop_rx.clone(),
    ));
    let core = tokio::spawn(engine::run(
        store,
        cfg.clone(),
        core_rx,
        status.clone(),
        stop_rx.clone(),
        (directory.clone(), node, notifier.clone()),
    ));
    let tls = match &cfg.tls {
        Some(t) => Some(tls::acceptor(&t.cert, &t.key).map_err(GatewayError::Tls)?),
        None => None,
    };
    let ws_gate = admission::Gate::new(budget.unauthenticated);
    let http_gate = admission::Gate::new(budget.http);
    tokio::spawn(conn::accept_loop(
        ws,
        cfg.clone(),
        core_tx.clone(),
        stop_rx.clone(),
        ws_gate.clone(),
        (directory.clone(), tls.clone()),
    ));
    let grids = layer.as_deref().map(|l| Arc::new(gis::GridIndex::new(l)));
    // The names the division layers beside the grid layer hold (districts, towns,
    // villages, and the grids read above): Open311 requests with an address and no
    // position are placed by them.
    let gazetteer = match (cfg.area.grids.as_deref().and_then(|p| p.parent()), &layer) {
        (Some(dir), Some(grids)) => Some(Arc::new(gis::Gazetteer::load(dir, grids)?)),
        _ => None,
    };
    let http_state = http::Http {
        grids,
        gazetteer,
        photos,
        ws_port: ws_addr.port(),
        duty: notifier,
        names: Arc::new(report::names(&cfg)),
        cfg: cfg.clone(),
        directory,
        core: core_tx,
        status: status.clone(),
        epoch: epoch.clone(),
    };
    tokio::spawn(http::serve(
        httpl,
        http_state,
        stop_rx,
        (http_gate.clone(), tls),
    ));
    if let Some(src) = cfg.replay.clone() {
        tokio::spawn(async move {
            if let Err(e) = replay::run(src, replay_tx, replay_stop).await {
                tracing::error!("replay: {e:#}");
            }
        });
    }
    tracing::info!(%ws_addr, %http_addr, %epoch, "gateway listening");
    Ok(GatewayHandle {
        ws_addr,
        http_addr,
        epoch,
        status,
        stop,
        core,
    })
}
