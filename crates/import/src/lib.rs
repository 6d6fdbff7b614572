//! A site's own data in: its division layers (`yiping import-city`) and its units
//! (`yiping import-units`). Bad input is reported whole, with each feature's or line's own
//! code, and nothing is written or sent until it is all good.

pub mod city;
mod error;
pub mod units;

pub use error::ImportError;
