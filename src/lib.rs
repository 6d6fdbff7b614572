//! 一屏 Yiping: the live command wall of a city's social-governance command center.
//!
//! Layers, each importing only those above it (see ARCHITECTURE in the README):
//! `protocol` (wire types) → `store` (durable state) → `gateway` (server);
//! `protocol` → `feed` (client + mirror) → `wall` (Bevy). `sim` is a feed source.

pub mod config;
pub mod feed;
pub mod gateway;
pub mod protocol;
pub mod sim;
pub mod store;
pub mod wall;
