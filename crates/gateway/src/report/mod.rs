//! Daily and weekly reports (日报 / 周报), as PDF (the shipped CJK font subset and
//! embedded by krilla) and HTML: the period's figures with their definitions, the 30-day
//! trend as a chart, the 考核 ranking, the notable incidents with their timelines, the 疑难
//! list and the duty room's record. Made from the same figures the walls show (the
//! core's, for the credential's scope), on demand (`GET /api/reports/…`, `yiping report`)
//! and on a schedule (`[duty.reports]`).

mod html;
mod pdf;
pub mod schedule;

use std::collections::HashMap;

use domain::time::{civil, day_date, day_start, local_day};
use protocol::kpi::{DayFigures, DistrictScore};
use protocol::{Duty, KpiFigures, Ticket, Warning, WarningLevel};

pub use html::html;
pub use pdf::pdf;

/// What the core hands over for a report of one scope.
pub struct Inputs {
    pub region: String,
    pub at_ms: i64,
    pub figures: KpiFigures,
    pub duty: Duty,
    pub warnings: Vec<Warning>,
    /// Open 疑难 cases in scope.
    pub hard: Vec<Ticket>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Daily,
    Weekly,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "daily" => Some(Kind::Daily),
            "weekly" => Some(Kind::Weekly),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Daily => "daily",
            Kind::Weekly => "weekly",
        }
    }
}

/// One figure as the report prints it: name, value, definition.
pub struct Figure {
    pub name: &'static str,
    pub value: String,
    pub definition: &'static str,
}

/// An incident with its timeline.
pub struct Incident {
    pub title: String,
    pub lines: Vec<String>,
}

/// A report, ready to draw.
pub struct Report {
    pub title: String,
    pub subtitle: String,
    pub period: String,
    pub made: String,
    pub figures: Vec<Figure>,
    /// Now, not for the period: what is open at the time the report was made.
    pub standing: Vec<Figure>,
    /// The 30 days before the period's end: (label, intake, resolved).
    pub trend: Vec<(String, u32, u32)>,
    pub ranking: Vec<(String, DistrictScore)>,
    pub incidents: Vec<Incident>,
    pub hard: Vec<String>,
    pub duty: Vec<String>,
}

/// The local day of `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<i64> {
    domain::time::parse_civil(&format!("{s} 12:00")).map(local_day)
}

fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |x| format!("{:.1}%", x * 100.0))
}

/// The period's days, oldest first: a day, or the 7 days ending with it.
pub fn days(kind: Kind, day: i64) -> std::ops::RangeInclusive<i64> {
    match kind {
        Kind::Daily => day..=day,
        Kind::Weekly => day - 6..=day,
    }
}

/// Build a report of `kind` for the period ending on local day `day`.
pub fn build(
    kind: Kind,
    day: i64,
    i: &Inputs,
    center: &str,
    names: &HashMap<String, String>,
) -> Result<Report, String> {
    let today = local_day(i.at_ms);
    let period = days(kind, day);
    if *period.end() > today {
        return Err(format!("{} is in the future", day_date(day)));
    }
    let oldest = i.figures.trend.first().map_or(today, |d| d.day);
    if *period.start() < oldest {
        return Err(format!(
            "the figures reach back {} days (to {}): {} is older",
            protocol::kpi::TREND_DAYS,
            day_date(oldest),
            day_date(*period.start())
        ));
    }
    let mut sum = DayFigures::default();
    for d in i.figures.trend.iter().filter(|d| period.contains(&d.day)) {
        sum.add(d);
    }
    let name_of = |id: &str| {
        if id.is_empty() {
            "全市".to_string()
        } else {
            names.get(id).cloned().unwrap_or_else(|| id.to_string())
        }
    };
    let scope = name_of(&i.region);
    let (word, label) = match kind {
        Kind::Daily => ("值班日报", day_date(day)),
        Kind::Weekly => (
            "值班周报",
            format!("{} 至 {}", day_date(*period.start()), day_date(day)),
        ),
    };
    let figures = vec![
        Figure {
            name: "受理",
            value: sum.intake.to_string(),
            definition: "期内受理的工单数（按受理日计）",
        },
        Figure {
            name: "办结",
            value: sum.resolved.to_string(),
            definition: "期内受理的工单中至今已办结的数量",
        },
        Figure {
            name: "按时办结",
            value: sum.on_time.to_string(),
            definition: "其中在办理时限内办结的数量",
        },
        Figure {
            name: "办结率",
            value: pct(sum.closure()),
            definition: "办结 ÷ 受理",
        },
        Figure {
            name: "按时办结率",
            value: pct(sum.on_time_rate()),
            definition: "按时办结 ÷ 办结",
        },
        Figure {
            name: "回访",
            value: sum.rated.to_string(),
            definition: "已回访并接通的数量",
        },
        Figure {
            name: "满意率",
            value: pct(sum.satisfaction()),
            definition: "满意或基本满意 ÷ 回访接通",
        },
        Figure {
            name: "考核得分",
            value: format!("{:.1}", sum.score()),
            definition: "40×按时办结/受理 + 30×办结/受理 + 30×满意率",
        },
    ];
    let f = &i.figures;
    let standing = vec![
        Figure {
            name: "在办",
            value: f.open.to_string(),
            definition: "尚未办结",
        },
        Figure {
            name: "超期",
            value: f.overdue.to_string(),
            definition: "在办且超过办理时限（疑难、挂起、待审核除外）",
        },
        Figure {
            name: "督办中",
            value: f.supervised.to_string(),
            definition: "在办且在督办",
        },
        Figure {
            name: "疑难",
            value: f.hard.to_string(),
            definition: "列入疑难案件的在办工单",
        },
        Figure {
            name: "待审核",
            value: f.reviewing.to_string(),
            definition: "单位报办结、待中心审核",
        },
        Figure {
            name: "总体办结率",
            value: pct(f.closure_rate),
            definition: "已办结 ÷ 应办结（含已到期未办结）",
        },
    ];
    let trend = (day - protocol::kpi::TREND_DAYS + 1..=day)
        .map(|d| {
            let x = f
                .trend
                .iter()
                .find(|t| t.day == d)
                .copied()
                .unwrap_or_default();
            let c = civil(day_start(d));
            (format!("{}/{}", c.month, c.day), x.intake, x.resolved)
        })
        .collect();
    let ranking = f
        .ranking
        .iter()
        .map(|r| (name_of(&r.district), r.clone()))
        .collect();
    let from_ms = day_start(*period.start());
    let to_ms = day_start(*period.end() + 1);
    let in_period = |ms: i64| (from_ms..to_ms).contains(&ms);
    let hhmm = |ms: i64| {
        let c = civil(ms);
        match kind {
            Kind::Daily => c.hhmm(),
            Kind::Weekly => format!("{}/{} {}", c.month, c.day, c.hhmm()),
        }
    };
    let mut incidents = Vec::new();
    for w in i.warnings.iter().filter(|w| {
        matches!(w.level, WarningLevel::Red | WarningLevel::Orange)
            && (in_period(w.raised_ms) || w.trail.iter().any(|s| in_period(s.at_ms)))
    }) {
        let level = if w.level == WarningLevel::Red {
            "红色"
        } else {
            "橙色"
        };
        let mut lines = vec![format!(
            "{} 发布（{}）",
            hhmm(w.raised_ms),
            w.grids.len().to_string() + " 个网格"
        )];
        lines.extend(
            w.trail
                .iter()
                .map(|s| format!("{} {} {}", hhmm(s.at_ms), s.by, s.what)),
        );
        incidents.push(Incident {
            title: format!("{level}预警 #{} {}", w.id, w.title),
            lines,
        });
    }
    let mut duty = Vec::new();
    for e in i.duty.escalations.iter().filter(|e| in_period(e.opened_ms)) {
        let mut lines = vec![format!(
            "{} {}（{}）",
            hhmm(e.opened_ms),
            e.rule.zh(),
            e.title
        )];
        for n in &e.notices {
            let ok = match &n.error {
                None => "已送达".to_string(),
                Some(err) => format!("失败：{}", err.chars().take(60).collect::<String>()),
            };
            lines.push(format!(
                "{} {} {} {}（{}，第 {} 次）{ok}",
                hhmm(n.at_ms),
                n.channel,
                n.role.zh(),
                n.name,
                n.person,
                n.attempt
            ));
        }
        match (&e.acked_by, e.acked_ms, &e.closed) {
            (Some(by), Some(at), _) => lines.push(format!("{} {by} 确认", hhmm(at))),
            (_, _, Some(why)) => lines.push(format!("关闭：{why}")),
            _ => lines.push("至报告生成时仍未确认".into()),
        }
        incidents.push(Incident {
            title: format!("升级提醒 #{}", e.id),
            lines,
        });
    }
    let person = |id: &str| {
        i.duty
            .roster
            .person(id)
            .map_or(id.to_string(), |p| p.name.clone())
    };
    for s in i.duty.roster.shifts.iter().filter(|s| {
        protocol::within(&s.center, &i.region) && s.start_ms < to_ms && from_ms < s.end_ms
    }) {
        duty.push(format!(
            "{} {} {}：{} — {}",
            name_of(&s.center),
            s.role.zh(),
            person(&s.person),
            hhmm(s.start_ms),
            hhmm(s.end_ms)
        ));
    }
    for h in i.duty.handovers.iter().filter(|h| in_period(h.drafted_ms)) {
        let signed = match (&h.signed_by, h.signed_ms) {
            (Some(by), Some(at)) => format!("{by} {} 签收", hhmm(at)),
            _ => "未签收".into(),
        };
        duty.push(format!(
            "交接班 #{} {} {} → {}，{signed}",
            h.id,
            hhmm(h.drafted_ms),
            person(&h.from),
            h.to.as_deref().map_or("—".into(), person)
        ));
    }
    let hard = i
        .hard
        .iter()
        .map(|t| {
            let meeting = t.work.meeting.as_ref().map_or(String::new(), |m| {
                let c = civil(m.at_ms);
                format!("；会商 {} {} {}", c.date(), c.hhmm(), m.title)
            });
            format!(
                "#{} {}（{}）：{}{meeting}",
                t.id,
                t.title,
                name_of(domain::kpi::district_of(&t.grid)),
                t.work.hard.as_deref().unwrap_or("")
            )
        })
        .collect();
    let made = civil(i.at_ms);
    Ok(Report {
        title: format!("{center} {word}"),
        subtitle: scope,
        period: label,
        made: format!("{} {}", made.date(), made.hhmm()),
        figures,
        standing,
        trend,
        ranking,
        incidents,
        hard,
        duty,
    })
}

/// The names of the city's districts and towns (the layers beside `[area] grids`).
pub fn names(cfg: &crate::config::GatewayConfig) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Some(dir) = cfg.area.grids.as_deref().and_then(|p| p.parent()) else {
        return out;
    };
    for layer in ["districts.geojson", "towns.geojson"] {
        if let Ok(fs) = gis::read_layer(&dir.join(layer)) {
            for f in fs {
                out.insert(f.prop("id").to_string(), f.prop("name").to_string());
            }
        }
    }
    out
}
