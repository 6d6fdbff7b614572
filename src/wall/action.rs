//! What the wall's widgets ask for, and the operator's selection: the vocabulary every
//! panel and input speaks. Widgets only emit `UiAction`s; one system applies them all
//! (`act.rs`): a command goes to the gateway, view state (selection, focus, rewind)
//! changes here, and the mirror of the truth is never edited.

use std::time::{Duration, Instant};

use bevy::prelude::*;

use crate::protocol::Command;

/// What the wall's widgets ask for; applied by `act` in one place.
#[derive(Message, Clone, Debug, PartialEq)]
pub enum UiAction {
    Select(u64),
    Deselect,
    /// Arm a command: it is sent when the undo window has passed.
    Arm {
        command: Command,
        label: String,
    },
    Undo,
    /// Send a command at once (acknowledgements and the like, which take nothing back).
    Send(Command),
    /// Drill down (or up) to a region: "" is the whole city. View state, no command.
    Focus(String),
    /// Watch a replay of the gateway's history from this time (`None`: back to live).
    Rewind(Option<i64>),
}

/// A command armed behind the undo window.
#[derive(Clone, Debug)]
pub struct Armed {
    pub command: Command,
    pub label: String,
    pub at: Instant,
}

/// The operator's selection and the command in flight for it. UI state, not domain state.
#[derive(Resource, Default)]
pub struct Selection {
    pub ticket: Option<u64>,
    pub armed: Option<Armed>,
    /// The last command sent from the panel: its key and label.
    pub sent: Option<(String, String)>,
}

/// How long a click can be taken back.
#[derive(Resource)]
pub struct UndoWindow(pub Duration);

impl Default for UndoWindow {
    fn default() -> Self {
        UndoWindow(Duration::from_secs(3))
    }
}
