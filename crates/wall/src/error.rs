//! Why the wall does not open: a config, layer, tour or base-map file that cannot be used
//! (each names the file and what to fix), or a window that cannot be made.

use std::path::PathBuf;

#[derive(thiserror::Error, Debug)]
pub enum WallError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid wall config: {message}")]
    Config { path: PathBuf, message: String },
    #[error("window size {0}x{1} is out of range 640x480..16384x16384")]
    WindowSize(u32, u32),
    #[error(transparent)]
    Layer(#[from] crate::layers::LayerError),
    #[error("base map layer ({kind}): {message}")]
    BaseMap { kind: &'static str, message: String },
    #[error(transparent)]
    Tour(#[from] crate::tour::TourError),
}

/// Why a rewind did not start (the `RewindSource` that was asked says).
#[derive(thiserror::Error, Debug)]
#[error("the rewind did not start: {0}")]
pub struct RewindError(pub String);
