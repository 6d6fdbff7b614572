//! A report as one HTML page (no script, no outside file): the same sections as the
//! PDF, the trend as inline SVG.

use super::Report;
use crate::xml::escape;

fn table(rows: &[super::Figure]) -> String {
    let mut o = String::from("<table>");
    for f in rows {
        o += &format!(
            "<tr><th>{}</th><td class=v>{}</td><td class=d>{}</td></tr>",
            escape(f.name),
            escape(&f.value),
            escape(f.definition)
        );
    }
    o + "</table>"
}

fn chart(trend: &[(String, u32, u32)]) -> String {
    let (w, h) = (720.0_f32, 180.0_f32);
    let max = trend.iter().map(|t| t.1.max(t.2)).max().unwrap_or(0).max(1) as f32;
    let step = w / trend.len().max(1) as f32;
    let mut o = format!(
        "<svg viewBox=\"0 0 {} {}\" role=img aria-label=\"近 30 日受理与办结\"><line x1=30 y1={h} x2={} y2={h} stroke=#90a4ae />",
        w + 40.0,
        h + 30.0,
        w + 30.0
    );
    let mut pts = Vec::new();
    for (i, (label, intake, resolved)) in trend.iter().enumerate() {
        let x = 30.0 + i as f32 * step;
        let bh = *intake as f32 / max * h;
        o += &format!(
            "<rect x={:.1} y={:.1} width={:.1} height={:.1} fill=#64b5f6><title>{} 受理 {intake} 办结 {resolved}</title></rect>",
            x + step * 0.15,
            h - bh,
            step * 0.7,
            bh,
            escape(label)
        );
        pts.push(format!(
            "{:.1},{:.1}",
            x + step * 0.5,
            h - *resolved as f32 / max * h
        ));
        if i % 5 == 0 || i + 1 == trend.len() {
            o += &format!(
                "<text x={x:.1} y={} font-size=11 fill=#607d8b>{}</text>",
                h + 16.0,
                escape(label)
            );
        }
    }
    o += &format!(
        "<polyline points=\"{}\" fill=none stroke=#2e7d32 stroke-width=2 /><text x=0 y=12 font-size=11 fill=#607d8b>{}</text></svg>",
        pts.join(" "),
        max as u32
    );
    o
}

/// The report as an HTML page.
pub fn html(r: &Report) -> String {
    let mut o = format!(
        "<!doctype html><html lang=zh-CN><meta charset=utf-8><title>{}</title>\
<style>body{{font-family:'Noto Sans SC','Noto Sans CJK SC',sans-serif;max-width:820px;margin:2em auto;color:#263238}}\
h1{{color:#b71c1c;font-size:1.6em}}h2{{color:#1a237e;border-left:4px solid #c62828;padding-left:.5em;font-size:1.15em}}\
th{{text-align:left;font-weight:normal;padding:.2em 1em .2em 0}}td.v{{color:#0d47a1;font-size:1.1em;padding-right:1.5em}}td.d{{color:#607d8b;font-size:.85em}}\
li{{margin:.2em 0}}.t{{color:#455a64;font-size:.9em}}</style>\
<h1>{}</h1><p>{}　{}　（生成于 {}）</p>",
        escape(&r.title),
        escape(&r.title),
        escape(&r.subtitle),
        escape(&r.period),
        escape(&r.made)
    );
    o += "<h2>一、期内数据</h2>";
    o += &table(&r.figures);
    o += "<h2>二、当前在办（截至生成时）</h2>";
    o += &table(&r.standing);
    o += "<h2>三、近 30 日趋势</h2>";
    o += &chart(&r.trend);
    o += "<p class=t>柱：受理；线：其中已办结</p><h2>四、考核排名（近 7 个整日）</h2><ol>";
    for (name, s) in &r.ranking {
        o += &format!("<li>{} {:.1}</li>", escape(name), s.score);
    }
    o += "</ol><h2>五、重要事件及处置经过</h2>";
    for i in &r.incidents {
        o += &format!("<h3>{}</h3><ul class=t>", escape(&i.title));
        for l in &i.lines {
            o += &format!("<li>{}</li>", escape(l));
        }
        o += "</ul>";
    }
    o += "<h2>六、疑难案件</h2><ul>";
    for h in &r.hard {
        o += &format!("<li>{}</li>", escape(h));
    }
    o += "</ul><h2>七、值班情况</h2><ul>";
    for d in &r.duty {
        o += &format!("<li>{}</li>", escape(d));
    }
    o + "</ul></html>\n"
}
