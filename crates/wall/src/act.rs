//! The one place every `UiAction` is applied. A command is armed behind the undo window
//! (or sent at once) and goes to the gateway through the outbox; its effect comes back
//! through the feed like any change. Selection, focus and rewind are view state and
//! change here. Nothing here edits the mirror.

use std::time::Instant;

use bevy::prelude::*;

use super::WallSet;
use super::action::{Armed, Selection, UiAction, UndoWindow};
use super::drill::bounds;
use super::link::{AuditTrails, FeedLink, Outbox, WallMirror};
use super::rewind::{REWIND_SPEED, Rewind};
use super::view::{Focus, Framed, MapLayers};
use domain::units;
use protocol::{ClientMsg, Command};

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Selection>()
        .init_resource::<UndoWindow>()
        .init_resource::<Focus>()
        .init_resource::<super::action::QueueFilter>()
        .add_message::<UiAction>()
        .add_systems(Update, (act, fire_armed).chain().in_set(WallSet::Derive));
}

/// The one-click dispatch for a ticket as the panel offers it: to the first recommended
/// unit (the same list the panel shows, the unit that returned it last).
pub fn dispatch_command(mirror: &WallMirror, trails: &AuditTrails, ticket: u64) -> Option<Command> {
    let t = mirror.0.tickets.get(&ticket)?;
    units::dispatch_command(
        mirror.0.units.values(),
        t,
        trails.0.get(&ticket).map(|v| v.as_slice()),
    )
}

/// Everything the wall's widgets and inputs asked for this frame.
#[derive(bevy::ecs::system::SystemParam)]
struct Targets<'w> {
    sel: ResMut<'w, Selection>,
    focus: ResMut<'w, Focus>,
    outbox: ResMut<'w, Outbox>,
    link: Option<Res<'w, FeedLink>>,
    mirror: Res<'w, WallMirror>,
    map: Option<Res<'w, MapLayers>>,
    framed: Option<ResMut<'w, Framed>>,
    base: Option<ResMut<'w, super::basemap::BaseMap>>,
    filter: ResMut<'w, super::action::QueueFilter>,
    rewind: Option<ResMut<'w, Rewind>>,
}

fn act(mut actions: MessageReader<UiAction>, mut t: Targets, mut commands: Commands) {
    for a in actions.read() {
        match a {
            UiAction::Select(id) => {
                if t.sel.ticket != Some(*id) {
                    t.sel.armed = None;
                    t.sel.sent = None;
                }
                t.sel.ticket = Some(*id);
                if let Some(link) = &t.link {
                    let _ = link
                        .commands
                        .try_send(ClientMsg::AuditQuery { ticket: *id });
                }
                // Fly to the ticket with its village and the villages around in view, so
                // that the place is recognisable (a fixed deep zoom showed one blank cell).
                if let (Some(tk), Some(map)) = (t.mirror.0.tickets.get(id), &t.map) {
                    let at = map.proj.to_world(tk.lon, tk.lat);
                    let village: Vec<&str> = tk.grid.split('-').take(3).collect();
                    let half = bounds(map, &village.join("-"))
                        .map_or(Vec2::splat(1.5), |(lo, hi)| {
                            (hi - lo).max(Vec2::splat(0.6)) * 1.5
                        });
                    if let Some(f) = t.framed.as_mut() {
                        f.0 = Some((at - half, at + half));
                    }
                }
            }
            UiAction::Deselect => {
                t.sel.ticket = None;
                t.sel.armed = None;
            }
            UiAction::Arm { command, label } => {
                t.sel.armed = Some(Armed {
                    command: command.clone(),
                    label: label.clone(),
                    at: Instant::now(),
                });
                t.sel.sent = None;
            }
            UiAction::Undo => t.sel.armed = None,
            UiAction::Send(command) => {
                if let Some(link) = &t.link {
                    t.outbox.send(link, command.clone());
                }
            }
            UiAction::Focus(r) => {
                if t.focus.0 != *r {
                    t.focus.0 = r.clone();
                }
            }
            UiAction::Filter(f) => {
                if *t.filter != *f {
                    *t.filter = f.clone();
                }
            }
            UiAction::ToggleBase(i) => {
                if let Some(l) = t.base.as_mut().and_then(|b| b.layers.get_mut(*i)) {
                    l.visible = !l.visible;
                }
            }
            UiAction::Frame(regions) => {
                let Some(map) = &t.map else { continue };
                let boxes: Vec<(Vec2, Vec2)> =
                    regions.iter().filter_map(|r| bounds(map, r)).collect();
                if boxes.is_empty() {
                    continue;
                }
                let lo = boxes.iter().fold(Vec2::MAX, |a, b| a.min(b.0));
                let hi = boxes.iter().fold(Vec2::MIN, |a, b| a.max(b.1));
                if let Some(f) = t.framed.as_mut() {
                    f.0 = Some((lo, hi));
                }
            }
            UiAction::Rewind(to) => {
                if let Some(rewind) = t.rewind.as_mut()
                    && let Some(link) = switch(rewind, *to)
                {
                    // The old link is dropped here: its network thread ends with it.
                    commands.insert_resource(link);
                }
            }
            // The photo viewer's own (`photos.rs`).
            UiAction::ShowPhoto(_) => {}
        }
    }
}

/// Start a replay from `to` (or stop it: back to live) and open the feed to watch.
fn switch(rewind: &mut Rewind, to: Option<i64>) -> Option<FeedLink> {
    let cfg = match to {
        Some(from) => match rewind.source.start(from, REWIND_SPEED) {
            Ok(cfg) => {
                rewind.active = Some(from);
                cfg
            }
            Err(e) => {
                rewind.error = Some(format!("{e:#}"));
                return None;
            }
        },
        None => {
            rewind.source.stop();
            rewind.active = None;
            rewind.live.clone()
        }
    };
    match feed::spawn(cfg) {
        Ok(h) => {
            rewind.error = None;
            Some(FeedLink::from(h))
        }
        Err(e) => {
            rewind.error = Some(e.to_string());
            None
        }
    }
}

/// Send the armed command once its undo window has passed.
fn fire_armed(
    mut sel: ResMut<Selection>,
    window: Res<UndoWindow>,
    link: Option<Res<FeedLink>>,
    mut outbox: ResMut<Outbox>,
) {
    let Some(link) = link else { return };
    let due = sel
        .armed
        .as_ref()
        .is_some_and(|a| a.at.elapsed() >= window.0);
    if due && let Some(a) = sel.armed.take() {
        let key = outbox.send(&link, a.command);
        sel.sent = Some((key, a.label));
    }
}
