//! The feed client: a network thread (its own tokio runtime) that keeps one WebSocket to
//! a gateway, resumes by sequence number after a drop, and hands every message over a
//! bounded crossbeam channel to whoever consumes it (the wall, the simulator, a test).
//! `Mirror` applies those messages into a local copy of the gateway's live state.

mod client;
mod mirror;
pub mod photos;
pub mod record;

pub use client::{FeedConfig, FeedEvent, FeedHandle, FeedStatus, Wake, spawn};
pub use domain::Change;
pub use mirror::Mirror;
