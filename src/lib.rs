//! 一屏 Yiping: the live command wall of a city's social-governance command center.
//!
//! Layers, each importing only those above it (the README's "parts" table):
//! `protocol` (wire types) → `domain` (the rules) → `store` (durable state) → `gateway`
//! (server); `protocol` + `domain` → `feed` (client + mirror) → `wall` (Bevy). `sim` is a
//! feed source and never touches the store. `bridge` joins the wall to a local gateway
//! where the binary needs it (rewind on a database file). `gis` reads GeoJSON polygon
//! layers for the wall and the simulator.

pub mod bridge;
pub mod cluster;
pub mod domain;
pub mod feed;
pub mod gateway;
pub mod gis;
pub mod import;
pub mod protocol;
pub mod sim;
pub mod store;
pub mod wall;
