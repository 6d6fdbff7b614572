//! Client → gateway messages: the hello that opens a session, and commands.

use serde::{Deserialize, Serialize};

use super::codes::{AuditAction, WarningKind};
use super::records::{Category, Channel, Priority, Unit, WarningLevel};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// The first frame of every connection.
    Hello(Hello),
    /// A command; the gateway answers with a `command_result` carrying the same key.
    Command {
        /// Made by the client, unique per intended effect: the gateway applies a key once
        /// and answers every repeat with the first result.
        key: String,
        command: Command,
    },
    /// Ask for a ticket's whole audit trail; answered with an `audit` message.
    AuditQuery { ticket: u64 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// Must equal the gateway's `PROTOCOL_VERSION`.
    pub protocol: u32,
    pub token: String,
    /// Where the client's mirror stopped; absent for a fresh snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume_from: Option<Resume>,
    /// Scope the feed to tickets whose grid id starts with this prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A rewind instead of the live feed: the gateway replays its own log on this
    /// connection (read-only, with `replay` badges), from `from_ms` at `speed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewind: Option<RewindAsk>,
    /// How the snapshot comes: `json` (the default) or `compact` (binary frames,
    /// `protocol::compact`). Everything else is JSON either way.
    #[serde(default, skip_serializing_if = "is_json")]
    pub encoding: super::compact::Encoding,
}

fn is_json(e: &super::compact::Encoding) -> bool {
    *e == super::compact::Encoding::Json
}

/// What a rewind asks for: where in the past to start, and how fast to play it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewindAsk {
    /// Milliseconds since the Unix epoch; what comes before is applied at once.
    pub from_ms: i64,
    /// Recorded seconds per real second (1 to 3,600).
    pub speed: f64,
}

/// A position in a gateway's log: the log's epoch and a sequence number in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    pub epoch: String,
    pub seq: u64,
}

/// Everything a wall, a console or a simulator may ask the gateway to do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Take in a new ticket (the same as `POST /api/tickets`).
    Intake { ticket: NewTicket },
    /// 分拨/交办: assign to a unit.
    Dispatch { ticket: u64, unit: String },
    /// 签收: the unit accepts.
    Accept { ticket: u64 },
    /// 处置: the unit starts work.
    Start { ticket: u64 },
    /// 退回: the unit returns it (wrong jurisdiction); it waits to be re-assigned.
    Return { ticket: u64, reason: String },
    /// 上报: move it one level up; it waits to be assigned there.
    Escalate { ticket: u64, reason: String },
    /// 督办: put it under supervision.
    Supervise {
        ticket: u64,
        note: String,
        /// The overdue stage this supervises; each stage is supervised at most once.
        /// `None`: a leader's attention, at any time.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<super::Stage>,
    },
    /// 进展: a unit's note from the scene (what it found, what it is doing); the status
    /// stays as it is.
    Progress { ticket: u64, note: String },
    /// 办结: the unit reports it resolved (待审核 where the center reviews that level).
    Resolve { ticket: u64, note: String },
    /// 审核: the center accepts a unit's result (办结) or sends it back (重办, with the
    /// reason; its deadline restarts).
    Review {
        ticket: u64,
        approve: bool,
        #[serde(default)]
        note: String,
    },
    /// 回访: the follow-up call: who called, what it found, the citizen's words. 不满意
    /// reopens the ticket to its unit (重办).
    Callback {
        ticket: u64,
        result: super::CallbackResult,
        #[serde(default)]
        words: String,
    },
    /// 延期申请: the unit asks for more time, until `until_ms`.
    RequestExtension {
        ticket: u64,
        until_ms: i64,
        reason: String,
    },
    /// The center approves the extension asked for (the deadline moves) or refuses it.
    DecideExtension {
        ticket: u64,
        approve: bool,
        #[serde(default)]
        note: String,
    },
    /// 疑难: the center marks a hard case (its own board, out of the ordinary queue).
    MarkHard { ticket: u64, reason: String },
    /// 挂起: the deadline clock stops (a coordination meeting, a court, a season).
    Suspend { ticket: u64, reason: String },
    /// The clock goes on: the deadline moves by the time suspended.
    Release { ticket: u64 },
    /// 协调会: put a hard case (疑难) to a coordination meeting.
    ScheduleMeeting {
        ticket: u64,
        at_ms: i64,
        title: String,
    },
    /// What the meeting decided for the case: the units present, a lead unit and a new
    /// deadline (it goes back to the ordinary queue under them), or 办结 there.
    MeetingOutcome {
        ticket: u64,
        #[serde(default)]
        units_present: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lead_unit: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline_ms: Option<i64>,
        #[serde(default)]
        resolved: bool,
        #[serde(default)]
        note: String,
    },
    /// 定位: put a ticket on its grid and position (one taken in by address alone, 待定位,
    /// or one placed wrongly).
    Place {
        ticket: u64,
        grid: String,
        lon: f64,
        lat: f64,
    },
    /// 回访: the follow-up call's verdict.
    Rate { ticket: u64, satisfied: bool },
    /// 归档: close the ticket.
    Close { ticket: u64 },
    /// 合并: `ticket` reports the same matter as `into` (another channel, the same place,
    /// the same kind): it follows `into`'s workflow and the figures count the matter once.
    Merge { ticket: u64, into: u64 },
    /// 撤销合并: `ticket` stands on its own again.
    Unmerge { ticket: u64 },
    /// Raise a warning (rules, analysis, departments).
    RaiseWarning { warning: NewWarning },
    /// 签收 a warning.
    AckWarning { warning: u64 },
    /// Assign a task force (专班) to a warning.
    AssignTaskForce { warning: u64, team: String },
    /// Lift a warning.
    LiftWarning { warning: u64, note: String },
    /// Change a live warning in place (a CAP `Update`): level, kind, title, area and expiry
    /// from `update`, its CAP references added; its id, acknowledgement, task force and
    /// tickets stay.
    UpdateWarning {
        warning: u64,
        update: NewWarning,
        #[serde(default)]
        note: String,
    },
    /// Register or replace a unit (admin).
    UpsertUnit { unit: Unit },
    /// Put a unit on or off duty.
    SetUnitDuty { unit: String, on_duty: bool },
    /// 联合会商: every wall turns to this incident (a briefing already running is
    /// replaced).
    StartBriefing { incident: super::Incident },
    /// Put an audit entry of the incident in the significant-events lane, or take it out.
    Promote { seq: u64, significant: bool },
    /// End the briefing: every wall goes back.
    EndBriefing,
    /// 值班表: replace the roster (admin; `yiping roster import`). Shift ids are given
    /// by the gateway (leave them 0).
    SetRoster { roster: super::Roster },
    /// 调班: another person takes a shift (same role, same center).
    SwapShift { shift: u64, person: String },
    /// Acknowledge an escalation (from the wall, the console or the link in its message):
    /// it stops climbing.
    AckEscalation { escalation: u64 },
    /// The outgoing officer's notes on a handover (replacing earlier notes).
    AnnotateHandover { handover: u64, notes: String },
    /// The incoming officer signs a handover (交接签字).
    SignHandover { handover: u64 },
    /// The gateway's own duty engine records a change (a shift starting or ending, an
    /// escalation climbing, a message sent, a channel's health). Refused from any
    /// credential: only the gateway sends it.
    DutyRecord { change: Box<super::DutyChange> },
}

impl Command {
    /// The ticket a ticket command acts on (`None` for the others).
    pub fn ticket(&self) -> Option<u64> {
        match self {
            Command::Dispatch { ticket, .. }
            | Command::Accept { ticket }
            | Command::Start { ticket }
            | Command::Return { ticket, .. }
            | Command::Escalate { ticket, .. }
            | Command::Supervise { ticket, .. }
            | Command::Resolve { ticket, .. }
            | Command::Progress { ticket, .. }
            | Command::Rate { ticket, .. }
            | Command::Close { ticket }
            | Command::Merge { ticket, .. }
            | Command::Unmerge { ticket }
            | Command::Review { ticket, .. }
            | Command::Callback { ticket, .. }
            | Command::RequestExtension { ticket, .. }
            | Command::DecideExtension { ticket, .. }
            | Command::MarkHard { ticket, .. }
            | Command::Suspend { ticket, .. }
            | Command::Release { ticket }
            | Command::Place { ticket, .. }
            | Command::ScheduleMeeting { ticket, .. }
            | Command::MeetingOutcome { ticket, .. } => Some(*ticket),
            _ => None,
        }
    }

    /// The audit action a ticket command writes (`None` for the others).
    pub fn audit_action(&self) -> Option<AuditAction> {
        Some(match self {
            Command::Intake { .. } => AuditAction::Intake,
            Command::Dispatch { .. } => AuditAction::Dispatch,
            Command::Accept { .. } => AuditAction::Accept,
            Command::Start { .. } => AuditAction::Start,
            Command::Return { .. } => AuditAction::Return,
            Command::Escalate { .. } => AuditAction::Escalate,
            Command::Supervise { .. } => AuditAction::Supervise,
            Command::Resolve { .. } => AuditAction::Resolve,
            Command::Progress { .. } => AuditAction::Progress,
            Command::Rate { .. } => AuditAction::Rate,
            Command::Close { .. } => AuditAction::Close,
            Command::Merge { .. } => AuditAction::Merge,
            Command::Unmerge { .. } => AuditAction::Unmerge,
            Command::Review { .. } => AuditAction::Review,
            Command::Callback { .. } => AuditAction::Callback,
            Command::RequestExtension { .. } => AuditAction::RequestExtension,
            Command::DecideExtension { .. } => AuditAction::DecideExtension,
            Command::MarkHard { .. } => AuditAction::MarkHard,
            Command::Suspend { .. } => AuditAction::Suspend,
            Command::Release { .. } => AuditAction::Release,
            Command::Place { .. } => AuditAction::Place,
            Command::ScheduleMeeting { .. } => AuditAction::ScheduleMeeting,
            Command::MeetingOutcome { .. } => AuditAction::MeetingOutcome,
            _ => return None,
        })
    }

    /// Short name, used in errors and logs (the `op` on the wire).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Intake { .. } => "intake",
            Command::Dispatch { .. } => "dispatch",
            Command::Accept { .. } => "accept",
            Command::Start { .. } => "start",
            Command::Return { .. } => "return",
            Command::Escalate { .. } => "escalate",
            Command::Supervise { .. } => "supervise",
            Command::Resolve { .. } => "resolve",
            Command::Progress { .. } => "progress",
            Command::Rate { .. } => "rate",
            Command::Close { .. } => "close",
            Command::Merge { .. } => "merge",
            Command::Unmerge { .. } => "unmerge",
            Command::Review { .. } => "review",
            Command::Callback { .. } => "callback",
            Command::RequestExtension { .. } => "request_extension",
            Command::DecideExtension { .. } => "decide_extension",
            Command::MarkHard { .. } => "mark_hard",
            Command::Suspend { .. } => "suspend",
            Command::Release { .. } => "release",
            Command::Place { .. } => "place",
            Command::ScheduleMeeting { .. } => "schedule_meeting",
            Command::MeetingOutcome { .. } => "meeting_outcome",
            Command::RaiseWarning { .. } => "raise_warning",
            Command::AckWarning { .. } => "ack_warning",
            Command::AssignTaskForce { .. } => "assign_task_force",
            Command::LiftWarning { .. } => "lift_warning",
            Command::UpdateWarning { .. } => "update_warning",
            Command::UpsertUnit { .. } => "upsert_unit",
            Command::SetUnitDuty { .. } => "set_unit_duty",
            Command::StartBriefing { .. } => "start_briefing",
            Command::Promote { .. } => "promote",
            Command::EndBriefing => "end_briefing",
            Command::SetRoster { .. } => "set_roster",
            Command::SwapShift { .. } => "swap_shift",
            Command::AckEscalation { .. } => "ack_escalation",
            Command::AnnotateHandover { .. } => "annotate_handover",
            Command::SignHandover { .. } => "sign_handover",
            Command::DutyRecord { .. } => "duty_record",
        }
    }
}

/// A ticket as it is taken in: the gateway assigns id, status, times and level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    pub channel: Channel,
    pub category: Category,
    #[serde(default)]
    pub subtype: String,
    pub priority: Priority,
    pub lon: f64,
    pub lat: f64,
    pub grid: String,
    pub title: String,
    #[serde(default)]
    pub reporter: String,
    /// 诉求内容: the citizen's words (up to 4,000 characters).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content: String,
    /// The address as given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// Minutes from intake to the resolution deadline; the gateway's default SLA for the
    /// priority when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_minutes: Option<u32>,
    /// Intake time in ms since the epoch; now when absent (simulators and replays set it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_ms: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWarning {
    pub level: WarningLevel,
    pub kind: WarningKind,
    pub title: String,
    /// Where: grids, or whole regions (a district, town or village id stands for all its
    /// grids); none is the whole city.
    #[serde(default)]
    pub grids: Vec<String>,
    #[serde(default)]
    pub tickets: Vec<u64>,
    /// The CAP alerts it comes from, as their issuers name them (`sender,identifier,sent`):
    /// an `Update` or `Cancel` that references any of them finds it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_refs: Vec<String>,
    /// When it expires (CAP `expires`), ms since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<i64>,
}
