//! The month behind today's figures: each figure's 30-day trend (intake, 办结率, 按时率,
//! 满意率, by day of intake) and the districts' 考核 ranking over the last week with the
//! change since the week before. Shown where the selected ticket goes while none is
//! selected, so that no panel of a wall stands empty.

use bevy_egui::egui::{self, Color32, RichText, Ui};
use egui_plot::{Line, PlotPoints};

use super::PanelCtx;
use crate::action::UiAction;
use crate::fonts::bold;
use crate::theme::{AMBER, CYAN, DIM, GREEN, RED};
use crate::view::region_name;
use protocol::KpiFigures;
use protocol::kpi::DayFigures;

/// The ranking above, the trends below, in `ui`'s space.
pub fn panel(ui: &mut Ui, cx: &PanelCtx, out: &mut Vec<UiAction>) {
    let Some(f) = cx.mirror.kpis.as_ref() else {
        return;
    };
    let h = ui.available_height();
    ui.allocate_ui(egui::vec2(ui.available_width(), h * 0.42), |ui| {
        ranking(ui, cx, f, out)
    });
    ui.separator();
    trends(ui, cx, f);
}

/// 考核: the districts ranked on the last 7 whole days, with the change in place.
pub fn ranking(ui: &mut Ui, cx: &PanelCtx, f: &KpiFigures, out: &mut Vec<UiAction>) {
    let lang = cx.lang;
    ui.label(RichText::new(lang.t("考核排名 · 近7日", "Ranking · last 7 days")).font(bold(20.0)));
    if f.ranking.is_empty() {
        ui.label(
            RichText::new(lang.t("近7日尚无工单", "No tickets in the last 7 days"))
                .size(17.0)
                .color(DIM),
        );
        return;
    }
    // Side by side in two halves where the height is short (a figures column's foot).
    let halves = if ui.available_height() < 26.0 * f.ranking.len() as f32 {
        2
    } else {
        1
    };
    let rows = f.ranking.len().div_ceil(halves);
    egui::Grid::new("ranking")
        .num_columns(4 * halves)
        .spacing(egui::vec2(18.0, 4.0))
        .show(ui, |ui| {
            for r in 0..rows {
                for h in 0..halves {
                    let Some(d) = f.ranking.get(h * rows + r) else {
                        continue;
                    };
                    ui.label(
                        RichText::new(d.rank.to_string())
                            .font(bold(20.0))
                            .color(if d.rank <= 3 { AMBER } else { DIM }),
                    );
                    let name = region_name(cx.map, &d.district);
                    if ui
                        .add(
                            egui::Label::new(RichText::new(name).size(19.0))
                                .sense(egui::Sense::click()),
                        )
                        .on_hover_text(lang.t("地图转到该区县", "Show it on the map"))
                        .clicked()
                    {
                        out.push(UiAction::Focus(d.district.clone()));
                    }
                    ui.label(RichText::new(format!("{:.1}", d.score)).font(bold(19.0)));
                    let (text, color) = match d.last_week_rank {
                        Some(w) if w > d.rank => (format!("↑{}", w - d.rank), GREEN),
                        Some(w) if w < d.rank => (format!("↓{}", d.rank - w), RED),
                        Some(_) => ("—".to_string(), DIM),
                        None => (lang.t("新", "new").to_string(), CYAN),
                    };
                    ui.label(RichText::new(text).font(bold(18.0)).color(color));
                }
                ui.end_row();
            }
        });
}

/// Whole days before the last this many are settled: their tickets' deadlines (3 days
/// at most, the normal SLA) have passed, so their rates no longer climb. Later days are
/// drawn dashed: they will rise as their tickets close.
const SETTLING_DAYS: usize = 3;

/// One small line chart a figure over the last 30 days: whole days only, today apart.
pub fn trends(ui: &mut Ui, cx: &PanelCtx, f: &KpiFigures) {
    let lang = cx.lang;
    ui.label(
        RichText::new(lang.t(
            "近30日趋势 · 按受理日 · 虚线: 尚在办理期内",
            "30 days · by day taken in · dashed: still within time",
        ))
        .font(bold(20.0)),
    );
    // Whole days only: today's is a partial day, shown apart (its intake so far); the
    // rates leave it out (its tickets are mostly still open).
    let days: &[DayFigures] = &f.trend;
    let whole = &days[..days.len().saturating_sub(1)];
    let today = days.last();
    let settled = whole.len().saturating_sub(SETTLING_DAYS - 1);
    type Pick = fn(&DayFigures) -> Option<f64>;
    let series: [(&str, &str, Pick, Color32, bool); 4] = [
        ("受理量", "Intake", |d| Some(d.intake as f64), CYAN, false),
        (
            "办结率",
            "Closure",
            |d| d.closure().map(|r| r * 100.0),
            GREEN,
            true,
        ),
        (
            "按时办结率",
            "On time",
            |d| d.on_time_rate().map(|r| r * 100.0),
            AMBER,
            true,
        ),
        (
            "满意率",
            "Satisfied",
            |d| d.satisfaction().map(|r| r * 100.0),
            GREEN,
            true,
        ),
    ];
    let cell_h = ((ui.available_height() - 8.0) / 2.0 - 30.0).max(40.0);
    let w = ui.available_width() / 2.0 - 8.0;
    egui::Grid::new("trends")
        .num_columns(2)
        .spacing(egui::vec2(8.0, 4.0))
        .show(ui, |ui| {
            for (i, (zh, en, pick, color, rate)) in series.iter().enumerate() {
                ui.vertical(|ui| {
                    ui.set_width(w);
                    let pts: Vec<[f64; 2]> = whole
                        .iter()
                        .enumerate()
                        .filter_map(|(k, d)| pick(d).map(|v| [k as f64, v]))
                        .collect();
                    // A rate's headline is its last settled day's; the intake's, today's
                    // so far, said as such.
                    let (solid, dashed): (Vec<[f64; 2]>, Vec<[f64; 2]>) = if *rate {
                        let cut = pts.partition_point(|p| (p[0] as usize) < settled);
                        let dashed = pts[cut.saturating_sub(1)..].to_vec();
                        (pts[..cut].to_vec(), dashed)
                    } else {
                        (pts.clone(), vec![])
                    };
                    let headline = match (*rate, solid.last(), today) {
                        (true, Some(p), _) => format!("{:.1}%", p[1]),
                        (false, _, Some(t)) => format!(
                            "{} {}",
                            lang.t(
                                &format!("今日截至{}", crate::text::hhmm(cx.now)),
                                &format!("today to {}", crate::text::hhmm(cx.now))
                            ),
                            t.intake
                        ),
                        _ => "—".into(),
                    };
                    ui.label(
                        RichText::new(format!("{}  {headline}", lang.t(zh, en)))
                            .size(17.0)
                            .color(*color),
                    );
                    let today_pt = (!*rate)
                        .then(|| today.and_then(|d| pick(d).map(|v| [whole.len() as f64, v])))
                        .flatten();
                    let pts = solid;
                    let lo = pts.iter().map(|p| p[1]).fold(f64::MAX, f64::min);
                    super::plot::still_plot(("trend", i))
                        .height(cell_h)
                        .width(w)
                        .show_axes([false, true])
                        .include_y(if *rate { lo.min(95.0) } else { 0.0 })
                        .include_y(if *rate { 100.0 } else { 0.0 })
                        .show(ui, |p| {
                            p.line(
                                Line::new(lang.t(zh, en), PlotPoints::from(pts))
                                    .color(*color)
                                    .width(2.5),
                            );
                            if dashed.len() > 1 {
                                p.line(
                                    Line::new("", PlotPoints::from(dashed))
                                        .color(*color)
                                        .width(2.0)
                                        .style(egui_plot::LineStyle::dashed_loose()),
                                );
                            }
                            if let Some(pt) = today_pt {
                                p.points(
                                    egui_plot::Points::new("", PlotPoints::from(vec![pt]))
                                        .color(DIM)
                                        .radius(4.0),
                                );
                            }
                        });
                });
                if i % 2 == 1 {
                    ui.end_row();
                }
            }
        });
}
