//! What the wall's widgets ask for, and the operator's selection: the vocabulary every
//! panel and input speaks. Widgets only emit `UiAction`s; one system applies them all
//! (`act.rs`): a command goes to the gateway, view state (selection, focus, rewind)
//! changes here, and the mirror of the truth is never edited.

use domain::Deadlines;
use std::time::{Duration, Instant};

use bevy::prelude::*;

use protocol::{Category, Channel, Command, Ticket, TicketStatus, within};

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
    /// Frame these regions together (a warning over several districts), keeping the focus.
    Frame(Vec<String>),
    /// Switch a base map layer (by its place in wall.toml) on or off.
    ToggleBase(usize),
    /// Show only these tickets in the queue (`QueueFilter::All`: all again). View state.
    Filter(QueueFilter),
    /// Watch a replay of the gateway's history from this time (`None`: back to live).
    Rewind(Option<i64>),
    /// Show a field photo large over the wall (`None`: close it). View state.
    ShowPhoto(Option<feed::photos::PhotoAsk>),
}

/// Which tickets the queue shows: what a figure or a chart's bar was clicked for.
#[derive(Resource, Default, Clone, Debug, PartialEq)]
pub enum QueueFilter {
    #[default]
    All,
    /// 办结超期: past the deadline of their current stage.
    Overdue,
    /// 督办中.
    Supervised,
    /// In a region (a district from its bar, a grid from the hot list).
    Region(String),
    Channel(Channel),
    Category(Category),
    /// The center's boards: 待审核, 待回访, 疑难, 挂起 (off the ordinary queue)…
    Reviewing,
    Callback,
    Hard,
    Suspended,
    /// …and, on it, 延期申请 and 待定位 (taken in by address, no grid yet).
    Extension,
    Unplaced,
}

impl QueueFilter {
    /// A board by its name on the command line (`--board`): review, callback,
    /// extension, hard, suspended, unplaced, overdue, supervised.
    pub fn board(name: &str) -> Option<QueueFilter> {
        Some(match name {
            "review" => QueueFilter::Reviewing,
            "callback" => QueueFilter::Callback,
            "extension" => QueueFilter::Extension,
            "hard" => QueueFilter::Hard,
            "suspended" => QueueFilter::Suspended,
            "unplaced" => QueueFilter::Unplaced,
            "overdue" => QueueFilter::Overdue,
            "supervised" => QueueFilter::Supervised,
            _ => return None,
        })
    }

    /// The filters that read the center's boards rather than the ordinary queue.
    pub fn on_a_board(&self) -> bool {
        matches!(
            self,
            QueueFilter::Reviewing
                | QueueFilter::Callback
                | QueueFilter::Hard
                | QueueFilter::Suspended
        )
    }

    /// Whether the queue keeps `t` at `now_ms`.
    pub fn keeps(&self, t: &Ticket, now_ms: i64) -> bool {
        match self {
            QueueFilter::Reviewing => t.status == TicketStatus::Reviewing,
            QueueFilter::Callback => t.status == TicketStatus::Resolved,
            QueueFilter::Hard => t.work.hard.is_some(),
            QueueFilter::Suspended => t.work.suspended_since_ms.is_some(),
            QueueFilter::Extension => t.work.extension_asked.is_some(),
            QueueFilter::Unplaced => t.grid.is_empty(),
            QueueFilter::All => true,
            QueueFilter::Overdue => t.current_deadline().is_some_and(|(_, d)| d < now_ms),
            QueueFilter::Supervised => t.supervised,
            QueueFilter::Region(r) => within(&t.grid, r),
            QueueFilter::Channel(c) => t.channel == *c,
            QueueFilter::Category(c) => t.category == *c,
        }
    }
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
