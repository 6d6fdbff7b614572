//! `--screenshot FILE --frames N`: render N frames, save the window to a PNG, exit.
//! Used by the README's pictures and the screenshot test under Xvfb.

use std::path::PathBuf;

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured, save_to_disk};

use super::dispatch::UiAction;
use super::state::Queue;

#[derive(Resource)]
struct Shot {
    path: PathBuf,
    at: u32,
    frame: u32,
    /// Select the queue's first ticket half-way, to show the dispatch panel.
    select_top: bool,
}

pub fn plugin(app: &mut App, path: PathBuf, frames: u32, select_top: bool) {
    app.insert_resource(Shot {
        path,
        at: frames.max(2),
        frame: 0,
        select_top,
    })
    .add_systems(Last, take);
}

fn take(
    mut commands: Commands,
    mut shot: ResMut<Shot>,
    queue: Res<Queue>,
    mirror: Res<super::link::WallMirror>,
    mut actions: MessageWriter<UiAction>,
) {
    shot.frame += 1;
    // The first ticket still waiting for dispatch, else the first of the queue.
    let waiting = || {
        queue
            .rows
            .iter()
            .find(|id| {
                mirror.0.tickets.get(id).is_some_and(|t| {
                    matches!(
                        t.status,
                        crate::protocol::TicketStatus::Received
                            | crate::protocol::TicketStatus::Returned
                    )
                })
            })
            .or(queue.rows.first())
            .copied()
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
