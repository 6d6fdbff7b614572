//! What can stop the gateway from starting, or a replay or rewind from running: the
//! gateway crate's errors, each saying what to fix.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::config::ConfigError;

#[derive(thiserror::Error, Debug)]
pub enum GatewayError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("the cluster settings: {0}")]
    Cluster(String),
    #[error(transparent)]
    Log(#[from] cluster::log::LogError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("{0} already holds a log: a replay needs an empty database (omit --database)")]
    NotEmpty(PathBuf),
    #[error("cannot listen on {addr} ({what}): {source}")]
    Listen {
        addr: SocketAddr,
        what: &'static str,
        source: std::io::Error,
    },
    #[error(transparent)]
    Gis(#[from] gis::GisError),
    #[error("photos: {0}")]
    Photos(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("a replay: {0}")]
    Replay(String),
    #[error("a rewind: {0}")]
    Rewind(String),
    #[error("a task of the gateway's: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
