//! `--screenshot FILE --frames N`: render N frames once the first snapshot is in, save the
//! window to a PNG, exit.
//! Used by the README's pictures and the screenshot test under Xvfb.

use std::path::PathBuf;

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};

use super::action::UiAction;
use super::state::Queue;

#[derive(Resource)]
struct Shot {
    path: PathBuf,
    at: u32,
    frame: u32,
    /// Select the queue's first ticket half-way, to show the dispatch panel.
    select_top: bool,
    /// Start a briefing half-way (the first ticket in progress, else the worst
    /// warning with tickets) and promote two of its entries at three quarters.
    brief: bool,
}

pub fn plugin(app: &mut App, path: PathBuf, frames: u32, select_top: bool, brief: bool) {
    app.insert_resource(Shot {
        path,
        at: frames.max(3),
        frame: 0,
        select_top,
        brief,
    })
    .add_systems(Last, take);
}

fn take(
    mut commands: Commands,
    mut shot: ResMut<Shot>,
    queue: Res<Queue>,
    mirror: Res<super::link::WallMirror>,
    trails: Res<super::link::AuditTrails>,
    health: Res<super::link::FeedHealth>,
    mut actions: MessageWriter<UiAction>,
) {
    use protocol::{Command, Incident, TicketStatus};
    // Frames count from the first snapshot on: a picture of "connecting" shows nothing.
    if health.loading {
        return;
    }
    shot.frame += 1;
    if shot.brief && shot.frame == shot.at / 2 {
        let warning = mirror
            .0
            .warnings
            .values()
            .filter(|w| !w.tickets.is_empty())
            .min_by_key(|w| (w.level, std::cmp::Reverse(w.raised_ms)));
        let red = mirror
            .0
            .warnings
            .values()
            .find(|w| w.level == protocol::WarningLevel::Red)
            .map(|w| Incident::Warning { id: w.id });
        // A red warning (the flood) first; then a ticket in progress, which has the
        // richer trail; then the worst warning with tickets.
        let incident = red.or_else(|| {
            queue
                .ids()
                .find(|id| {
                    mirror
                        .0
                        .tickets
                        .get(id)
                        .is_some_and(|t| t.status == TicketStatus::InProgress)
                })
                .map(|id| Incident::Ticket { id })
                .or(warning.map(|w| Incident::Warning { id: w.id }))
        });
        if let Some(incident) = incident {
            actions.write(UiAction::Send(Command::StartBriefing { incident }));
        }
    }
    if shot.brief
        && shot.frame == shot.at * 3 / 4
        && let Some(b) = &mirror.0.briefing
    {
        let tl = super::briefing::timeline(b, &trails);
        for (_, a) in tl.first().into_iter().chain(tl.last()) {
            actions.write(UiAction::Send(Command::Promote {
                seq: a.seq,
                significant: true,
            }));
        }
    }
    // The first ticket still waiting for dispatch, else the first of the queue.
    let waiting = || {
        queue
            .ids()
            .find(|id| {
                mirror.0.tickets.get(id).is_some_and(|t| {
                    matches!(
                        t.status,
                        protocol::TicketStatus::Received | protocol::TicketStatus::Returned
                    )
                })
            })
            .or(queue.ids().next())
    };
    if shot.select_top
        && shot.frame == shot.at / 2
        && let Some(id) = waiting()
    {
        actions.write(UiAction::Select(id));
    }
    if shot.frame == shot.at {
        commands
            .spawn(Screenshot::primary_window())
            .observe(save_to_disk(shot.path.clone()))
            .observe(
                |_: On<ScreenshotCaptured>, mut exit: MessageWriter<AppExit>| {
                    exit.write(AppExit::Success);
                },
            );
    }
}
