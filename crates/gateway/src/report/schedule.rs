//! Scheduled reports: at `[duty.reports] at` each day, the day before's daily report
//! (and on Mondays the week before's weekly one) for the city, written into
//! `[duty.reports] folder` as PDF and HTML (each written whole: a temporary file, then
//! renamed). A report already there is not made again, so a restart does not repeat one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use super::{Kind, build, html, pdf};
use crate::config::GatewayConfig;
use crate::engine::CoreMsg;
use domain::time::local_day;

/// Run until `stop`: once a minute, make what is due.
pub async fn run(
    cfg: std::sync::Arc<GatewayConfig>,
    core: mpsc::Sender<CoreMsg>,
    mut stop: watch::Receiver<bool>,
) {
    let Some(duty) = cfg.duty.clone() else { return };
    let Some(folder) = duty.reports.folder.clone() else {
        return;
    };
    let at = super::super::duty::config::parse_hhmm(&duty.reports.at).unwrap_or(450) as i64;
    let names = super::names(&cfg);
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let now = domain::time::now_ms();
        let c = domain::time::civil(now);
        if (c.hour * 60 + c.minute) < at as u32 {
            continue;
        }
        let yesterday = local_day(now) - 1;
        // 1970-01-01 was a Thursday: day % 7 == 4 is a Monday.
        let monday = (yesterday + 1).rem_euclid(7) == 4;
        let mut due = vec![(Kind::Daily, yesterday)];
        if monday {
            due.push((Kind::Weekly, yesterday));
        }
        for (kind, day) in due {
            let base = file_base(&folder, kind, day);
            if base.with_extension("pdf").exists() {
                continue;
            }
            let (tx, rx) = oneshot::channel();
            let ask = CoreMsg::Report {
                region: String::new(),
                reply: tx,
            };
            if core.send(ask).await.is_err() {
                return;
            }
            let inputs = match rx.await {
                Ok(Ok(i)) => i,
                Ok(Err(e)) => {
                    tracing::warn!("scheduled report not made: {e}");
                    continue;
                }
                Err(_) => return,
            };
            match build(kind, day, &inputs, &duty.reports.center, &names)
                .and_then(|r| Ok((pdf(&r)?, html(&r))))
            {
                Ok((p, h)) => {
                    if let Err(e) = write_whole(&base.with_extension("html"), h.as_bytes())
                        .and_then(|_| write_whole(&base.with_extension("pdf"), &p))
                    {
                        tracing::error!(folder = %folder.display(), "report not written: {e}");
                    } else {
                        tracing::info!(file = %base.with_extension("pdf").display(), "report written");
                    }
                }
                Err(e) => tracing::warn!("scheduled report not made: {e}"),
            }
        }
    }
}

/// `<folder>/daily-2026-12-07` (no extension).
pub fn file_base(folder: &Path, kind: Kind, day: i64) -> PathBuf {
    folder.join(format!("{}-{}", kind.as_str(), domain::time::day_date(day)))
}

fn write_whole(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("part");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
