//! The domain nouns that cross the wire: tickets (工单), warnings (预警), units (联动单位)
//! and the audit trail, as plain data. Their rules (lifecycles, deadlines, names) are in
//! `domain`; the words follow shared/DOMAIN.md.

use serde::{Deserialize, Serialize};

use super::codes::{AuditAction, WarningKind};

/// Where a ticket came from (来源).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 12345 government service hotline.
    Hotline12345,
    /// 110 police.
    Police110,
    /// A grid worker's report through the city's app (网格员上报).
    GridApp,
    /// WeChat mini-program.
    Wechat,
    /// Walk-in visit (人民来访).
    WalkIn,
    /// Petition (信访).
    Petition,
    /// Video AI detection.
    VideoAi,
    /// A linked department's own system.
    Department,
}

impl Channel {
    pub const ALL: [Channel; 8] = [
        Channel::Hotline12345,
        Channel::Police110,
        Channel::GridApp,
        Channel::Wechat,
        Channel::WalkIn,
        Channel::Petition,
        Channel::VideoAi,
        Channel::Department,
    ];
}

/// What a ticket is about (类别).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Dispute,
    SafetyHazard,
    CityManagement,
    Environment,
    PublicOrder,
    Livelihood,
    Petition,
    Emergency,
}

impl Category {
    pub const ALL: [Category; 8] = [
        Category::Dispute,
        Category::SafetyHazard,
        Category::CityManagement,
        Category::Environment,
        Category::PublicOrder,
        Category::Livelihood,
        Category::Petition,
        Category::Emergency,
    ];
}

/// 紧急 / 重要 / 一般. Ordered so that `Urgent` sorts first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    Important,
    Normal,
}

/// The administrative level that holds a ticket; escalation (上报) moves it one up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Village,
    Town,
    County,
    City,
}

/// A ticket's place in its lifecycle (shared/DOMAIN.md):
/// 受理 → 分拨 → 签收 → 处置中 → 待审核 → 办结 → 回访 → 归档, with 退回 as a side path and
/// 重办 (a rejected review, an unsatisfied callback) back to 处置中. Escalation (上报),
/// supervision (督办), 疑难, 挂起 and extensions are recorded on the ticket, not as states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Received,
    Assigned,
    Accepted,
    InProgress,
    Returned,
    /// 待审核: the unit reported it resolved; the center checks the result first.
    Reviewing,
    Resolved,
    Rated,
    Archived,
}

/// Is the region (or grid) `id` the region `region` or inside it? Grid ids nest by whole
/// parts (district-town-village-grid): `321102-01-003` is inside `321102-01`,
/// `321102-011` is not. "" holds everything. Every scope (a feed's region, a
/// credential's, a unit's area, the figures') is decided by this.
pub fn within(id: &str, region: &str) -> bool {
    region.is_empty()
        || id == region
        || (id.starts_with(region) && id.as_bytes().get(region.len()) == Some(&b'-'))
}

/// A ticket (工单) as the gateway holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    /// Gateway-assigned, unique for the life of the database.
    pub id: u64,
    pub channel: Channel,
    pub category: Category,
    /// Sub-type within the category, free text (e.g. 邻里纠纷).
    pub subtype: String,
    pub priority: Priority,
    pub status: TicketStatus,
    /// Longitude, WGS84 degrees.
    pub lon: f64,
    /// Latitude, WGS84 degrees.
    pub lat: f64,
    /// The grid (网格) id; hierarchical ids put the district and town first, so a region
    /// scope is a prefix.
    pub grid: String,
    pub title: String,
    pub reporter: String,
    /// Milliseconds since the Unix epoch.
    pub created_ms: i64,
    pub updated_ms: i64,
    /// SLA deadline for resolution, milliseconds since the Unix epoch.
    pub deadline_ms: i64,
    /// The level that holds the ticket now.
    pub level: Level,
    /// The unit it is assigned to, if any.
    pub unit: Option<String>,
    /// Under supervision (督办).
    pub supervised: bool,
    /// The level it was resolved at, once resolved.
    pub resolved_level: Option<Level>,
    /// Follow-up rating (回访): satisfied or not.
    pub satisfied: Option<bool>,
    /// When it was resolved (办结), once resolved: the on-time rate compares it with
    /// `deadline_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_ms: Option<i64>,
    /// The deadline of the current stage, while it has one: 签收 (accept) while assigned,
    /// 处置 (start work) while accepted. The resolution deadline is `deadline_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_deadline_ms: Option<i64>,
    /// The stages already put under supervision (督办), each at most once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supervised_stages: Vec<Stage>,
    /// Merged as a duplicate into this ticket (合并): it follows that ticket's workflow and
    /// is not counted in the figures on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<u64>,
    /// 诉求内容: the citizen's words as taken in (up to 4,000 characters; "" for tickets
    /// of the first waves, whose title was all they had).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content: String,
    /// The address as given (地址), if one was.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// The center's workflow around the unit: review, callbacks, extensions, 疑难, 挂起.
    /// Boxed: most tickets never need it, and every event carries a ticket by value.
    #[serde(default, skip_serializing_if = "Workflow::is_default_boxed")]
    pub work: Box<Workflow>,
}

/// What the center's workflow has recorded on a ticket. In JSON an unset field is left
/// out (most tickets carry only `sla_ms`); a compact row carries every field
/// (`compact::WorkRow`: postcard has no names to skip by).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    /// Times sent back to its unit (重办): a rejected review or an unsatisfied callback.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub rework: u32,
    /// 疑难: a hard case, with the reason it was marked (by the center, or by a second
    /// reopening).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hard: Option<String>,
    /// 挂起: suspended since then; its deadline clock stands still until released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended_since_ms: Option<i64>,
    /// Time spent suspended before the current suspension, ms.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub suspended_total_ms: i64,
    /// 延期申请: more time the unit asked for, waiting for the center.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_asked: Option<ExtensionAsk>,
    /// Extensions approved (each moved the deadline).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub extensions: u32,
    /// The last callback's result (回访).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackResult>,
    /// Callbacks that reached the citizen, and of them 满意 or 基本满意 (满意率 counts
    /// callbacks, not tickets).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub callbacks_reached: u32,
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub callbacks_satisfied: u32,
    /// Callbacks that did not get through (未接通): counted apart, retried.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub unreached: u32,
    /// The resolution time the ticket was given at intake, ms: a 重办 restarts its
    /// deadline by this much (0 for tickets of the first waves: deadline - intake then).
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub sla_ms: i64,
    /// 疑难工单处置协调会: the meeting a hard case is put to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meeting: Option<Meeting>,
    /// Photos from the field (the phone page), in the order they came.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub photos: Vec<crate::PhotoRef>,
}

/// A coordination meeting (协调会): when, and what it is called. Its tickets are those
/// put to it; what it decided for each is that ticket's `meeting_outcome` in the trail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meeting {
    pub at_ms: i64,
    pub title: String,
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

impl Workflow {
    pub fn is_default(&self) -> bool {
        *self == Workflow::default()
    }

    #[allow(clippy::borrowed_box)] // serde's skip_serializing_if hands the field as it is
    pub fn is_default_boxed(w: &Box<Workflow>) -> bool {
        w.is_default()
    }
}

/// An extension asked for: until when, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionAsk {
    pub until_ms: i64,
    pub reason: String,
}

/// What a callback (回访) found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum CallbackResult {
    /// 满意
    Satisfied,
    /// 基本满意
    BasicallySatisfied,
    /// 不满意: the ticket is reopened to its unit (重办).
    Unsatisfied,
    /// 未接通: the call did not reach the citizen; retried, counted apart.
    Unreached,
}

impl CallbackResult {
    pub const ALL: [CallbackResult; 4] = [
        CallbackResult::Satisfied,
        CallbackResult::BasicallySatisfied,
        CallbackResult::Unsatisfied,
        CallbackResult::Unreached,
    ];

    pub fn zh(self) -> &'static str {
        match self {
            CallbackResult::Satisfied => "满意",
            CallbackResult::BasicallySatisfied => "基本满意",
            CallbackResult::Unsatisfied => "不满意",
            CallbackResult::Unreached => "未接通",
        }
    }
}

/// A stage of a ticket with a deadline of its own (分段时限): the unit must accept (签收),
/// then start work (处置), then resolve (办结) in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Accept,
    Handle,
    Resolve,
}

/// One line of the audit trail (全留痕): every change to a ticket or warning.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The gateway sequence number of the change.
    pub seq: u64,
    pub at_ms: i64,
    /// Who did it: the name bound to the token that sent the command.
    pub actor: String,
    /// What was done.
    pub action: AuditAction,
    pub from: Option<TicketStatus>,
    pub to: Option<TicketStatus>,
    pub note: String,
    /// The unit the entry concerns: the one dispatched to (`dispatch`), or the one that
    /// gave the ticket back (`return`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Sent from the field (the phone page): where, when by the phone, which photos.
    /// Boxed: most entries have none, and every ticket event carries one entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<Box<crate::FieldMark>>,
}

/// 红 I > 橙 II > 黄 III > 蓝 IV. Ordered so that `Red` sorts first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum WarningLevel {
    Red,
    Orange,
    Yellow,
    Blue,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningStatus {
    Raised,
    Acknowledged,
    TaskForce,
    Lifted,
}

/// A warning (预警) raised by analysis, rules, a department or video AI.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    pub id: u64,
    pub level: WarningLevel,
    pub status: WarningStatus,
    pub kind: WarningKind,
    pub title: String,
    pub grids: Vec<String>,
    pub tickets: Vec<u64>,
    pub raised_ms: i64,
    pub updated_ms: i64,
    /// The task force (专班) assigned, once assigned.
    pub task_force: Option<String>,
    /// The CAP alerts it comes from (`sender,identifier,sent`), the raising one first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_refs: Vec<String>,
    /// When it expires, ms since the epoch (CAP `expires`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_ms: Option<i64>,
    /// What happened to it after it was raised, oldest first: updates, acknowledgement,
    /// task force, lifting (the last 50).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trail: Vec<WarningStep>,
}

/// One change of a warning: when, by whom, what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarningStep {
    pub at_ms: i64,
    pub by: String,
    pub what: String,
}

/// What kind of linked unit (联动单位) this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Police,
    CityManagement,
    EmergencyManagement,
    Environment,
    Labour,
    Water,
    Power,
    JusticeOffice,
    PetitionBureau,
    MarketRegulation,
    TownCenter,
    GridWorker,
    Mediator,
}

/// A linked unit that tickets are dispatched to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unit {
    pub id: String,
    pub name: String,
    pub kind: UnitKind,
    /// The region it answers for, as a grid-id prefix ("" = the whole city).
    pub area: String,
    /// The categories it handles.
    pub categories: Vec<Category>,
    pub lon: f64,
    pub lat: f64,
    pub on_duty: bool,
    /// A mobile number for messages when its phone page is not connected (an urgent
    /// dispatch by SMS or a robot's @-mention); empty: none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub phone: String,
}

/// What a briefing (联合会商) is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Incident {
    Ticket { id: u64 },
    Warning { id: u64 },
}

/// The briefing every wall shows while one runs: its incident and the audit entries a
/// duty officer promoted to the "significant events" lane, in the order promoted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Briefing {
    pub incident: Incident,
    /// The incident's title, tickets and grids as they were when the briefing started
    /// (a warning may be lifted while its briefing goes on).
    pub title: String,
    #[serde(default)]
    pub tickets: Vec<u64>,
    #[serde(default)]
    pub grids: Vec<String>,
    /// Audit entries (by their `seq`) in the significant-events lane.
    #[serde(default)]
    pub significant: Vec<u64>,
    pub started_ms: i64,
    /// Who started it.
    pub by: String,
}

impl Level {
    /// The level above, where escalation (上报) takes a ticket.
    pub fn up(self) -> Option<Level> {
        match self {
            Level::Village => Some(Level::Town),
            Level::Town => Some(Level::County),
            Level::County => Some(Level::City),
            Level::City => None,
        }
    }
}

impl TicketStatus {
    /// Not yet 办结: counts as open (在办). A ticket under review (待审核) is open: the
    /// center has not accepted the result yet.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            TicketStatus::Resolved | TicketStatus::Rated | TicketStatus::Archived
        )
    }

    /// In its unit's hands (分拨 to 处置中, or back at the center after a return): the
    /// states whose deadline can pass (超期). Under review it waits for the center.
    pub fn with_unit(self) -> bool {
        self.is_open() && self != TicketStatus::Reviewing
    }
}
