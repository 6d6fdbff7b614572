//! The names a person reads for the wire's enums, in Chinese (the interface's first
//! language) and English: every one of them in this one file (`zh`, `en`), for the wall,
//! the reports, the CAP and Open311 texts alike. The wire carries the snake_case values;
//! a new variant without its names here does not compile.

use crate::{
    AuditAction, Category, Channel, Level, Priority, Stage, TicketStatus, WarningKind,
    WarningLevel, WarningStatus,
};

impl Channel {
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

impl Category {
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

impl Level {
    pub fn zh(self) -> &'static str {
        match self {
            Level::Village => "村级",
            Level::Town => "镇级",
            Level::County => "县级",
            Level::City => "市级",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Level::Village => "Village",
            Level::Town => "Town",
            Level::County => "County",
            Level::City => "City",
        }
    }
}

impl TicketStatus {
    pub fn zh(self) -> &'static str {
        match self {
            TicketStatus::Received => "受理",
            TicketStatus::Assigned => "已分拨",
            TicketStatus::Accepted => "已签收",
            TicketStatus::InProgress => "处置中",
            TicketStatus::Returned => "已退回",
            TicketStatus::Reviewing => "待审核",
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
            TicketStatus::Reviewing => "Under review",
            TicketStatus::Resolved => "Resolved",
            TicketStatus::Rated => "Rated",
            TicketStatus::Archived => "Archived",
        }
    }
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

impl WarningLevel {
    pub fn zh(self) -> &'static str {
        match self {
            WarningLevel::Red => "红色",
            WarningLevel::Orange => "橙色",
            WarningLevel::Yellow => "黄色",
            WarningLevel::Blue => "蓝色",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            WarningLevel::Red => "Red",
            WarningLevel::Orange => "Orange",
            WarningLevel::Yellow => "Yellow",
            WarningLevel::Blue => "Blue",
        }
    }
}

impl WarningStatus {
    pub fn zh(self) -> &'static str {
        match self {
            WarningStatus::Raised => "待签收",
            WarningStatus::Acknowledged => "已签收",
            WarningStatus::TaskForce => "专班处置",
            WarningStatus::Lifted => "已解除",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            WarningStatus::Raised => "raised",
            WarningStatus::Acknowledged => "acknowledged",
            WarningStatus::TaskForce => "task force",
            WarningStatus::Lifted => "lifted",
        }
    }
}

impl AuditAction {
    pub fn zh(self) -> &'static str {
        match self {
            AuditAction::Intake => "受理",
            AuditAction::Dispatch => "分拨",
            AuditAction::Accept => "签收",
            AuditAction::Start => "处置",
            AuditAction::Return => "退回",
            AuditAction::Escalate => "上报",
            AuditAction::Supervise => "督办",
            AuditAction::Resolve => "办结",
            AuditAction::Rate => "回访",
            AuditAction::Close => "归档",
            AuditAction::Merge => "合并",
            AuditAction::Unmerge => "撤销合并",
            AuditAction::Review => "审核",
            AuditAction::Callback => "回访",
            AuditAction::RequestExtension => "延期申请",
            AuditAction::DecideExtension => "延期审批",
            AuditAction::MarkHard => "疑难",
            AuditAction::Suspend => "挂起",
            AuditAction::Release => "解除挂起",
            AuditAction::Place => "定位",
            AuditAction::ScheduleMeeting => "排入协调会",
            AuditAction::MeetingOutcome => "协调会决定",
            AuditAction::Progress => "进展",
        }
    }
}

impl WarningKind {
    pub fn zh(self) -> &'static str {
        match self {
            WarningKind::RepeatedComplaints => "重复诉求",
            WarningKind::GroupDispute => "群体性矛盾",
            WarningKind::ExtremeRisk => "涉个人极端",
            WarningKind::MajorRisk => "重大风险",
            WarningKind::Flood => "暴雨内涝",
            WarningKind::Weather => "气象灾害",
            WarningKind::Crowding => "人员聚集",
            WarningKind::Other => "其他",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            WarningKind::RepeatedComplaints => "repeated complaints",
            WarningKind::GroupDispute => "group dispute",
            WarningKind::ExtremeRisk => "person at risk",
            WarningKind::MajorRisk => "major risk",
            WarningKind::Flood => "flood",
            WarningKind::Weather => "weather",
            WarningKind::Crowding => "crowding",
            WarningKind::Other => "other",
        }
    }
}
