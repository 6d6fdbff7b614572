//! The duty room (值班室): who is on duty (the roster), escalations that reach a person
//! when nobody acknowledges, and shift handovers (交接班). Records, and the one change an
//! event carries (`DutyChange`), each a whole record after the change.

use serde::{Deserialize, Serialize};

/// A duty role, in the order an escalation climbs: 值班员 → 值班长 → 值班领导.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DutyRole {
    /// 值班员
    Officer,
    /// 值班长
    Chief,
    /// 值班领导
    Leader,
}

impl DutyRole {
    pub const ALL: [DutyRole; 3] = [DutyRole::Officer, DutyRole::Chief, DutyRole::Leader];
    pub fn as_str(self) -> &'static str {
        match self {
            DutyRole::Officer => "officer",
            DutyRole::Chief => "chief",
            DutyRole::Leader => "leader",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            DutyRole::Officer => "值班员",
            DutyRole::Chief => "值班长",
            DutyRole::Leader => "值班领导",
        }
    }
    /// Its name in English or in Chinese, as a roster file may write it.
    pub fn parse(s: &str) -> Option<DutyRole> {
        DutyRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s || r.zh() == s)
    }
}

/// A person on the roster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// The roster's own id (工号).
    pub id: String,
    pub name: String,
    /// Mobile number, for SMS and the robots' @-mentions.
    pub phone: String,
    /// The credential (account name) the person signs in with: acknowledgements and
    /// signatures made with it are this person's.
    pub credential: String,
}

/// One shift of one person in one role at one center.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    /// Given by the gateway when the roster is set (1, 2, …).
    pub id: u64,
    /// The center's scope: a region id ("" is the city's own center).
    pub center: String,
    pub role: DutyRole,
    /// The person's id.
    pub person: String,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// The people and their shifts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    pub people: Vec<Person>,
    pub shifts: Vec<Shift>,
}

impl Roster {
    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }
    pub fn shift(&self, id: u64) -> Option<&Shift> {
        self.shifts.iter().find(|s| s.id == id)
    }
}

/// The figures a handover compares, for the center's scope, from the live state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DutyFigures {
    pub at_ms: i64,
    /// 在办
    pub open: u64,
    /// 超期: open and past the resolution deadline.
    pub overdue: u64,
    /// 紧急在办
    pub urgent_open: u64,
    /// 未确认预警
    pub warnings_unacked: u64,
    /// 疑难
    pub hard: u64,
}

/// What an escalation is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Subject {
    Warning { id: u64 },
    Ticket { id: u64 },
}

/// Which rule opened an escalation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationRule {
    /// A red or orange warning not acknowledged in time.
    WarningUnacked,
    /// An urgent ticket not accepted by its stage deadline.
    UrgentNotAccepted,
    /// A ticket supervised (督办) twice.
    SupervisedTwice,
    /// An urgent ticket dispatched to a unit whose phone page is not connected: the unit
    /// is told by message (it does not climb; it closes when the ticket is accepted).
    UnitOffline,
}

impl EscalationRule {
    pub fn zh(self) -> &'static str {
        match self {
            EscalationRule::WarningUnacked => "预警未确认",
            EscalationRule::UrgentNotAccepted => "紧急工单超时未签收",
            EscalationRule::SupervisedTwice => "工单两次督办",
            EscalationRule::UnitOffline => "紧急派单时单位终端离线",
        }
    }
}

/// One message sent (or tried) to one person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub at_ms: i64,
    /// The person's id and name, and the role they were told in.
    pub person: String,
    pub name: String,
    pub role: DutyRole,
    /// The channel's name in config (`wecom`, `sms`, …).
    pub channel: String,
    /// 1 for the first try.
    pub attempt: u32,
    /// `None`: delivered (the endpoint said so); else what went wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An escalation: opened by a rule, climbing the duty roles until someone acknowledges it
/// or its cause goes away.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub id: u64,
    pub rule: EscalationRule,
    pub subject: Subject,
    /// The center it belongs to (the subject's district's, or the city's: "").
    pub center: String,
    /// What the messages say, e.g. "红色预警 #12 暴雨内涝 未确认 15 分钟".
    pub title: String,
    pub opened_ms: i64,
    /// The role told last (the climb's step), and when the next round is due.
    pub level: DutyRole,
    pub rounds: u32,
    pub next_ms: i64,
    /// Every message, oldest first.
    pub notices: Vec<Notice>,
    /// Who acknowledged, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_ms: Option<i64>,
    /// Closed: acknowledged, or its cause went away (the reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<String>,
}

/// A hard case (疑难) in a handover, with its meeting if one is set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardCase {
    pub ticket: u64,
    pub title: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<String>,
}

/// A shift handover (交接班), drafted by the gateway at a shift's end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handover {
    pub id: u64,
    pub center: String,
    /// The shift that ended, and its person (outgoing).
    pub shift: u64,
    pub from: String,
    /// The person whose shift in the same role starts then (incoming), if the roster has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub drafted_ms: i64,
    /// Open urgent tickets (ids), unacknowledged warnings (ids), 疑难 cases.
    pub urgent: Vec<u64>,
    pub warnings: Vec<u64>,
    pub hard: Vec<HardCase>,
    /// The shift's significant events, one line each, oldest first.
    pub events: Vec<String>,
    pub figures_start: DutyFigures,
    pub figures_end: DutyFigures,
    /// The outgoing officer's notes.
    #[serde(default)]
    pub notes: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_ms: Option<i64>,
}

/// A notification channel's health: one that keeps failing shows on the wall.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelHealth {
    pub channel: String,
    /// Failures in a row (0: the last send went through).
    pub failures: u32,
    pub at_ms: i64,
    #[serde(default)]
    pub last_error: String,
}

/// How many failures in a row make a channel show as failing.
pub const CHANNEL_FAILING: u32 = 3;

/// The duty room's live state, in every copy of the truth.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Duty {
    pub roster: Roster,
    /// Shifts running now (their start event seen, their end not yet).
    pub on_duty: Vec<u64>,
    /// The figures when each running shift started (by shift id), for its handover.
    #[serde(default)]
    pub started: Vec<(u64, DutyFigures)>,
    /// Open escalations and the last closed ones (`KEEP_CLOSED`), by id.
    pub escalations: Vec<Escalation>,
    /// Unsigned handovers and the last signed ones (`KEEP_CLOSED`).
    pub handovers: Vec<Handover>,
    pub channels: Vec<ChannelHealth>,
    /// The next escalation's or handover's id.
    #[serde(default)]
    pub next_id: u64,
}

/// Closed escalations and signed handovers kept in the live state (older ones are in the log).
pub const KEEP_CLOSED: usize = 50;

impl Duty {
    pub fn escalation(&self, id: u64) -> Option<&Escalation> {
        self.escalations.iter().find(|e| e.id == id)
    }
    pub fn handover(&self, id: u64) -> Option<&Handover> {
        self.handovers.iter().find(|h| h.id == id)
    }
    /// The shifts running now at `center` (exactly that center), in role order.
    pub fn on_duty_at(&self, center: &str) -> Vec<&Shift> {
        let mut v: Vec<&Shift> = self
            .on_duty
            .iter()
            .filter_map(|id| self.roster.shift(*id))
            .filter(|s| s.center == center)
            .collect();
        v.sort_by_key(|s| s.role);
        v
    }
}

/// One change to the duty room: each a whole record after the change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum DutyChange {
    /// A new roster replaces the old one.
    Roster {
        roster: Roster,
    },
    /// A shift started (with the figures then) or ended.
    ShiftStarted {
        shift: Shift,
        figures: DutyFigures,
    },
    ShiftEnded {
        shift: Shift,
    },
    /// A shift's person changed (调班).
    ShiftSwapped {
        shift: Shift,
    },
    Escalation {
        escalation: Escalation,
    },
    Handover {
        handover: Handover,
    },
    Channel {
        health: ChannelHealth,
    },
    /// A message sent or tried for an escalation: a command's form only (the gateway's
    /// notifier sends it); the event it makes carries the escalation with the notice added.
    Notice {
        escalation: u64,
        notice: Notice,
    },
}

impl DutyChange {
    /// The center this change belongs to (None: every center's, e.g. a roster or a channel).
    pub fn center(&self) -> Option<&str> {
        match self {
            DutyChange::ShiftStarted { shift, .. }
            | DutyChange::ShiftEnded { shift }
            | DutyChange::ShiftSwapped { shift } => Some(&shift.center),
            DutyChange::Escalation { escalation } => Some(&escalation.center),
            DutyChange::Handover { handover } => Some(&handover.center),
            DutyChange::Roster { .. } | DutyChange::Channel { .. } | DutyChange::Notice { .. } => {
                None
            }
        }
    }
}
