//! Wall layouts: `config/layouts/*.toml` describe a wall of N x M panels and which region
//! sits where, in panel units (x = 1.5 is the middle of the second column). Validation
//! makes sure that nothing but the map crosses a bezel, that regions do not overlap and
//! that every region is on the wall, and says what to fix when one does not.

use std::path::Path;

use serde::Deserialize;

/// What a region shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    Title,
    Map,
    Kpis,
    Charts,
    Queue,
    Warnings,
    Dispatch,
}

impl RegionKind {
    const NAMES: &'static str = "title, map, kpis, charts, queue, warnings, dispatch";

    /// The name the layout file uses.
    pub fn name(self) -> &'static str {
        match self {
            RegionKind::Title => "title",
            RegionKind::Map => "map",
            RegionKind::Kpis => "kpis",
            RegionKind::Charts => "charts",
            RegionKind::Queue => "queue",
            RegionKind::Warnings => "warnings",
            RegionKind::Dispatch => "dispatch",
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Panel {
    pub width: u32,
    pub height: u32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub kind: RegionKind,
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    pub name: String,
    pub columns: u32,
    pub rows: u32,
    pub panel: Panel,
    /// How much larger the type is than at a desk, on a 1080p panel: walls are read from
    /// 5 m (default 1.45: body text ≈ 25 px, figures ≈ 64 px); a console sets 1.0.
    #[serde(default)]
    pub zoom: Option<f32>,
    pub regions: Vec<Region>,
}

#[derive(thiserror::Error, Debug, PartialEq)]
pub enum LayoutError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

const EPS: f32 = 1e-4;

/// Is there a panel edge strictly inside (a, a + len)?
fn crosses_edge(a: f32, len: f32) -> bool {
    let first = (a + EPS).floor() + 1.0;
    first < a + len - EPS
}

impl Layout {
    pub fn load(path: &Path) -> Result<Layout, LayoutError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| LayoutError::Invalid {
            file: file.clone(),
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&text, &file)
    }

    pub fn parse(text: &str, file: &str) -> Result<Layout, LayoutError> {
        let bad = |message: String| LayoutError::Invalid {
            file: file.into(),
            message,
        };
        let layout: Layout = toml::from_str(text).map_err(|e| {
            let m = e.to_string();
            if m.contains("unknown variant") {
                bad(format!("{m}\nknown region kinds: {}", RegionKind::NAMES))
            } else {
                bad(m)
            }
        })?;
        layout.validate().map_err(bad)?;
        Ok(layout)
    }

    /// The wall's size in pixels.
    pub fn size(&self) -> (u32, u32) {
        (
            self.columns * self.panel.width,
            self.rows * self.panel.height,
        )
    }

    fn validate(&self) -> Result<(), String> {
        if self.columns == 0 || self.rows == 0 || self.columns > 16 || self.rows > 16 {
            return Err(format!(
                "a wall of {}x{} panels: use 1-16 columns and rows",
                self.columns, self.rows
            ));
        }
        if self.panel.width < 640 || self.panel.height < 480 {
            return Err(format!(
                "panels of {}x{} px: at least 640x480",
                self.panel.width, self.panel.height
            ));
        }
        if let Some(z) = self.zoom
            && !(0.5..=4.0).contains(&z)
        {
            return Err(format!(
                "zoom = {z}: use 0.5 to 4.0 (1.0 at a desk, 1.45 on a wall)"
            ));
        }
        let (cols, rows) = (self.columns as f32, self.rows as f32);
        for (i, r) in self.regions.iter().enumerate() {
            let name = format!("region {} ({})", i + 1, r.kind.name());
            if !(r.w > 0.0 && r.h > 0.0) || [r.x, r.y, r.w, r.h].iter().any(|v| !v.is_finite()) {
                return Err(format!("{name}: w and h must be positive numbers"));
            }
            if r.x < -EPS || r.y < -EPS || r.x + r.w > cols + EPS || r.y + r.h > rows + EPS {
                return Err(format!(
                    "{name} at x {}..{}, y {}..{} is off the wall: it has columns 0..{} and rows 0..{}",
                    r.x,
                    r.x + r.w,
                    r.y,
                    r.y + r.h,
                    self.columns,
                    self.rows
                ));
            }
            if r.kind != RegionKind::Map && (crosses_edge(r.x, r.w) || crosses_edge(r.y, r.h)) {
                return Err(format!(
                    "{name} at x {}..{}, y {}..{} crosses a bezel: only the map may span panels; \
                     fit it inside one panel (between two whole numbers on each axis)",
                    r.x,
                    r.x + r.w,
                    r.y,
                    r.y + r.h
                ));
            }
            for (j, o) in self.regions.iter().enumerate().take(i) {
                let overlap_x = r.x.max(o.x) < (r.x + r.w).min(o.x + o.w) - EPS;
                let overlap_y = r.y.max(o.y) < (r.y + r.h).min(o.y + o.h) - EPS;
                if overlap_x && overlap_y {
                    return Err(format!(
                        "{name} overlaps region {} ({})",
                        j + 1,
                        o.kind.name()
                    ));
                }
            }
        }
        if !self.regions.iter().any(|r| r.kind == RegionKind::Map) {
            return Err("no map region: a wall shows the map".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_layouts_are_valid_and_have_the_wall_sizes() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("config/layouts");
        let mut sizes = vec![];
        for e in std::fs::read_dir(&dir).unwrap() {
            let l = Layout::load(&e.unwrap().path()).unwrap();
            sizes.push(l.size());
        }
        sizes.sort();
        assert!(sizes.contains(&(7680, 2160)), "{sizes:?}");
        assert!(sizes.contains(&(5760, 3240)), "{sizes:?}");
    }

    fn err(text: &str) -> String {
        match Layout::parse(text, "bad.toml") {
            Err(LayoutError::Invalid { message, .. }) => message,
            Ok(_) => panic!("accepted: {text}"),
        }
    }

    const HEAD: &str =
        "name = \"t\"\ncolumns = 4\nrows = 2\npanel = { width = 1920, height = 1080 }\n";

    #[test]
    fn a_table_across_a_bezel_is_refused_and_the_error_says_what_to_fix() {
        let m = err(&format!(
            "{HEAD}[[regions]]\nkind = \"map\"\nx = 0\ny = 0\nw = 3\nh = 2\n[[regions]]\nkind = \"queue\"\nx = 2.5\ny = 0\nw = 1\nh = 1\n"
        ));
        assert!(
            m.contains("crosses a bezel") && m.contains("(queue)"),
            "{m}"
        );
        assert!(m.contains("only the map may span panels"), "{m}");
    }

    #[test]
    fn off_the_wall_unknown_kinds_overlaps_and_no_map_are_refused() {
        let m = err(&format!(
            "{HEAD}[[regions]]\nkind = \"map\"\nx = 0\ny = 0\nw = 4\nh = 2\n[[regions]]\nkind = \"kpis\"\nx = 4\ny = 0\nw = 1\nh = 1\n"
        ));
        assert!(
            m.contains("off the wall") && m.contains("columns 0..4"),
            "{m}"
        );
        let m = err(&format!(
            "{HEAD}[[regions]]\nkind = \"clock\"\nx = 0\ny = 0\nw = 1\nh = 1\n"
        ));
        assert!(m.contains("known region kinds"), "{m}");
        let m = err(&format!(
            "{HEAD}[[regions]]\nkind = \"map\"\nx = 0\ny = 0\nw = 2\nh = 2\n[[regions]]\nkind = \"kpis\"\nx = 1\ny = 0\nw = 1\nh = 1\n"
        ));
        assert!(m.contains("overlaps"), "{m}");
        let m = err(&format!(
            "{HEAD}[[regions]]\nkind = \"kpis\"\nx = 0\ny = 0\nw = 1\nh = 1\n"
        ));
        assert!(m.contains("no map"), "{m}");
        let m = err(
            "name = \"t\"\ncolumns = 4\nrows = 2\npanel = { width = 1920, height = 1080 }\nbezel = 3\nregions = []\n",
        );
        assert!(m.contains("bezel"), "unknown fields are named: {m}");
        let m = err(
            "name = \"t\"\ncolumns = 4\nrows = 2\npanel = { width = 1920, height = 1080 }\nzoom = 9\n[[regions]]\nkind = \"map\"\nx = 0\ny = 0\nw = 4\nh = 2\n",
        );
        assert!(m.contains("zoom = 9") && m.contains("1.45"), "{m}");
    }

    #[test]
    fn regions_may_share_a_panel_without_crossing_its_edges() {
        let ok = format!(
            "{HEAD}[[regions]]\nkind = \"map\"\nx = 1\ny = 0\nw = 2\nh = 2\n[[regions]]\nkind = \"kpis\"\nx = 0\ny = 0\nw = 1\nh = 0.5\n[[regions]]\nkind = \"warnings\"\nx = 0\ny = 0.5\nw = 1\nh = 0.5\n"
        );
        assert!(Layout::parse(&ok, "ok.toml").is_ok());
    }
}
