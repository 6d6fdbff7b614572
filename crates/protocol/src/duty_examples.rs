//! The duty room's examples (PROTOCOL.md, "Every message"): its commands and its event.

use super::*;

/// 2027-01-01 08:00 Beijing time, the example shift's start.
const SHIFT_START_MS: i64 = 1_798_761_600_000;
const HOUR_MS: i64 = 3_600_000;

pub fn person() -> Person {
    Person {
        id: "ZB001".into(),
        name: "王敏".into(),
        phone: "13800000001".into(),
        credential: "console-wang".into(),
    }
}

pub fn shift() -> Shift {
    Shift {
        id: 1,
        center: String::new(),
        role: DutyRole::Officer,
        person: "ZB001".into(),
        start_ms: SHIFT_START_MS,
        end_ms: SHIFT_START_MS + 12 * HOUR_MS,
    }
}

pub fn escalation() -> Escalation {
    Escalation {
        id: 3,
        rule: EscalationRule::WarningUnacked,
        subject: Subject::Warning { id: 7 },
        center: String::new(),
        title: "红色预警 #7 暴雨内涝 15 分钟未确认".into(),
        opened_ms: SHIFT_START_MS + HOUR_MS,
        level: DutyRole::Officer,
        rounds: 1,
        next_ms: SHIFT_START_MS + HOUR_MS + 600_000,
        notices: vec![Notice {
            at_ms: SHIFT_START_MS + HOUR_MS + 1_200,
            person: "ZB001".into(),
            name: "王敏".into(),
            role: DutyRole::Officer,
            channel: "wecom".into(),
            attempt: 1,
            error: None,
        }],
        acked_by: None,
        acked_ms: None,
        closed: None,
    }
}

pub fn client(cmd: impl Fn(&str, Command) -> ClientMsg) -> Vec<(&'static str, ClientMsg)> {
    vec![
        (
            "set_roster",
            cmd(
                "k-20",
                Command::SetRoster {
                    roster: Roster {
                        people: vec![person()],
                        shifts: vec![Shift { id: 0, ..shift() }],
                    },
                },
            ),
        ),
        (
            "swap_shift",
            cmd(
                "k-21",
                Command::SwapShift {
                    shift: 1,
                    person: "ZB002".into(),
                },
            ),
        ),
        (
            "ack_escalation",
            cmd("k-22", Command::AckEscalation { escalation: 3 }),
        ),
        (
            "annotate_handover",
            cmd(
                "k-23",
                Command::AnnotateHandover {
                    handover: 2,
                    notes: "京口区积水点已派巡查，夜班继续盯防。".into(),
                },
            ),
        ),
        (
            "sign_handover",
            cmd("k-24", Command::SignHandover { handover: 2 }),
        ),
    ]
}

pub fn server(delta: impl Fn(u64, Event) -> ServerMsg) -> Vec<(&'static str, ServerMsg)> {
    vec![
        (
            "delta duty (shift_started)",
            delta(
                96,
                Event::Duty {
                    change: Box::new(DutyChange::ShiftStarted {
                        shift: shift(),
                        figures: DutyFigures {
                            at_ms: SHIFT_START_MS,
                            open: 412,
                            overdue: 9,
                            urgent_open: 3,
                            warnings_unacked: 1,
                            hard: 2,
                        },
                    }),
                },
            ),
        ),
        (
            "delta duty (escalation)",
            delta(
                97,
                Event::Duty {
                    change: Box::new(DutyChange::Escalation {
                        escalation: escalation(),
                    }),
                },
            ),
        ),
    ]
}
