//! The figures and the charts, drawn from the gateway's `KpiFigures` (the same numbers on
//! every wall): big numbers for 5 m, the share resolved at each level, the ten hottest
//! grids, hourly intake today against yesterday (egui_plot), and today's intake by
//! district, channel and category; and the desk's side column with them. Nothing here
//! scans tickets.

use bevy_egui::egui::{self, Align2, Color32, FontId, RichText, Ui};
use egui_plot::{Bar, BarChart, Legend, Line, PlotPoints};

use super::PanelCtx;
use crate::action::{QueueFilter, UiAction};
use crate::fonts::bold;
use crate::text::{UiLang, hhmm};
use crate::theme::{AMBER, BAR, CYAN, DIM, GREEN, RED, STATUS, rating_color};
use crate::view::{MapLayers, region_name};
use protocol::{KpiFigures, Level};

const YESTERDAY: Color32 = Color32::from_rgb(170, 180, 200);

/// Until the gateway's first figures arrive.
fn waiting(ui: &mut Ui, lang: UiLang) {
    ui.label(
        RichText::new(lang.t("等待网关统计…", "Waiting for the gateway's figures…"))
            .size(17.0)
            .color(DIM),
    );
}

fn percent(r: Option<f64>) -> String {
    match r {
        Some(r) => format!("{:.1}%", r * 100.0),
        None => "—".into(),
    }
}

/// A rate's colour against the seeds' figures: green at 95% and over, amber from 85%.
fn rate_color(r: Option<f64>) -> Color32 {
    match r {
        Some(r) if r >= 0.95 => GREEN,
        Some(r) if r >= 0.85 => AMBER,
        Some(_) => RED,
        None => DIM,
    }
}

/// One figure: its label, then the number, large.
/// A figure: its name small, its value large; with `click`, a click on it filters the
/// queue to what it counts (the hand cursor says so).
fn figure(
    ui: &mut Ui,
    (label, value, color): (&str, String, Color32),
    (size, label_size): (f32, f32),
    click: Option<QueueFilter>,
    out: &mut Vec<UiAction>,
) {
    let r = ui
        .vertical(|ui| {
            ui.label(RichText::new(label).size(label_size).color(DIM));
            ui.label(RichText::new(value).font(bold(size)).color(color));
        })
        .response;
    if let Some(f) = click {
        let r = r
            .interact(egui::Sense::click())
            .on_hover_cursor(egui::CursorIcon::PointingHand);
        if r.clicked() {
            out.push(UiAction::Filter(f));
        }
    }
}

/// The figures block: counts and rates in `columns` columns, the level shares and the
/// hottest grids. `None` until the gateway's first figures arrive.
pub fn figures(
    ui: &mut Ui,
    lang: UiLang,
    (f, map): (Option<&KpiFigures>, Option<&MapLayers>),
    (columns, hot_rows, scale): (usize, usize, f32),
    out: &mut Vec<UiAction>,
) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(lang.t("实时态势", "Live status")).font(bold(22.0)));
        if let Some(f) = f {
            ui.label(
                RichText::new(format!(
                    "{} {}",
                    lang.t("网关统计于", "gateway figures at"),
                    hhmm(f.at_ms)
                ))
                .size(17.0)
                .color(DIM),
            );
        }
    });
    let Some(f) = f else {
        return waiting(ui, lang);
    };
    // On a wall (4 columns) the digits stand about 53 px high on a 1080p panel.
    let size = if columns >= 4 { 48.0 } else { 34.0 } * scale;
    let items: [(&str, &str, String, Color32); 8] = [
        (
            "今日受理",
            "Taken in today",
            f.intake_today.to_string(),
            CYAN,
        ),
        ("在办工单", "Open", f.open.to_string(), Color32::WHITE),
        (
            "办结超期",
            "Overdue",
            f.overdue.to_string(),
            if f.overdue > 0 { RED } else { GREEN },
        ),
        ("督办中", "Supervised", f.supervised.to_string(), AMBER),
        (
            "办结率",
            "Closure",
            percent(f.closure_rate),
            rate_color(f.closure_rate),
        ),
        (
            "按时办结率",
            "On time",
            percent(f.on_time_rate),
            rate_color(f.on_time_rate),
        ),
        (
            "满意率",
            "Satisfaction",
            percent(f.satisfaction),
            rate_color(f.satisfaction),
        ),
        (
            "矛盾化解率",
            "Disputes resolved",
            percent(f.dispute_resolution_rate),
            rate_color(f.dispute_resolution_rate),
        ),
    ];
    // Rows of equal columns: the same layout every frame (no sizing pass).
    let items: Vec<_> = items.into_iter().collect();
    // 在办, 办结超期 and 督办中 lead to their tickets.
    let click = |zh: &str| match zh {
        "在办工单" => Some(QueueFilter::All),
        "办结超期" => Some(QueueFilter::Overdue),
        "督办中" => Some(QueueFilter::Supervised),
        _ => None,
    };
    for row in items.chunks(columns) {
        ui.columns(columns, |cols| {
            for (col, (zh, en, v, c)) in cols.iter_mut().zip(row) {
                figure(
                    col,
                    (lang.t(zh, en), v.clone(), *c),
                    (size.round(), (17.0 * scale.sqrt()).round()),
                    click(zh),
                    out,
                );
            }
        });
        ui.add_space(6.0 * scale);
    }
    // Beside 超期: what it leaves out, and the center's own workflow.
    let beside = format!(
        "{} {} ({} {}) · {} {} · {} {} · {} {} · {} {} · {} {}",
        lang.t("疑难", "Hard"),
        f.hard,
        lang.t("已过时限", "past due"),
        f.hard_overdue,
        lang.t("挂起", "Suspended"),
        f.suspended,
        lang.t("待审核", "Under review"),
        f.reviewing,
        lang.t("延期申请", "Extensions asked"),
        f.extension_requests,
        lang.t("重办率", "Reopened"),
        percent(f.rework_rate),
        lang.t("回访未接通", "Calls unanswered"),
        f.unreached,
    );
    ui.label(
        RichText::new(beside)
            .size((17.0 * scale.sqrt()).round())
            .color(DIM),
    );
    ui.add_space(10.0);
    level_bar(ui, lang, f);
    if hot_rows > 0 {
        ui.add_space(10.0);
        hot_grids(ui, lang, f, map, hot_rows, out);
    }
}

/// 小事不出村，大事不出镇: the share resolved at each level as one stacked bar.
fn level_bar(ui: &mut Ui, lang: UiLang, f: &KpiFigures) {
    ui.label(
        RichText::new(lang.t(
            "办结层级 · 小事不出村 大事不出镇",
            "Resolved at level · small matters stay in the village",
        ))
        .size(17.0)
        .color(DIM),
    );
    let levels = [
        (Level::Village, "村级", "Village", GREEN),
        (Level::Town, "镇级", "Town", CYAN),
        (Level::County, "县级", "County", AMBER),
        (Level::City, "市级", "City", RED),
    ];
    let (rect, _) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), 30.0), egui::Sense::hover());
    let p = ui.painter_at(rect);
    p.rect_filled(rect, 4.0, Color32::from_rgb(20, 30, 46));
    let mut x = rect.left();
    for (l, _, _, c) in levels {
        let share = f.level_share(l).unwrap_or(0.0) as f32;
        let w = rect.width() * share;
        if w > 0.5 {
            p.rect_filled(
                egui::Rect::from_min_size(egui::pos2(x, rect.top()), egui::vec2(w, rect.height())),
                0.0,
                c.gamma_multiply(0.8),
            );
        }
        x += w;
    }
    ui.horizontal_wrapped(|ui| {
        for (l, zh, en, c) in levels {
            ui.label(
                RichText::new(format!("{} {}", lang.t(zh, en), percent(f.level_share(l))))
                    .size(17.0)
                    .color(c),
            );
            ui.add_space(8.0);
        }
    });
}

/// The grids with the most open tickets.
fn hot_grids(
    ui: &mut Ui,
    lang: UiLang,
    f: &KpiFigures,
    map: Option<&MapLayers>,
    rows: usize,
    out: &mut Vec<UiAction>,
) {
    ui.label(RichText::new(lang.t("热点网格 TOP10", "Hottest grids")).font(bold(20.0)));
    let list: Vec<(usize, String, u32)> = f
        .hot_grids
        .iter()
        .take(rows)
        .enumerate()
        .map(|(i, (g, n))| (i + 1, region_name(map, g), *n))
        .collect();
    if list.is_empty() {
        ui.label(
            RichText::new(lang.t("暂无在办", "Nothing open"))
                .size(17.0)
                .color(DIM),
        );
        return;
    }
    // Painted in fixed columns (rank, name, count): the same layout every frame.
    let cols = if rows > 5 && ui.available_width() >= 600.0 {
        2
    } else {
        1
    };
    let per_col = list.len().div_ceil(cols);
    let row_h = 26.0;
    let (rect, resp) = ui.allocate_exact_size(
        egui::vec2(ui.available_width(), per_col as f32 * row_h),
        egui::Sense::click(),
    );
    let p = ui.painter_at(rect);
    let col_w = rect.width() / cols as f32;
    // A hot grid clicked: the map flies there and the queue shows its tickets.
    if let Some(at) = resp.interact_pointer_pos().filter(|_| resp.clicked()) {
        let k = ((at.x - rect.left()) / col_w) as usize;
        let r = ((at.y - rect.top()) / row_h) as usize;
        if let Some((g, _)) = f.hot_grids.get(k * per_col + r).filter(|_| r < per_col) {
            out.push(UiAction::Focus(g.clone()));
            out.push(UiAction::Filter(QueueFilter::Region(g.clone())));
        }
    }
    for (i, (rank, name, n)) in list.iter().enumerate() {
        let (k, r) = (i / per_col, i % per_col);
        let x0 = rect.left() + k as f32 * col_w;
        let y = rect.top() + r as f32 * row_h + row_h / 2.0;
        let c = if *rank <= 3 { RED } else { AMBER };
        p.text(
            egui::pos2(x0 + 22.0, y),
            Align2::RIGHT_CENTER,
            rank.to_string(),
            bold(18.0),
            c,
        );
        let name_rect = egui::Rect::from_min_max(
            egui::pos2(x0 + 32.0, y - row_h / 2.0),
            egui::pos2(x0 + col_w - 60.0, y + row_h / 2.0),
        );
        p.with_clip_rect(name_rect).text(
            egui::pos2(name_rect.left(), y),
            Align2::LEFT_CENTER,
            name,
            FontId::proportional(17.0),
            Color32::LIGHT_GRAY,
        );
        p.text(
            egui::pos2(x0 + col_w - 16.0, y),
            Align2::RIGHT_CENTER,
            n.to_string(),
            bold(18.0),
            c,
        );
    }
}

/// The charts: hourly intake today against yesterday, then today's intake by district,
/// channel and category, in a grid of `cols` x `rows` cells (the first ones that fit).
pub fn charts(
    ui: &mut Ui,
    lang: UiLang,
    (f, map): (Option<&KpiFigures>, Option<&MapLayers>),
    (cols, rows): (usize, usize),
    out: &mut Vec<UiAction>,
) {
    let Some(f) = f else {
        return waiting(ui, lang);
    };
    let size = ui.available_size();
    let cell = egui::vec2(size.x / cols as f32 - 8.0, size.y / rows as f32 - 8.0);
    let districts: Vec<(String, u32)> = f
        .by_district
        .iter()
        .map(|(d, n)| (region_name(map, d), *n))
        .collect();
    let channels: Vec<(String, u32)> = f
        .by_channel
        .iter()
        .map(|(c, n)| (lang.channel(*c).to_string(), *n))
        .collect();
    let categories: Vec<(String, u32)> = f
        .by_category
        .iter()
        .map(|(c, n)| (lang.category(*c).to_string(), *n))
        .collect();
    let bars = [
        (
            lang.t("今日受理 · 按区县", "Today by district"),
            &districts,
            CYAN,
        ),
        (
            lang.t("今日受理 · 按渠道", "Today by channel"),
            &channels,
            BAR,
        ),
        (
            lang.t("今日受理 · 按类别", "Today by category"),
            &categories,
            GREEN,
        ),
    ];
    egui::Grid::new("charts")
        .num_columns(cols)
        .spacing(egui::vec2(8.0, 8.0))
        .show(ui, |ui| {
            for i in 0..(cols * rows).min(4) {
                ui.allocate_ui_with_layout(cell, egui::Layout::top_down(egui::Align::Min), |ui| {
                    ui.set_min_size(cell);
                    match i {
                        0 => hourly(ui, lang, f),
                        _ => {
                            let (title, rows, color) = bars[i - 1];
                            // A bar clicked: the queue shows its tickets; a district's
                            // bar also turns the map to it.
                            if let Some(k) = hbars(ui, title, rows, color) {
                                match i {
                                    1 => {
                                        let d = f.by_district[k].0.clone();
                                        out.push(UiAction::Focus(d.clone()));
                                        out.push(UiAction::Filter(QueueFilter::Region(d)));
                                    }
                                    2 => out.push(UiAction::Filter(QueueFilter::Channel(
                                        f.by_channel[k].0,
                                    ))),
                                    _ => out.push(UiAction::Filter(QueueFilter::Category(
                                        f.by_category[k].0,
                                    ))),
                                }
                            }
                        }
                    }
                });
                if (i + 1) % cols == 0 {
                    ui.end_row();
                }
            }
        });
}

/// Hourly intake: today's bars, yesterday's line.
fn hourly(ui: &mut Ui, lang: UiLang, f: &KpiFigures) {
    ui.label(
        RichText::new(lang.t(
            "每小时受理 · 今日与昨日",
            "Intake per hour · today vs yesterday",
        ))
        .font(bold(20.0)),
    );
    let today: Vec<Bar> = f
        .hourly_today
        .iter()
        .enumerate()
        .map(|(h, n)| Bar::new(h as f64, *n as f64).width(0.7).fill(BAR))
        .collect();
    let yesterday: Vec<[f64; 2]> = f
        .hourly_yesterday
        .iter()
        .enumerate()
        .map(|(h, n)| [h as f64, *n as f64])
        .collect();
    let h = ui.available_height().max(60.0);
    super::plot::still_plot("hourly")
        .height(h)
        .include_x(-0.6)
        .include_x(23.6)
        .include_y(0.0)
        .legend(Legend::default().position(egui_plot::Corner::LeftTop))
        .x_axis_formatter(|m, _| format!("{}", m.value.round() as i64))
        .show(ui, |p| {
            p.bar_chart(BarChart::new(lang.t("今日", "today"), today).color(BAR));
            p.line(
                Line::new(lang.t("昨日", "yesterday"), PlotPoints::from(yesterday))
                    .color(YESTERDAY)
                    .width(2.5),
            );
        });
}

/// Horizontal bars, largest first; returns the index (in `rows`) of the bar clicked.
fn hbars(ui: &mut Ui, title: &str, rows: &[(String, u32)], color: Color32) -> Option<usize> {
    ui.label(RichText::new(title).font(bold(20.0)));
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(rows[i].1));
    let ranked: Vec<&(String, u32)> = order.iter().map(|&i| &rows[i]).collect();
    let rows = ranked;
    let avail = ui.available_size();
    let (rect, resp) = ui.allocate_exact_size(avail, egui::Sense::click());
    let p = ui.painter_at(rect);
    // As many rows as fit at a readable height.
    let n = rows.len().min((rect.height() / 20.0) as usize).clamp(1, 8);
    let row_h = (rect.height() / n as f32).min(40.0);
    let font = FontId::proportional((row_h * 0.62).clamp(12.0, 17.0));
    // The names' column is as wide as the widest name (up to half the chart).
    let label_w = rows
        .iter()
        .take(n)
        .map(|(name, _)| {
            p.layout_no_wrap(name.clone(), font.clone(), Color32::WHITE)
                .size()
                .x
        })
        .fold(0.0f32, f32::max)
        .min(rect.width() * 0.5)
        + 8.0;
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f32;
    for (i, (name, v)) in rows.iter().take(n).enumerate() {
        let y = rect.top() + i as f32 * row_h + row_h / 2.0;
        p.text(
            egui::pos2(rect.left(), y),
            Align2::LEFT_CENTER,
            name,
            font.clone(),
            Color32::LIGHT_GRAY,
        );
        let x0 = rect.left() + label_w;
        let w = (rect.width() - label_w - 70.0).max(10.0) * *v as f32 / max;
        p.rect_filled(
            egui::Rect::from_min_size(egui::pos2(x0, y - row_h * 0.3), egui::vec2(w, row_h * 0.6)),
            3.0,
            color.gamma_multiply(0.85),
        );
        p.text(
            egui::pos2(x0 + w + 8.0, y),
            Align2::LEFT_CENTER,
            v.to_string(),
            bold(18.0),
            Color32::WHITE,
        );
    }
    let at = resp.interact_pointer_pos().filter(|_| resp.clicked())?;
    let i = ((at.y - rect.top()) / row_h) as usize;
    (i < n).then(|| order[i])
}

/// How much of the figures a region has room for.
#[derive(Clone, Copy)]
pub struct Fit {
    pub columns: usize,
    pub hot_rows: usize,
}

/// The figures column: the figures, the warnings list (where no warnings region shows
/// them), units on duty and, where it fits whole, the legend.
/// `with_trends`: where no dispatch region shows the 考核 ranking and the 30-day trends,
/// they fill the column's foot when it has room for them.
pub fn column(
    ui: &mut Ui,
    cx: &PanelCtx,
    fit: Fit,
    (with_warnings, with_trends): (bool, bool),
    out: &mut Vec<UiAction>,
) {
    let (lang, m, map) = (cx.lang, cx.mirror, cx.map);
    figures(
        ui,
        lang,
        (m.kpis.as_ref(), map),
        (fit.columns, fit.hot_rows, 1.0),
        out,
    );
    if with_warnings {
        super::warnings::list(ui, lang, m, out);
    }
    ui.add_space(10.0);
    let on = m.units.values().filter(|u| u.on_duty).count();
    ui.label(
        RichText::new(format!(
            "{} {on}/{}",
            lang.t("联动单位在岗", "Units on duty"),
            m.units.len()
        ))
        .size(18.0)
        .color(DIM),
    );
    if with_trends && ui.available_height() > 120.0 {
        ui.add_space(10.0);
        match m.kpis.as_ref() {
            Some(_) if ui.available_height() > 420.0 => super::trends::panel(ui, cx, out),
            Some(f) => super::trends::ranking(ui, cx, f, out),
            None => {}
        }
        return;
    }
    // The legend only where it fits whole: a region never shows half of it.
    if ui.available_height() < 170.0 {
        return;
    }
    ui.add_space(10.0);
    ui.label(RichText::new(lang.t("图例", "Legend")).font(bold(18.0)));
    let row = |ui: &mut Ui, items: &[(Color32, &str, &str)]| {
        ui.horizontal_wrapped(|ui| {
            for (c, zh, en) in items {
                ui.label(
                    RichText::new(format!("● {}", lang.t(zh, en)))
                        .size(17.0)
                        .color(*c),
                );
            }
        });
    };
    row(
        ui,
        &[
            (STATUS[0], "待分拨", "awaiting dispatch"),
            (STATUS[1], "已分拨/签收", "assigned/accepted"),
            (STATUS[2], "处置中", "in progress"),
            (STATUS[3], "超期", "overdue"),
        ],
    );
    ui.label(
        RichText::new(lang.t("四色网格 (地图底色)", "Four-colour risk (map fill)"))
            .size(17.0)
            .color(DIM),
    );
    use crate::rollup::Rating;
    let ratings = [Rating::Red, Rating::Orange, Rating::Yellow, Rating::Green];
    let names = [
        ("红 高风险", "red: high"),
        ("橙 较高", "orange"),
        ("黄 一般", "yellow"),
        ("绿 平稳", "green: calm"),
    ];
    let items: Vec<(Color32, &str, &str)> = ratings
        .iter()
        .zip(names)
        .map(|(r, (zh, en))| (rating_color(*r), zh, en))
        .collect();
    row(ui, &items);
}
