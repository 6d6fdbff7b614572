//! Tour mode for site visits (参观考察): a scripted, self-running sequence of views read
//! from a TOML file (`config/tours/*.toml`), each with an area, a time and a caption, that
//! loops for as long as the wall runs. It only steers the view (focus, selection,
//! overlays) through `UiAction`s and holds a fixed amount of state, so hours of looping
//! leave memory where it was. Validation names the step and says what to fix.

use std::path::Path;
use std::time::{Duration, Instant};

use bevy::prelude::*;
use serde::Deserialize;

use super::WallSet;
use super::action::UiAction;
use super::link::WallMirror;
use protocol::Priority;

/// What a step shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// The whole city.
    Overview,
    /// Drilled down to `area`.
    Region,
    /// The newest urgent open ticket, selected: its dispatch and audit trail.
    Ticket,
    /// The figures, large, over the map.
    Kpis,
    /// The warnings board, large, over the map.
    Warnings,
}

impl View {
    /// The name the tour file uses.
    pub fn name(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Region => "region",
            View::Ticket => "ticket",
            View::Kpis => "kpis",
            View::Warnings => "warnings",
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub view: View,
    #[serde(default)]
    pub area: Option<String>,
    pub seconds: f32,
    pub caption: String,
    #[serde(default)]
    pub caption_en: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tour {
    pub name: String,
    pub steps: Vec<Step>,
}

#[derive(thiserror::Error, Debug, PartialEq)]
#[error("{file}: {message}")]
pub struct TourError {
    pub file: String,
    pub message: String,
}

impl Tour {
    /// Read and check a tour; `known_area` says whether a region id is on the map.
    pub fn load(path: &Path, known_area: impl Fn(&str) -> bool) -> Result<Tour, TourError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| TourError {
            file: file.clone(),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, &file, known_area)
    }

    pub fn parse(
        text: &str,
        file: &str,
        known_area: impl Fn(&str) -> bool,
    ) -> Result<Tour, TourError> {
        let bad = |message: String| TourError {
            file: file.into(),
            message,
        };
        let tour: Tour = toml::from_str(text).map_err(|e| {
            let m = e.to_string();
            if m.contains("unknown variant") {
                bad(format!(
                    "{m}\nknown views: overview, region, ticket, kpis, warnings"
                ))
            } else {
                bad(m)
            }
        })?;
        if tour.steps.is_empty() {
            return Err(bad("no steps: add at least one [[steps]]".into()));
        }
        for (i, s) in tour.steps.iter().enumerate() {
            let n = i + 1;
            if !(s.seconds >= 3.0 && s.seconds <= 3600.0) {
                return Err(bad(format!(
                    "step {n}: seconds = {}: a step stays 3 to 3600 seconds",
                    s.seconds
                )));
            }
            if s.caption.trim().is_empty() {
                return Err(bad(format!("step {n}: the caption is empty")));
            }
            match (s.view, &s.area) {
                (View::Region, None) => {
                    return Err(bad(format!(
                        "step {n}: a region view needs an area (a district, town, village or grid id)"
                    )));
                }
                (View::Region, Some(a)) if !known_area(a) => {
                    return Err(bad(format!(
                        "step {n}: area '{a}' is not on the map: use an id from the map's layers, e.g. 321102 or 321102-12"
                    )));
                }
                (View::Region, Some(_)) => {}
                (v, Some(a)) => {
                    return Err(bad(format!(
                        "step {n}: a {} view takes no area (found '{a}')",
                        v.name()
                    )));
                }
                (_, None) => {}
            }
        }
        Ok(tour)
    }
}

/// A tour running on the wall.
#[derive(Resource)]
pub struct TourState {
    pub tour: Tour,
    pub step: usize,
    pub since: Instant,
    /// The step's view has been set up.
    entered: bool,
}

impl TourState {
    pub fn new(tour: Tour, start: usize) -> Self {
        let step = start.min(tour.steps.len().saturating_sub(1));
        TourState {
            tour,
            step,
            since: Instant::now(),
            entered: false,
        }
    }

    pub fn current(&self) -> &Step {
        &self.tour.steps[self.step]
    }
}

pub(super) fn plugin(app: &mut App) {
    app.add_systems(
        Update,
        advance
            .run_if(resource_exists::<TourState>)
            .in_set(WallSet::Derive),
    );
}

/// Move to the next step when the time is up; steer the view on entering a step.
fn advance(
    mut tour: ResMut<TourState>,
    mirror: Res<WallMirror>,
    mut actions: MessageWriter<UiAction>,
) {
    let now = Instant::now();
    if mirror.0.epoch.is_empty() {
        // No data yet: the first step's time starts when the city shows.
        tour.since = now;
        return;
    }
    if now.duration_since(tour.since) >= Duration::from_secs_f32(tour.current().seconds) {
        tour.step = (tour.step + 1) % tour.tour.steps.len();
        tour.since = now;
        tour.entered = false;
    }
    if tour.entered {
        return;
    }
    let step = tour.current().clone();
    match step.view {
        View::Region => {
            actions.write(UiAction::Deselect);
            actions.write(UiAction::Focus(step.area.unwrap_or_default()));
        }
        View::Ticket => {
            // The newest urgent ticket still waiting for dispatch, so that the visit
            // sees it go through; with none, the step shows the city (looked for once,
            // not every frame).
            let pick = mirror
                .0
                .tickets
                .values()
                .filter(|t| t.status.is_open() && t.priority == Priority::Urgent)
                .max_by_key(|t| (t.unit.is_none(), t.created_ms));
            actions.write(UiAction::Focus(String::new()));
            actions.write(match pick {
                Some(t) => UiAction::Select(t.id),
                None => UiAction::Deselect,
            });
        }
        View::Overview | View::Kpis | View::Warnings => {
            actions.write(UiAction::Deselect);
            actions.write(UiAction::Focus(String::new()));
        }
    }
    tour.entered = true;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(a: &str) -> bool {
        ["321102", "321102-12"].contains(&a)
    }

    #[test]
    fn the_shipped_tour_is_valid() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join("config/tours/site-visit.toml");
        let t = Tour::load(&path, known).unwrap();
        let views: Vec<View> = t.steps.iter().map(|s| s.view).collect();
        for v in [
            View::Overview,
            View::Region,
            View::Ticket,
            View::Kpis,
            View::Warnings,
        ] {
            assert!(views.contains(&v), "the site visit shows {v:?}");
        }
    }

    #[test]
    fn bad_tours_say_what_to_fix() {
        let err = |t: &str| Tour::parse(t, "t.toml", known).unwrap_err().message;
        let m = err("name = \"x\"\n[[steps]]\nview = \"map\"\nseconds = 5\ncaption = \"c\"\n");
        assert!(m.contains("known views"), "{m}");
        let m = err(
            "name = \"x\"\n[[steps]]\nview = \"region\"\narea = \"999999\"\nseconds = 5\ncaption = \"c\"\n",
        );
        assert!(m.contains("step 1") && m.contains("not on the map"), "{m}");
        let m = err("name = \"x\"\n[[steps]]\nview = \"region\"\nseconds = 5\ncaption = \"c\"\n");
        assert!(m.contains("needs an area"), "{m}");
        let m = err("name = \"x\"\n[[steps]]\nview = \"kpis\"\nseconds = 1\ncaption = \"c\"\n");
        assert!(m.contains("3 to 3600"), "{m}");
        let m = err("name = \"x\"\nsteps = []\n");
        assert!(m.contains("no steps"), "{m}");
        let m = err(
            "name = \"x\"\n[[steps]]\nview = \"kpis\"\nseconds = 5\ncaption = \"c\"\nspeed = 2\n",
        );
        assert!(m.contains("speed"), "unknown fields are named: {m}");
    }
}
