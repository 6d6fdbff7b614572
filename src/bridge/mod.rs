//! Where the wall meets a gateway in the same process without crossing the layers: the
//! wall defines what it needs (`wall::rewind::RewindSource`), the gateway knows how, and
//! this module, above both, joins them. The binary and the tests use it alike.

mod db_rewind;
mod wire_rewind;

pub use db_rewind::DbRewind;
pub use wire_rewind::WireRewind;
