//! Why an import stopped before it could check a site's data: a file that cannot be
//! read, settings that do not parse, a gateway that cannot be reached. Problems *in* the
//! data are not errors: they are listed, each with its code or line (`Problem`).

use std::path::PathBuf;

#[derive(thiserror::Error, Debug)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Settings { path: PathBuf, message: String },
    #[error(transparent)]
    Layer(#[from] gis::GisError),
    #[error("the gateway: {0}")]
    Gateway(String),
    #[error("a unit does not encode: {0}")]
    Encode(#[from] serde_json::Error),
}
