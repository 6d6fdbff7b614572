//! 一屏 Yiping: the live command wall of a city's social-governance command center.
//!
//! Each layer is a crate of its own under `crates/` (the README's "parts" table); this
//! crate sits on top of them all. It re-exports them under their layer names, so the
//! binary and the tests say `yiping::gateway::…`, and holds `bridge`, which joins the
//! wall to a gateway in the same process without either importing the other.

pub mod bridge;

pub use ::cluster;
pub use ::domain;
pub use ::feed;
pub use ::gateway;
pub use ::gis;
pub use ::import;
pub use ::protocol;
pub use ::sim;
pub use ::store;
pub use ::wall;
pub use ::wire;
