//! The warnings (预警): a board by level (红 I, 橙 II, 黄 III, 蓝 IV) for a wall region, a
//! compact list for the desk, both with 签收 (acknowledge) and 成立专班 (task force) as
//! commands. The unmissable red banner over the map is in `overlays.rs`.

use bevy_egui::egui::{self, Color32, RichText, Ui};

use super::PanelCtx;
use crate::action::UiAction;
use crate::fonts::bold;
use crate::text::{UiLang, hhmm};
use crate::theme::{DIM, level_color};
use crate::view::{MapLayers, region_name};
use feed::Mirror;
use protocol::{Command, Warning, WarningKind, WarningLevel, WarningStatus};

pub const LEVELS: [WarningLevel; 4] = [
    WarningLevel::Red,
    WarningLevel::Orange,
    WarningLevel::Yellow,
    WarningLevel::Blue,
];

fn level_name(lang: UiLang, l: WarningLevel) -> &'static str {
    match l {
        WarningLevel::Red => lang.t("红色 I级", "Red I"),
        WarningLevel::Orange => lang.t("橙色 II级", "Orange II"),
        WarningLevel::Yellow => lang.t("黄色 III级", "Yellow III"),
        WarningLevel::Blue => lang.t("蓝色 IV级", "Blue IV"),
    }
}

/// A warning kind's name in the interface language.
pub fn kind_name(lang: UiLang, kind: WarningKind) -> &'static str {
    lang.t(kind.zh(), kind.en())
}

/// Live warnings, worst and newest first.
fn sorted(m: &Mirror) -> Vec<&Warning> {
    let mut ws: Vec<&Warning> = m.warnings.values().collect();
    ws.sort_by_key(|w| (w.level, std::cmp::Reverse(w.raised_ms)));
    ws
}

/// The state of a warning and what can be done next, as buttons that send commands.
fn actions(ui: &mut Ui, lang: UiLang, w: &Warning, size: f32, out: &mut Vec<UiAction>) {
    ui.horizontal(|ui| match w.status {
        WarningStatus::Raised => {
            ui.label(
                RichText::new(lang.t("待签收", "not acknowledged"))
                    .size(size)
                    .color(level_color(w.level)),
            );
            if ui
                .button(RichText::new(lang.t("签收", "Acknowledge")).size(size))
                .clicked()
            {
                out.push(UiAction::Send(Command::AckWarning { warning: w.id }));
            }
        }
        WarningStatus::Acknowledged => {
            ui.label(
                RichText::new(lang.t("已签收", "acknowledged"))
                    .size(size)
                    .color(DIM),
            );
            if ui
                .button(RichText::new(lang.t("成立专班", "Task force")).size(size))
                .clicked()
            {
                out.push(UiAction::Send(Command::AssignTaskForce {
                    warning: w.id,
                    team: lang.t("联合处置专班", "Joint task force").into(),
                }));
            }
        }
        _ => {
            let tf = w.task_force.as_deref().unwrap_or("");
            ui.label(
                RichText::new(format!("{} {tf}", lang.t("专班处置中", "task force:")))
                    .size(size)
                    .color(DIM),
            );
        }
    });
}

fn counts(ui: &mut Ui, lang: UiLang, m: &Mirror) {
    ui.horizontal(|ui| {
        for l in LEVELS {
            let n = m.warnings.values().filter(|w| w.level == l).count();
            ui.label(
                RichText::new(format!(
                    "{}{n}",
                    lang.t(&l.zh()[..3], &format!("{} ", l.en()))
                ))
                .font(bold(22.0))
                .color(level_color(l)),
            );
        }
    });
}

/// The desk's compact list: counts by level, then the five worst.
pub fn list(ui: &mut Ui, lang: UiLang, m: &Mirror, out: &mut Vec<UiAction>) {
    ui.add_space(10.0);
    ui.label(RichText::new(lang.t("预警", "Warnings")).font(bold(22.0)));
    counts(ui, lang, m);
    for w in sorted(m).into_iter().take(5) {
        ui.add_space(4.0);
        ui.label(
            RichText::new(&w.title)
                .size(16.0)
                .color(level_color(w.level)),
        );
        actions(ui, lang, w, 14.0, out);
    }
}

/// Warnings of one level and kind in one district: one card with a count on the board
/// (a storm of repeated-complaint warnings is one line, not three hundred cards).
pub struct Group<'a> {
    pub level: WarningLevel,
    pub kind: WarningKind,
    /// The district (first part of the first grid's id); "" for city-wide.
    pub area: String,
    /// Newest first.
    pub members: Vec<&'a Warning>,
}

/// The live warnings grouped, worst level first, then the group with the newest warning.
pub fn groups(m: &Mirror) -> Vec<Group<'_>> {
    let mut out: Vec<Group> = vec![];
    for w in sorted(m) {
        let area = w
            .grids
            .first()
            .map(|g| domain::kpi::district_of(g).to_string())
            .unwrap_or_default();
        // A red warning stands alone: each is read, not counted.
        let joins = w.level != WarningLevel::Red;
        match out
            .iter_mut()
            .find(|g| joins && g.level == w.level && g.kind == w.kind && g.area == area)
        {
            Some(g) => g.members.push(w),
            None => out.push(Group {
                level: w.level,
                kind: w.kind,
                area,
                members: vec![w],
            }),
        }
    }
    out
}

/// A wall region's board: the red warnings across the top, each on its own; below, a
/// column for each other level with its warnings grouped by kind and district (a group
/// card opens to list its warnings); cards that do not fit are counted, never cut.
pub fn board(ui: &mut Ui, cx: &PanelCtx, out: &mut Vec<UiAction>) {
    let PanelCtx {
        lang,
        mirror: m,
        map,
        now: now_ms,
        ..
    } = *cx;
    ui.horizontal(|ui| {
        ui.label(RichText::new(lang.t("预警研判", "Warnings")).font(bold(22.0)));
        ui.add_space(12.0);
        counts(ui, lang, m);
    });
    ui.add_space(6.0);
    let all = groups(m);
    if all.is_empty() {
        // No live warning: say so large, and what would raise one, not an empty board.
        ui.add_space(ui.available_height() * 0.12);
        ui.vertical_centered(|ui| {
            ui.label(
                RichText::new(lang.t("当前无预警 · 运行平稳", "No live warnings · all calm"))
                    .font(bold(40.0))
                    .color(crate::theme::GREEN),
            );
            ui.add_space(12.0);
            for (l, zh, en) in [
                (
                    WarningLevel::Red,
                    "红色 I级：重大突发事件、多区县灾情",
                    "Red I: major emergencies, disasters across districts",
                ),
                (
                    WarningLevel::Orange,
                    "橙色 II级：较大事件、同一诉求短期内多发",
                    "Orange II: serious events, one matter many times",
                ),
                (
                    WarningLevel::Yellow,
                    "黄色 III级：同一网格同类诉求短期重复",
                    "Yellow III: one grid, one matter, repeated",
                ),
                (
                    WarningLevel::Blue,
                    "蓝色 IV级：需要关注的苗头",
                    "Blue IV: early signs to watch",
                ),
            ] {
                ui.label(
                    RichText::new(lang.t(zh, en))
                        .size(19.0)
                        .color(level_color(l)),
                );
            }
        });
        return;
    }
    let (red, rest): (Vec<&Group>, Vec<&Group>) =
        all.iter().partition(|g| g.level == WarningLevel::Red);
    // Red first, the whole width, up to half the board.
    let red_fits = (((ui.available_height() * 0.5) / CARD_H).floor() as usize).max(1);
    let red_shown = if red.len() > red_fits {
        red_fits - 1
    } else {
        red.len()
    };
    for g in red.iter().take(red_shown.max(1).min(red.len())) {
        card(ui, lang, g.members[0], map, now_ms, out);
    }
    more(
        ui,
        lang,
        WarningLevel::Red,
        red.len().saturating_sub(red_shown.max(1)),
    );
    let fits = ((ui.available_height() - 40.0) / CARD_H).floor().max(1.0) as usize;
    ui.columns(3, |cols| {
        for (col, l) in cols.iter_mut().zip(&LEVELS[1..]) {
            let mine: Vec<&&Group> = rest.iter().filter(|g| g.level == *l).collect();
            let n: usize = mine.iter().map(|g| g.members.len()).sum();
            col.label(
                RichText::new(format!("{} · {n}", level_name(lang, *l)))
                    .font(bold(20.0))
                    .color(level_color(*l)),
            );
            if mine.is_empty() {
                col.label(RichText::new(lang.t("无", "none")).size(17.0).color(DIM));
            }
            let shown = if mine.len() > fits { fits - 1 } else { fits };
            for g in mine.iter().take(shown) {
                if g.members.len() == 1 {
                    card(col, lang, g.members[0], map, now_ms, out);
                } else {
                    group_card(col, cx, g, out);
                }
            }
            let left: usize = mine.iter().skip(shown).map(|g| g.members.len()).sum();
            more(col, lang, *l, left);
        }
    });
}

fn more(ui: &mut Ui, lang: UiLang, l: WarningLevel, n: usize) {
    if n > 0 {
        ui.label(
            RichText::new(format!(
                "{} {n} {}",
                lang.t("另有", "and"),
                lang.t("条", "more")
            ))
            .font(bold(18.0))
            .color(level_color(l)),
        );
    }
}

/// A group's card: kind, district, how many, the newest; a click opens the list.
fn group_card(ui: &mut Ui, cx: &PanelCtx, g: &Group, out: &mut Vec<UiAction>) {
    let lang = cx.lang;
    let c = level_color(g.level);
    let id = ui.make_persistent_id(("warning-group", g.level, g.kind, &g.area));
    let open = ui.data(|d| d.get_temp::<bool>(id).unwrap_or(false));
    let raised = g
        .members
        .iter()
        .filter(|w| w.status == WarningStatus::Raised)
        .count();
    let place = if g.area.is_empty() {
        lang.t("全市", "city-wide").to_string()
    } else {
        region_name(cx.map, &g.area)
    };
    egui::Frame::new()
        .fill(Color32::from_rgb(14, 22, 36))
        .stroke(egui::Stroke::new(if raised > 0 { 2.0 } else { 1.0 }, c))
        .corner_radius(6.0)
        .inner_margin(8.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            let head = ui.add(
                egui::Label::new(
                    RichText::new(format!(
                        "{} {} · {place} · {} {}",
                        if open { "▾" } else { "▸" },
                        kind_name(lang, g.kind),
                        g.members.len(),
                        lang.t("条", "warnings")
                    ))
                    .font(bold(18.0))
                    .color(c),
                )
                .sense(egui::Sense::click())
                .truncate(),
            );
            if head.clicked() {
                ui.data_mut(|d| d.insert_temp(id, !open));
            }
            ui.add(
                egui::Label::new(
                    RichText::new(format!(
                        "{} {} · {} {}",
                        lang.t("最新", "newest"),
                        hhmm(g.members[0].raised_ms),
                        raised,
                        lang.t("条待签收", "not acknowledged")
                    ))
                    .size(17.0)
                    .color(DIM),
                )
                .truncate(),
            );
            if open {
                for w in &g.members {
                    ui.add(
                        egui::Label::new(RichText::new(&w.title).size(16.0).color(c)).truncate(),
                    );
                    actions(ui, lang, w, 15.0, out);
                }
            }
        });
    ui.add_space(6.0);
}

/// A card's height in points (title, one line of facts, the actions, margins).
const CARD_H: f32 = 112.0;

fn card(
    ui: &mut Ui,
    lang: UiLang,
    w: &Warning,
    map: Option<&MapLayers>,
    now_ms: i64,
    out: &mut Vec<UiAction>,
) {
    let c = level_color(w.level);
    egui::Frame::new()
        .fill(Color32::from_rgb(14, 22, 36))
        .stroke(egui::Stroke::new(
            if w.status == WarningStatus::Raised {
                2.0
            } else {
                1.0
            },
            c.gamma_multiply(if w.status == WarningStatus::Raised {
                1.0
            } else {
                0.4
            }),
        ))
        .corner_radius(6.0)
        .inner_margin(8.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.add(egui::Label::new(RichText::new(&w.title).font(bold(18.0)).color(c)).truncate());
            let mins = ((now_ms - w.raised_ms) / 60_000).max(0);
            let place = w
                .grids
                .first()
                .map(|g| region_name(map, g))
                .unwrap_or_default();
            ui.add(
                egui::Label::new(
                    RichText::new(format!(
                        "{} · {} · {} {}{}{}",
                        kind_name(lang, w.kind),
                        hhmm(w.raised_ms),
                        mins,
                        lang.t("分钟前", "min ago"),
                        if place.is_empty() {
                            String::new()
                        } else {
                            format!(" · {place}")
                        },
                        // Changed in place by its issuer since (a CAP Update): when.
                        w.trail
                            .iter()
                            .rev()
                            .find(|s| s.what.starts_with("更新"))
                            .map(|s| format!(
                                " · {} {}",
                                lang.t("已更新", "updated"),
                                hhmm(s.at_ms)
                            ))
                            .unwrap_or_default()
                    ))
                    .size(17.0)
                    .color(DIM),
                )
                .truncate(),
            );
            ui.horizontal(|ui| {
                actions(ui, lang, w, 17.0, out);
                if ui
                    .button(RichText::new(lang.t("会商", "Brief")).size(17.0))
                    .on_hover_text(lang.t("所有大屏转入此预警的联合会商", "Every wall turns to it"))
                    .clicked()
                {
                    out.push(UiAction::Send(Command::StartBriefing {
                        incident: protocol::Incident::Warning { id: w.id },
                    }));
                }
            });
        });
    ui.add_space(6.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::examples;

    #[test]
    fn a_storm_of_one_kind_in_one_district_is_one_group_and_red_stands_alone_on_top() {
        let mut m = Mirror::default();
        let mut add = |id: u64, level: WarningLevel, kind: WarningKind, grid: &str| {
            let mut w = examples::warning();
            w.id = id;
            w.level = level;
            w.kind = kind;
            w.grids = vec![grid.into()];
            w.raised_ms = id as i64;
            m.warnings.insert(id, w);
        };
        for i in 0..300 {
            add(
                i,
                WarningLevel::Yellow,
                WarningKind::RepeatedComplaints,
                &format!("321182-01-001-{i:03}"),
            );
        }
        add(
            400,
            WarningLevel::Yellow,
            WarningKind::RepeatedComplaints,
            "321102-01-001-001",
        );
        add(500, WarningLevel::Red, WarningKind::Flood, "321182");
        add(501, WarningLevel::Red, WarningKind::Flood, "321112");
        let g = groups(&m);
        let shape: Vec<(WarningLevel, &str, usize)> = g
            .iter()
            .map(|g| (g.level, g.area.as_str(), g.members.len()))
            .collect();
        assert_eq!(
            shape,
            [
                (WarningLevel::Red, "321112", 1),
                (WarningLevel::Red, "321182", 1),
                (WarningLevel::Yellow, "321102", 1),
                (WarningLevel::Yellow, "321182", 300),
            ]
        );
        // Newest first inside a group.
        assert_eq!(g[3].members[0].id, 299);
    }
}
