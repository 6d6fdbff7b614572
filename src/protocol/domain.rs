//! The domain nouns that cross the wire: tickets (工单), warnings (预警), units (联动单位)
//! and the audit trail. Names and lifecycles follow shared/DOMAIN.md.

use serde::{Deserialize, Serialize};

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
    pub fn zh(self) -> &'static str {
        match self {
            Channel::Hotline12345 => "12345热线",
            Channel::Police110 => "110警情",
            Channel::GridApp => "网格上报",
            Channel::Wechat => "微信小程序",
            Channel::WalkIn => "人民来访",
            Channel::Petition => "信访",
            Channel::VideoAi => "视频AI",
            Channel::Department => "部门系统",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Channel::Hotline12345 => "12345",
            Channel::Police110 => "110",
            Channel::GridApp => "Grid app",
            Channel::Wechat => "WeChat",
            Channel::WalkIn => "Walk-in",
            Channel::Petition => "Petition",
            Channel::VideoAi => "Video AI",
            Channel::Department => "Department",
        }
    }
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
    pub fn zh(self) -> &'static str {
        match self {
            Category::Dispute => "矛盾纠纷",
            Category::SafetyHazard => "安全隐患",
            Category::CityManagement => "城市管理",
            Category::Environment => "生态环境",
            Category::PublicOrder => "治安",
            Category::Livelihood => "民生服务",
            Category::Petition => "信访",
            Category::Emergency => "应急",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Category::Dispute => "Dispute",
            Category::SafetyHazard => "Safety hazard",
            Category::CityManagement => "City mgmt",
            Category::Environment => "Environment",
            Category::PublicOrder => "Public order",
            Category::Livelihood => "Livelihood",
            Category::Petition => "Petition",
            Category::Emergency => "Emergency",
        }
    }
}

/// 紧急 / 重要 / 一般. Ordered so that `Urgent` sorts first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Urgent,
    Important,
    Normal,
}

impl Priority {
    pub fn zh(self) -> &'static str {
        match self {
            Priority::Urgent => "紧急",
            Priority::Important => "重要",
            Priority::Normal => "一般",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Priority::Urgent => "Urgent",
            Priority::Important => "Important",
            Priority::Normal => "Normal",
        }
    }
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

impl Level {
    pub fn up(self) -> Option<Level> {
        match self {
            Level::Village => Some(Level::Town),
            Level::Town => Some(Level::County),
            Level::County => Some(Level::City),
            Level::City => None,
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Level::Village => "村级",
            Level::Town => "镇级",
            Level::County => "县级",
            Level::City => "市级",
        }
    }
}

/// A ticket's place in its lifecycle (shared/DOMAIN.md):
/// 受理 → 分拨 → 签收 → 处置中 → 办结 → 回访 → 归档, with 退回 as a side path.
/// Escalation (上报) and supervision (督办) are recorded on the ticket, not as states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Received,
    Assigned,
    Accepted,
    InProgress,
    Returned,
    Resolved,
    Rated,
    Archived,
}

impl TicketStatus {
    /// Still waiting for work: counts as open and can go overdue.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            TicketStatus::Resolved | TicketStatus::Rated | TicketStatus::Archived
        )
    }
    pub fn zh(self) -> &'static str {
        match self {
            TicketStatus::Received => "受理",
            TicketStatus::Assigned => "已分拨",
            TicketStatus::Accepted => "已签收",
            TicketStatus::InProgress => "处置中",
            TicketStatus::Returned => "已退回",
            TicketStatus::Resolved => "已办结",
            TicketStatus::Rated => "已回访",
            TicketStatus::Archived => "已归档",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            TicketStatus::Received => "Received",
            TicketStatus::Assigned => "Assigned",
            TicketStatus::Accepted => "Accepted",
            TicketStatus::InProgress => "In progress",
            TicketStatus::Returned => "Returned",
            TicketStatus::Resolved => "Resolved",
            TicketStatus::Rated => "Rated",
            TicketStatus::Archived => "Archived",
        }
    }
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

impl Stage {
    pub fn zh(self) -> &'static str {
        match self {
            Stage::Accept => "签收",
            Stage::Handle => "处置",
            Stage::Resolve => "办结",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Stage::Accept => "accept",
            Stage::Handle => "handle",
            Stage::Resolve => "resolve",
        }
    }
}

impl Ticket {
    /// The stage the ticket is in and the deadline that counts now: the stage's own while
    /// it is earlier than the resolution deadline, else the resolution deadline. `None`
    /// once resolved.
    pub fn current_deadline(&self) -> Option<(Stage, i64)> {
        if !self.status.is_open() {
            return None;
        }
        let stage = match self.status {
            TicketStatus::Assigned => Some(Stage::Accept),
            TicketStatus::Accepted => Some(Stage::Handle),
            _ => None,
        };
        Some(match (stage, self.stage_deadline_ms) {
            (Some(s), Some(d)) if d < self.deadline_ms => (s, d),
            _ => (Stage::Resolve, self.deadline_ms),
        })
    }

    /// The stages past their deadline at `now_ms` and not yet supervised: what the gateway
    /// supervises on its own. An accepted ticket left idle past its start deadline is one.
    pub fn unsupervised_overdue(&self, now_ms: i64) -> Vec<Stage> {
        let mut out = Vec::new();
        if !self.status.is_open() {
            return out;
        }
        if let Some((s, d)) = self.current_deadline()
            && s != Stage::Resolve
            && d < now_ms
        {
            out.push(s);
        }
        if self.deadline_ms < now_ms {
            out.push(Stage::Resolve);
        }
        out.retain(|s| !self.supervised_stages.contains(s));
        out
    }
}

/// One line of the audit trail (全留痕): every change to a ticket or warning.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The gateway sequence number of the change.
    pub seq: u64,
    pub at_ms: i64,
    /// Who did it: the name bound to the token that sent the command.
    pub actor: String,
    /// What was done, e.g. `dispatch`, `escalate`.
    pub action: String,
    pub from: Option<TicketStatus>,
    pub to: Option<TicketStatus>,
    pub note: String,
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

impl WarningLevel {
    pub fn zh(self) -> &'static str {
        match self {
            WarningLevel::Red => "红色",
            WarningLevel::Orange => "橙色",
            WarningLevel::Yellow => "黄色",
            WarningLevel::Blue => "蓝色",
        }
    }
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
    pub kind: String,
    pub title: String,
    pub grids: Vec<String>,
    pub tickets: Vec<u64>,
    pub raised_ms: i64,
    pub updated_ms: i64,
    /// The task force (专班) assigned, once assigned.
    pub task_force: Option<String>,
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
}

/// What a briefing (联合会商) is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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
