//! A report as PDF: A4 pages, the shipped Noto Sans SC subset embedded (krilla subsets it
//! again to the glyphs used), text that a reader can copy and search (`pdftotext` reads
//! it back), the 30-day trend drawn as bars and a line.

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

use super::Report;

/// The font the walls use, shipped with its licence (assets/fonts/LICENSE-OFL.txt).
static FONT: &[u8] = include_bytes!("../../../../assets/fonts/NotoSansSC-Regular-subset.otf");

const W: f32 = 595.0;
const H: f32 = 842.0;
const MARGIN: f32 = 50.0;

fn color(hex: u32) -> rgb::Color {
    rgb::Color::new((hex >> 16) as u8, (hex >> 8) as u8, hex as u8)
}

fn fill(hex: u32) -> Fill {
    Fill {
        paint: color(hex).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// Lines, pages and the cursor.
struct Pen {
    pages: Vec<Vec<Op>>,
    y: f32,
}

/// What goes on a page, drawn when the document is finished (a page's surface borrows
/// the document).
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        hex: u32,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        hex: u32,
    },
    Line {
        pts: Vec<(f32, f32)>,
        hex: u32,
        width: f32,
    },
}

/// Roughly how wide `s` is at `size`: CJK a full em, the rest about half.
fn width(s: &str, size: f32) -> f32 {
    s.chars()
        .map(|c| if (c as u32) < 0x2E80 { 0.55 } else { 1.0 })
        .sum::<f32>()
        * size
}

/// `s` cut into lines no wider than `max`.
fn wrap(s: &str, size: f32, max: f32) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for c in s.chars() {
        line.push(c);
        if width(&line, size) > max {
            line.pop();
            out.push(std::mem::take(&mut line));
            line.push(c);
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

impl Pen {
    fn page(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let n = self.pages.len();
        &mut self.pages[n - 1]
    }
    /// Room for `h` more points, or a new page.
    fn room(&mut self, h: f32) {
        if self.y + h > H - MARGIN || self.pages.is_empty() {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
    }
    fn text(&mut self, s: &str, size: f32, hex: u32, indent: f32) {
        for line in wrap(s, size, W - 2.0 * MARGIN - indent) {
            self.room(size * 1.6);
            let y = self.y + size;
            self.page().push(Op::Text {
                x: MARGIN + indent,
                y,
                size,
                hex,
                text: line,
            });
            self.y += size * 1.6;
        }
    }
    fn heading(&mut self, s: &str) {
        self.room(50.0);
        self.y += 8.0;
        let y = self.y;
        self.page().push(Op::Rect {
            x: MARGIN,
            y,
            w: 4.0,
            h: 16.0,
            hex: 0xC62828,
        });
        self.text(s, 14.0, 0x1A237E, 10.0);
        self.y += 2.0;
    }
    /// Name, value, definition: one row of a figures table.
    fn figure(&mut self, name: &str, value: &str, definition: &str) {
        self.room(20.0);
        let y = self.y + 11.0;
        let p = self.page();
        p.push(Op::Text {
            x: MARGIN + 10.0,
            y,
            size: 11.0,
            hex: 0x263238,
            text: name.into(),
        });
        p.push(Op::Text {
            x: MARGIN + 100.0,
            y,
            size: 12.0,
            hex: 0x0D47A1,
            text: value.into(),
        });
        p.push(Op::Text {
            x: MARGIN + 180.0,
            y,
            size: 9.0,
            hex: 0x607D8B,
            text: definition.into(),
        });
        self.y += 19.0;
    }
    /// The trend: bars (intake) and a line (resolved).
    fn chart(&mut self, trend: &[(String, u32, u32)]) {
        let (cw, ch) = (W - 2.0 * MARGIN - 30.0, 150.0);
        self.room(ch + 50.0);
        let (x0, y0) = (MARGIN + 30.0, self.y + 10.0);
        let max = trend.iter().map(|t| t.1.max(t.2)).max().unwrap_or(0).max(1) as f32;
        let step = cw / trend.len().max(1) as f32;
        let mut ops = vec![
            Op::Line {
                pts: vec![(x0, y0), (x0, y0 + ch), (x0 + cw, y0 + ch)],
                hex: 0x90A4AE,
                width: 0.8,
            },
            Op::Text {
                x: MARGIN,
                y: y0 + 8.0,
                size: 8.0,
                hex: 0x607D8B,
                text: format!("{}", max as u32),
            },
            Op::Text {
                x: MARGIN + 14.0,
                y: y0 + ch,
                size: 8.0,
                hex: 0x607D8B,
                text: "0".into(),
            },
        ];
        let mut line = Vec::new();
        for (i, (label, intake, resolved)) in trend.iter().enumerate() {
            let x = x0 + i as f32 * step;
            let h = *intake as f32 / max * ch;
            if h > 0.0 {
                ops.push(Op::Rect {
                    x: x + step * 0.15,
                    y: y0 + ch - h,
                    w: step * 0.7,
                    h,
                    hex: 0x64B5F6,
                });
            }
            line.push((x + step * 0.5, y0 + ch - *resolved as f32 / max * ch));
            if i % 5 == 0 || i + 1 == trend.len() {
                ops.push(Op::Text {
                    x,
                    y: y0 + ch + 12.0,
                    size: 7.5,
                    hex: 0x607D8B,
                    text: label.clone(),
                });
            }
        }
        ops.push(Op::Line {
            pts: line,
            hex: 0x2E7D32,
            width: 1.6,
        });
        let ly = y0 + ch + 28.0;
        ops.push(Op::Rect {
            x: x0,
            y: ly - 7.0,
            w: 10.0,
            h: 7.0,
            hex: 0x64B5F6,
        });
        ops.push(Op::Text {
            x: x0 + 14.0,
            y: ly,
            size: 9.0,
            hex: 0x263238,
            text: "受理（柱）".into(),
        });
        ops.push(Op::Line {
            pts: vec![(x0 + 80.0, ly - 3.5), (x0 + 92.0, ly - 3.5)],
            hex: 0x2E7D32,
            width: 1.6,
        });
        ops.push(Op::Text {
            x: x0 + 96.0,
            y: ly,
            size: 9.0,
            hex: 0x263238,
            text: "其中已办结（线）".into(),
        });
        self.page().extend(ops);
        self.y = ly + 10.0;
    }
}

/// The report as a PDF file.
pub fn pdf(r: &Report) -> Result<Vec<u8>, String> {
    let font = Font::new(FONT.to_vec().into(), 0).ok_or("the shipped font does not load")?;
    let mut pen = Pen {
        pages: Vec::new(),
        y: MARGIN,
    };
    pen.room(0.0);
    pen.text(&r.title, 20.0, 0xB71C1C, 0.0);
    pen.text(
        &format!("{}　{}　（生成于 {}）", r.subtitle, r.period, r.made),
        11.0,
        0x455A64,
        0.0,
    );
    pen.heading("一、期内数据");
    for f in &r.figures {
        pen.figure(f.name, &f.value, f.definition);
    }
    pen.heading("二、当前在办（截至生成时）");
    for f in &r.standing {
        pen.figure(f.name, &f.value, f.definition);
    }
    pen.heading("三、近 30 日趋势");
    pen.chart(&r.trend);
    pen.heading("四、考核排名（近 7 个整日）");
    if r.ranking.is_empty() {
        pen.text("暂无", 10.0, 0x607D8B, 10.0);
    }
    for (name, s) in &r.ranking {
        let change = match s.last_week_rank {
            Some(w) if w > s.rank => format!("↑{}", w - s.rank),
            Some(w) if w < s.rank => format!("↓{}", s.rank - w),
            Some(_) => "—".into(),
            None => "新".into(),
        };
        pen.figure(
            &format!("第 {} 名", s.rank),
            &format!("{:.1}", s.score),
            &format!("{name}　较上周 {change}"),
        );
    }
    pen.heading("五、重要事件及处置经过");
    if r.incidents.is_empty() {
        pen.text("期内无红色、橙色预警或升级提醒", 10.0, 0x607D8B, 10.0);
    }
    for i in &r.incidents {
        pen.text(&i.title, 11.5, 0x263238, 10.0);
        for l in &i.lines {
            pen.text(l, 9.5, 0x455A64, 24.0);
        }
    }
    pen.heading("六、疑难案件");
    if r.hard.is_empty() {
        pen.text("暂无", 10.0, 0x607D8B, 10.0);
    }
    for h in &r.hard {
        pen.text(h, 10.0, 0x263238, 10.0);
    }
    pen.heading("七、值班情况");
    if r.duty.is_empty() {
        pen.text("期内无排班记录", 10.0, 0x607D8B, 10.0);
    }
    for d in &r.duty {
        pen.text(d, 10.0, 0x263238, 10.0);
    }
    let n = pen.pages.len();
    let mut doc = Document::new();
    let Pen { pages, .. } = pen;
    for (i, ops) in pages.into_iter().enumerate() {
        let settings = PageSettings::from_wh(W, H).ok_or("page size")?;
        let mut page = doc.start_page_with(settings);
        let mut s = page.surface();
        for op in ops {
            draw(&mut s, &font, op);
        }
        draw(
            &mut s,
            &font,
            Op::Text {
                x: W / 2.0 - 20.0,
                y: H - 25.0,
                size: 8.0,
                hex: 0x90A4AE,
                text: format!("第 {} 页 / 共 {n} 页", i + 1),
            },
        );
        s.finish();
        page.finish();
    }
    doc.finish().map_err(|e| format!("PDF not written: {e:?}"))
}

fn draw(s: &mut Surface, font: &Font, op: Op) {
    match op {
        Op::Text {
            x,
            y,
            size,
            hex,
            text,
        } => {
            s.set_fill(Some(fill(hex)));
            s.draw_text(
                Point::from_xy(x, y),
                font.clone(),
                size,
                &text,
                false,
                TextDirection::Auto,
            );
        }
        Op::Rect { x, y, w, h, hex } => {
            let Some(rect) = Rect::from_xywh(x, y, w, h) else {
                return;
            };
            let mut pb = PathBuilder::new();
            pb.push_rect(rect);
            if let Some(path) = pb.finish() {
                s.set_fill(Some(fill(hex)));
                s.set_stroke(None);
                s.draw_path(&path);
            }
        }
        Op::Line { pts, hex, width } => {
            let mut pb = PathBuilder::new();
            for (i, (x, y)) in pts.iter().enumerate() {
                if i == 0 {
                    pb.move_to(*x, *y);
                } else {
                    pb.line_to(*x, *y);
                }
            }
            if let Some(path) = pb.finish() {
                s.set_fill(None);
                s.set_stroke(Some(Stroke {
                    paint: color(hex).into(),
                    width,
                    ..Default::default()
                }));
                s.draw_path(&path);
                s.set_stroke(None);
            }
        }
    }
}
