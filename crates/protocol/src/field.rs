//! What comes back from the field (the phone page of a unit or a grid worker): where an
//! action was taken, when by the phone's clock, and the photos it carried. Kept on the
//! action's audit entry; a ticket keeps the list of its photos.

use serde::{Deserialize, Serialize};

/// A field action's mark: the phone's position (when it gave one), its clock, its photos.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMark {
    /// Where the phone stood, WGS84 degrees; absent when it could not tell (no fix,
    /// location refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos: Option<Position>,
    /// The phone's clock when the person acted, ms since the epoch: an action queued
    /// without signal reaches the gateway later than it was taken.
    pub at_ms: i64,
    /// Photos taken for this action (at most `MAX_PHOTOS_PER_ACTION`), already uploaded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<PhotoRef>,
}

/// A phone's position fix.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub lon: f64,
    pub lat: f64,
    /// The fix's accuracy radius, metres (0: not given).
    #[serde(default)]
    pub accuracy_m: f64,
}

/// A stored photo: its content address (the SHA-256 of the stored JPEG, 64 hex digits)
/// and what it shows.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoRef {
    pub id: String,
    pub slot: PhotoSlot,
}

/// What a photo shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoSlot {
    /// 处置前: the matter as found.
    Before,
    /// 处置后: the matter as left.
    After,
    /// 上报: a grid worker's report of a new matter.
    Report,
}

impl PhotoSlot {
    pub fn zh(self) -> &'static str {
        match self {
            PhotoSlot::Before => "处置前",
            PhotoSlot::After => "处置后",
            PhotoSlot::Report => "上报",
        }
    }
}

/// A unit with a phone page open (`live` frames): where its last field action stood.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveUnit {
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pos: Option<Position>,
    /// When that action was taken (the phone's clock), ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<i64>,
}

/// Photos one action may carry.
pub const MAX_PHOTOS_PER_ACTION: usize = 6;
/// Photos one ticket keeps (its actions' together); past that an action's photos are
/// refused, saying so.
pub const MAX_PHOTOS_PER_TICKET: usize = 36;

/// Is `id` a photo's content address (64 lowercase hex digits)?
pub fn is_photo_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
