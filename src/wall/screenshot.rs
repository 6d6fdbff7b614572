//! `--screenshot FILE --frames N`: render N frames, save the window to a PNG, exit.
//! Used by the README's pictures and the screenshot test under Xvfb.

use std::path::PathBuf;

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, save_to_disk};

#[derive(Resource)]
struct Shot {
    path: PathBuf,
    at: u32,
    frame: u32,
}

pub fn plugin(app: &mut App, path: PathBuf, frames: u32) {
    app.insert_resource(Shot {
        path,
        at: frames.max(2),
        frame: 0,
    })
    .add_systems(Last, take);
}

fn take(mut commands: Commands, mut shot: ResMut<Shot>) {
    shot.frame += 1;
    if shot.frame == shot.at {
        let path = shot.path.clone();
        commands
            .spawn(Screenshot::primary_window())
            .observe(save_to_disk(path))
            .observe(
                |_: On<bevy::render::view::screenshot::ScreenshotCaptured>,
                 mut exit: MessageWriter<AppExit>| {
                    exit.write(AppExit::Success);
                },
            );
    }
}
