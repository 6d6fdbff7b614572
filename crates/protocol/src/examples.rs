//! One example of every message, used by the round-trip tests and by
//! `yiping protocol-examples`, which prints the JSON that PROTOCOL.md shows (a test holds
//! PROTOCOL.md to it).

use super::*;

/// Every example as PROTOCOL.md's "Every message" section shows it.
pub fn markdown() -> String {
    fn pretty<T: serde::Serialize>(m: &T) -> String {
        serde_json::to_string_pretty(m).unwrap_or_default()
    }
    let mut out = String::new();
    for (name, m) in client_messages() {
        out += &format!(
            "### client → gateway: {name}\n```json\n{}\n```\n\n",
            pretty(&m)
        );
    }
    for (name, m) in server_messages() {
        out += &format!(
            "### gateway → client: {name}\n```json\n{}\n```\n\n",
            pretty(&m)
        );
    }
    out
}

pub fn ticket() -> Ticket {
    Ticket {
        id: 1024,
        channel: Channel::Hotline12345,
        category: Category::Dispute,
        subtype: "邻里纠纷".into(),
        priority: Priority::Important,
        status: TicketStatus::Assigned,
        lon: 119.455,
        lat: 32.204,
        grid: "321102-01-003-005".into(),
        title: "楼上装修噪音扰民".into(),
        reporter: "陈女士".into(),
        created_ms: 1_795_000_000_000,
        updated_ms: 1_795_000_060_000,
        deadline_ms: 1_795_086_400_000,
        level: Level::Village,
        unit: Some("U-321102-01-mediator".into()),
        supervised: false,
        resolved_level: None,
        satisfied: None,
        resolved_ms: None,
        stage_deadline_ms: Some(1_795_008_700_000),
        supervised_stages: vec![],
        merged_into: None,
        content: "楼上住户每天晚上十点后还在装修，电钻声持续到十一点，已多次沟通无果，孩子无法休息，请求社区协调。".into(),
        address: "京口区大港街道港南路18号3幢".into(),
        work: Box::new(crate::Workflow {
            sla_ms: 86_400_000,
            ..Default::default()
        }),
    }
}

pub fn audit() -> AuditEntry {
    AuditEntry {
        seq: 88,
        at_ms: 1_795_000_060_000,
        actor: "值班员 王磊".into(),
        action: AuditAction::Dispatch,
        from: Some(TicketStatus::Received),
        to: Some(TicketStatus::Assigned),
        note: "大港街道调解员".into(),
        unit: Some("U-321102-01-mediator".into()),
        field: None,
    }
}

pub fn warning() -> Warning {
    Warning {
        id: 7,
        level: WarningLevel::Orange,
        status: WarningStatus::Raised,
        kind: crate::WarningKind::RepeatedComplaints,
        title: "同一网格24小时内重复投诉5起".into(),
        grids: vec!["321102-01-003-005".into()],
        tickets: vec![1020, 1021, 1024],
        raised_ms: 1_795_000_100_000,
        updated_ms: 1_795_000_100_000,
        task_force: None,
        cap_refs: vec![],
        expires_ms: None,
        trail: vec![],
    }
}

pub fn unit() -> Unit {
    Unit {
        id: "U-321102-01-mediator".into(),
        name: "大港街道调解员".into(),
        kind: UnitKind::Mediator,
        area: "321102-01".into(),
        categories: vec![Category::Dispute],
        lon: 119.46,
        lat: 32.2,
        on_duty: true,
        phone: String::new(),
    }
}

pub fn new_ticket() -> NewTicket {
    NewTicket {
        channel: Channel::GridApp,
        category: Category::SafetyHazard,
        subtype: "消防通道堵塞".into(),
        priority: Priority::Urgent,
        lon: 119.43,
        lat: 32.19,
        grid: "321102-01-003-005".into(),
        title: "小区消防通道被车辆堵塞".into(),
        reporter: "网格员 李娟".into(),
        content: "港南路18号小区东门消防通道长期停放私家车，消防车无法通行，请尽快处理。".into(),
        address: "京口区大港街道港南路18号".into(),
        sla_minutes: Some(120),
        created_ms: None,
    }
}

/// Every client message, named.
pub fn client_messages() -> Vec<(&'static str, ClientMsg)> {
    let cmd = |key: &str, command: Command| ClientMsg::Command {
        key: key.into(),
        command,
    };
    vec![
        (
            "hello",
            ClientMsg::Hello(Hello {
                protocol: PROTOCOL_VERSION,
                token: "wall-token".into(),
                resume_from: Some(Resume {
                    epoch: "e3b0c44298fc1c14".into(),
                    seq: 88,
                }),
                region: Some("321102".into()),
                rewind: None,
                encoding: super::compact::Encoding::Compact,
            }),
        ),
        (
            "hello asking for a rewind (the gateway replays its own log on this connection)",
            ClientMsg::Hello(Hello {
                protocol: PROTOCOL_VERSION,
                token: "wall-token".into(),
                resume_from: None,
                region: None,
                rewind: Some(super::RewindAsk {
                    from_ms: 1_767_225_600_000,
                    speed: 30.0,
                }),
                encoding: Default::default(),
            }),
        ),
        ("audit_query", ClientMsg::AuditQuery { ticket: 1024 }),
        (
            "intake",
            cmd(
                "k-1",
                Command::Intake {
                    ticket: new_ticket(),
                },
            ),
        ),
        (
            "dispatch",
            cmd(
                "k-2",
                Command::Dispatch {
                    ticket: 1024,
                    unit: "U-321102-01-mediator".into(),
                },
            ),
        ),
        ("accept", cmd("k-3", Command::Accept { ticket: 1024 })),
        ("start", cmd("k-4", Command::Start { ticket: 1024 })),
        (
            "progress (a unit's note from the scene; from the phone page with its field mark, `POST /api/commands`)",
            cmd(
                "k-4p",
                Command::Progress {
                    ticket: 1024,
                    note: "已到现场，设置围挡".into(),
                },
            ),
        ),
        (
            "return",
            cmd(
                "k-5",
                Command::Return {
                    ticket: 1024,
                    reason: "不属本辖区".into(),
                },
            ),
        ),
        (
            "escalate",
            cmd(
                "k-6",
                Command::Escalate {
                    ticket: 1024,
                    reason: "涉及多个部门".into(),
                },
            ),
        ),
        (
            "supervise",
            cmd(
                "k-7",
                Command::Supervise {
                    ticket: 1024,
                    note: "超期未签收".into(),
                    stage: Some(Stage::Accept),
                },
            ),
        ),
        (
            "resolve",
            cmd(
                "k-8",
                Command::Resolve {
                    ticket: 1024,
                    note: "双方达成调解协议".into(),
                },
            ),
        ),
        (
            "review (the center sends a result back: 重办)",
            cmd(
                "k-8r",
                Command::Review {
                    ticket: 1024,
                    approve: false,
                    note: "未附调解协议书，请补充后再报".into(),
                },
            ),
        ),
        (
            "review (approved: 办结)",
            cmd(
                "k-8a",
                Command::Review {
                    ticket: 1024,
                    approve: true,
                    note: String::new(),
                },
            ),
        ),
        (
            "callback",
            cmd(
                "k-9c",
                Command::Callback {
                    ticket: 1024,
                    result: crate::CallbackResult::BasicallySatisfied,
                    words: "噪音问题解决了，就是处理慢了点".into(),
                },
            ),
        ),
        (
            "request_extension",
            cmd(
                "k-8e",
                Command::RequestExtension {
                    ticket: 1024,
                    until_ms: 1_795_345_600_000,
                    reason: "需等待物业提供监控录像".into(),
                },
            ),
        ),
        (
            "decide_extension",
            cmd(
                "k-8d",
                Command::DecideExtension {
                    ticket: 1024,
                    approve: true,
                    note: String::new(),
                },
            ),
        ),
        (
            "mark_hard",
            cmd(
                "k-8h",
                Command::MarkHard {
                    ticket: 1024,
                    reason: "涉及多个部门职责交叉，提交疑难工单协调会".into(),
                },
            ),
        ),
        (
            "suspend",
            cmd(
                "k-8s",
                Command::Suspend {
                    ticket: 1024,
                    reason: "等待法院判决".into(),
                },
            ),
        ),
        ("release", cmd("k-8x", Command::Release { ticket: 1024 })),
        (
            "schedule_meeting (a hard case to the month's coordination meeting)",
            cmd(
                "k-8m",
                Command::ScheduleMeeting {
                    ticket: 1024,
                    at_ms: 1_795_600_800_000,
                    title: "十二月疑难工单处置协调会".into(),
                },
            ),
        ),
        (
            "meeting_outcome",
            cmd(
                "k-8o",
                Command::MeetingOutcome {
                    ticket: 1024,
                    units_present: vec!["U-321102-01-mediator".into(), "U-321102-cg".into()],
                    lead_unit: Some("U-321102-cg".into()),
                    deadline_ms: Some(1_796_205_600_000),
                    resolved: false,
                    note: "城管牵头，街道配合，两周内拆除".into(),
                },
            ),
        ),
        (
            "place (a ticket taken in by its address alone: 待定位)",
            cmd(
                "k-8p",
                Command::Place {
                    ticket: 1026,
                    grid: "321102-01-003-005".into(),
                    lon: 119.495,
                    lat: 32.192,
                },
            ),
        ),
        (
            "rate (the first waves' callback: satisfied or not)",
            cmd(
                "k-9",
                Command::Rate {
                    ticket: 1024,
                    satisfied: true,
                },
            ),
        ),
        ("close", cmd("k-10", Command::Close { ticket: 1024 })),
        (
            "merge (the same matter reported again: 1025 follows 1024)",
            cmd(
                "k-10m",
                Command::Merge {
                    ticket: 1025,
                    into: 1024,
                },
            ),
        ),
        ("unmerge", cmd("k-10u", Command::Unmerge { ticket: 1025 })),
        (
            "raise_warning",
            cmd(
                "k-11",
                Command::RaiseWarning {
                    warning: NewWarning {
                        level: WarningLevel::Red,
                        kind: crate::WarningKind::GroupDispute,
                        title: "工地欠薪群体性纠纷苗头".into(),
                        grids: vec!["321102-01-003-005".into()],
                        tickets: vec![1024],
                        cap_refs: vec![],
                        expires_ms: None,
                    },
                },
            ),
        ),
        (
            "ack_warning",
            cmd("k-12", Command::AckWarning { warning: 7 }),
        ),
        (
            "assign_task_force",
            cmd(
                "k-13",
                Command::AssignTaskForce {
                    warning: 7,
                    team: "欠薪处置专班".into(),
                },
            ),
        ),
        (
            "lift_warning",
            cmd(
                "k-14",
                Command::LiftWarning {
                    warning: 7,
                    note: "工资已结清".into(),
                },
            ),
        ),
        (
            "update_warning (a CAP Update: the same warning, a wider area, a higher level)",
            cmd(
                "k-14u",
                Command::UpdateWarning {
                    warning: 9,
                    update: NewWarning {
                        level: WarningLevel::Red,
                        kind: crate::WarningKind::Flood,
                        title: "暴雨红色预警".into(),
                        grids: vec!["321102".into(), "321111-02".into()],
                        tickets: vec![],
                        cap_refs: vec![
                            "32110041600000,32110041600000_20260701100000_2,2026-07-01T10:00:00+08:00"
                                .into(),
                        ],
                        expires_ms: Some(1_795_021_600_000),
                    },
                    note: "CAP Update".into(),
                },
            ),
        ),
        (
            "upsert_unit",
            cmd("k-15", Command::UpsertUnit { unit: unit() }),
        ),
        (
            "set_unit_duty",
            cmd(
                "k-16",
                Command::SetUnitDuty {
                    unit: "U-321102-01-mediator".into(),
                    on_duty: false,
                },
            ),
        ),
        (
            "start_briefing",
            cmd(
                "k-17",
                Command::StartBriefing {
                    incident: Incident::Warning { id: 7 },
                },
            ),
        ),
        (
            "promote",
            cmd(
                "k-18",
                Command::Promote {
                    seq: 88,
                    significant: true,
                },
            ),
        ),
        ("end_briefing", cmd("k-19", Command::EndBriefing)),
    ]
    .into_iter()
    .chain(crate::duty_examples::client(cmd))
    .collect()
}

/// A briefing on the example warning with one significant entry.
pub fn briefing() -> Briefing {
    Briefing {
        incident: Incident::Warning { id: 7 },
        title: "工地欠薪群体性纠纷苗头".into(),
        tickets: vec![1024],
        grids: vec!["321102-01-003-005".into()],
        significant: vec![88],
        started_ms: 1_795_000_100_000,
        by: "值班长 赵敏".into(),
    }
}

/// Every server message, named.
pub fn server_messages() -> Vec<(&'static str, ServerMsg)> {
    let epoch = || "e3b0c44298fc1c14".to_string();
    let delta = |seq: u64, event: Event| ServerMsg::Delta {
        epoch: epoch(),
        seq,
        ts_us: 1_795_000_060_000_123,
        event,
    };
    let mut created = ticket();
    created.status = TicketStatus::Received;
    created.unit = None;
    let mut acked = warning();
    acked.status = WarningStatus::Acknowledged;
    vec![
        (
            "snapshot",
            ServerMsg::Snapshot(Snapshot {
                epoch: epoch(),
                seq: 88,
                part: 0,
                last: true,
                tickets: vec![ticket()],
                warnings: vec![warning()],
                units: vec![unit()],
                briefing: None,
                duty: None,
            }),
        ),
        (
            "delta ticket_created",
            delta(
                87,
                Event::TicketCreated {
                    ticket: created,
                    audit: AuditEntry {
                        seq: 87,
                        action: AuditAction::Intake,
                        from: None,
                        to: Some(TicketStatus::Received),
                        note: String::new(),
                        unit: None,
                        ..audit()
                    },
                },
            ),
        ),
        (
            "delta ticket_transitioned",
            delta(
                88,
                Event::TicketTransitioned {
                    ticket: ticket(),
                    audit: audit(),
                },
            ),
        ),
        (
            "delta ticket_updated",
            delta(
                89,
                Event::TicketUpdated {
                    ticket: Ticket {
                        supervised: true,
                        ..ticket()
                    },
                    audit: AuditEntry {
                        seq: 89,
                        action: AuditAction::Supervise,
                        from: Some(TicketStatus::Assigned),
                        to: Some(TicketStatus::Assigned),
                        note: "超期未签收".into(),
                        unit: None,
                        ..audit()
                    },
                },
            ),
        ),
        (
            "delta warning_raised",
            delta(90, Event::WarningRaised { warning: warning() }),
        ),
        (
            "delta warning_acknowledged",
            delta(91, Event::WarningAcknowledged { warning: acked }),
        ),
        (
            "delta warning_task_force",
            delta(
                92,
                Event::WarningTaskForce {
                    warning: Warning {
                        status: WarningStatus::TaskForce,
                        task_force: Some("欠薪处置专班".into()),
                        ..warning()
                    },
                },
            ),
        ),
        (
            "delta warning_lifted",
            delta(
                93,
                Event::WarningLifted {
                    warning: Warning {
                        status: WarningStatus::Lifted,
                        ..warning()
                    },
                },
            ),
        ),
        (
            "delta warning_updated (changed in place: its id, acknowledgement and task force kept)",
            delta(
                93,
                Event::WarningUpdated {
                    warning: Warning {
                        level: WarningLevel::Red,
                        status: WarningStatus::Acknowledged,
                        grids: vec!["321102".into()],
                        cap_refs: vec![
                            "32110041600000,32110041600000_20260701090000_1,2026-07-01T09:00:00+08:00"
                                .into(),
                            "32110041600000,32110041600000_20260701100000_2,2026-07-01T10:00:00+08:00"
                                .into(),
                        ],
                        expires_ms: Some(1_795_021_600_000),
                        trail: vec![
                            crate::WarningStep {
                                at_ms: 1_795_000_160_000,
                                by: "值班员 王磊".into(),
                                what: "签收".into(),
                            },
                            crate::WarningStep {
                                at_ms: 1_795_000_200_000,
                                by: "气象台".into(),
                                what: "更新 (CAP Update): 橙 → 红; 网格 1 → 区域 1".into(),
                            },
                        ],
                        ..warning()
                    },
                },
            ),
        ),
        (
            "delta unit_status",
            delta(94, Event::UnitStatus { unit: unit() }),
        ),
        (
            "delta briefing_changed",
            delta(
                95,
                Event::BriefingChanged {
                    briefing: Some(briefing()),
                },
            ),
        ),
        (
            "heartbeat",
            ServerMsg::Heartbeat {
                epoch: epoch(),
                seq: 94,
                ts_us: 1_795_000_061_000_000,
            },
        ),
        (
            "replay",
            ServerMsg::Replay {
                clock_ms: 1_795_000_060_000,
                speed: 10.0,
                done: false,
            },
        ),
        (
            "kpis",
            ServerMsg::Kpis {
                seq: 94,
                figures: Box::new(kpi_figures()),
            },
        ),
        (
            "live (walls and consoles: the units with a phone page open)",
            ServerMsg::Live {
                units: vec![crate::LiveUnit {
                    unit: "GW-321102-01-003-005".into(),
                    pos: Some(crate::Position {
                        lon: 119.4621,
                        lat: 32.2049,
                        accuracy_m: 8.0,
                    }),
                    at_ms: Some(1_795_000_050_000),
                }],
            },
        ),
        (
            "command_result ok",
            ServerMsg::CommandResult {
                key: "k-1".into(),
                outcome: CommandOutcome::Ok {
                    seq: 87,
                    id: Some(1024),
                },
            },
        ),
        (
            "command_result refused",
            ServerMsg::CommandResult {
                key: "k-3".into(),
                outcome: CommandOutcome::Refused {
                    code: ErrorCode::IllegalTransition,
                    message: "ticket 1024 is 受理 (received): accept needs 已分拨 (assigned)"
                        .into(),
                },
            },
        ),
        (
            "audit",
            ServerMsg::Audit {
                ticket: 1024,
                entries: vec![audit()],
            },
        ),
        (
            "error",
            ServerMsg::Error {
                code: ErrorCode::BadMessage,
                message: "expected value at line 1 column 1".into(),
            },
        ),
    ]
    .into_iter()
    .chain(crate::duty_examples::server(delta))
    .collect()
}

/// The figures of a small history: the example ticket taken in and another (1025) of
/// the same grid resolved at village level within its time, two hours after intake.
/// (`domain::kpi` computes exactly these from those two tickets: tested there.)
pub fn kpi_figures() -> KpiFigures {
    let mut hourly_today = [0; 24];
    hourly_today[19] = 2;
    let count = |c| if c == 0 { 2 } else { 0 };
    KpiFigures {
        at_ms: ticket().created_ms + 7_200_000,
        total: 2,
        intake_today: 2,
        open: 1,
        overdue: 0,
        supervised: 0,
        resolved: 1,
        closure_rate: Some(1.0),
        on_time_rate: Some(1.0),
        satisfaction: None,
        dispute_resolution_rate: Some(1.0),
        resolved_by_level: [1, 0, 0, 0],
        hard: 0,
        hard_overdue: 0,
        suspended: 0,
        reviewing: 0,
        extension_requests: 0,
        rework_rate: Some(0.0),
        unreached: 0,
        hourly_today,
        hourly_yesterday: [0; 24],
        by_channel: Channel::ALL
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, count(i)))
            .collect(),
        by_category: Category::ALL
            .iter()
            .enumerate()
            .map(|(i, c)| (*c, count(i)))
            .collect(),
        by_district: vec![("321102".into(), 2)],
        hot_grids: vec![(ticket().grid, 1)],
        trend: {
            let today = EXAMPLE_DAY;
            (today - super::kpi::TREND_DAYS + 1..=today)
                .map(|day| super::kpi::DayFigures {
                    day,
                    intake: if day == today { 2 } else { 0 },
                    resolved: (day == today) as u32,
                    on_time: (day == today) as u32,
                    ..Default::default()
                })
                .collect()
        },
        // Both tickets are today's: no whole day of the last week to rank on.
        ranking: vec![],
    }
}

/// The local day (Asia/Shanghai, days since the epoch) the example ticket was made on:
/// the wire carries days as such numbers; the domain's `time::local_day` computes them,
/// and a test there holds this constant to it (the wire calls no rule).
pub const EXAMPLE_DAY: i64 = 20_775;

/// The two tickets `kpi_figures` counts.
pub fn kpi_history() -> [Ticket; 2] {
    let mut done = ticket();
    done.id = 1025;
    done.status = TicketStatus::Resolved;
    done.resolved_level = Some(Level::Village);
    done.resolved_ms = Some(done.created_ms + 3_600_000);
    [ticket(), done]
}
