//! `config/wall.toml`: window, feed and map layers, every field with a default.

use crate::WallError;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WallConfig {
    pub lang: Lang,
    pub window: WindowConfig,
    pub feed: FeedSettings,
    pub map: MapConfig,
    pub screen: ScreenConfig,
    /// Set from `--layout`, not from this file.
    #[serde(skip)]
    pub layout: Option<super::layout::Layout>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowConfig {
    pub width: u32,
    pub height: u32,
    pub fullscreen: bool,
    pub title: String,
}

#[derive(Clone, Debug, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FeedSettings {
    pub url: String,
    pub token: String,
    pub region: String,
    /// The gateway's HTTP address, for field photos (`http://host:port`); by default the
    /// next port after the feed's on the same host (the gateway's 7400/7401).
    pub http: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MapConfig {
    pub outline: PathBuf,
    pub districts: PathBuf,
    pub towns: PathBuf,
    pub villages: PathBuf,
    pub grids: PathBuf,
    pub micro_grids: PathBuf,
    pub schematic: bool,
    /// The base map under the grids, bottom up: water areas, rivers, roads, rail, place
    /// names, each from a GeoJSON file; each can be switched off on the wall. A `[map]`
    /// section without `[[map.base]]` has none: a site with its own divisions does not get
    /// the demo's rivers (without a wall.toml at all, the demo's are the default).
    #[serde(default)]
    pub base: Vec<BaseLayerConfig>,
    /// Where the base map comes from, shown beside it (a schematic one says 示意).
    #[serde(default)]
    pub base_note: String,
}

/// One layer of the base map.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BaseLayerConfig {
    pub kind: BaseKind,
    pub file: PathBuf,
    /// Its name on the layer switch (default: the kind's).
    #[serde(default)]
    pub name: String,
}

/// What a base layer holds, and so how it is drawn.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BaseKind {
    /// Polygons: rivers' and lakes' areas.
    Water,
    /// Lines: rivers and canals too narrow for areas.
    River,
    Road,
    Rail,
    /// Points with a `name`.
    Place,
}

impl BaseKind {
    pub fn zh(self) -> &'static str {
        match self {
            BaseKind::Water => "水系",
            BaseKind::River => "河道",
            BaseKind::Road => "道路",
            BaseKind::Rail => "铁路",
            BaseKind::Place => "地名",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            BaseKind::Water => "Water",
            BaseKind::River => "Rivers",
            BaseKind::Road => "Roads",
            BaseKind::Rail => "Rail",
            BaseKind::Place => "Places",
        }
    }
}

impl Default for WallConfig {
    fn default() -> Self {
        WallConfig {
            lang: Lang::Zh,
            window: WindowConfig::default(),
            feed: FeedSettings::default(),
            map: MapConfig::default(),
            screen: ScreenConfig::default(),
            layout: None,
        }
    }
}

/// Care of the panels over a twelve-hour shift: burn-in and idle dimming.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ScreenConfig {
    /// How far (px) the static panels drift, slowly, so that no pixel shows the same
    /// edge all day. 0 turns it off.
    pub shift_px: f32,
    /// How long one drift cycle takes, in seconds.
    pub shift_period_s: f32,
    /// Dim the wall after this many seconds without input or a new alert. 0: never.
    pub dim_after_s: f32,
    /// How dark the dimmed wall is (0 = not at all, 1 = black).
    pub dim: f32,
}

impl Default for ScreenConfig {
    fn default() -> Self {
        ScreenConfig {
            shift_px: 4.0,
            shift_period_s: 600.0,
            dim_after_s: 900.0,
            dim: 0.45,
        }
    }
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            width: 1920,
            height: 1080,
            fullscreen: false,
            title: "一屏 · 社会治理现代化指挥中心".into(),
        }
    }
}

/// The demo's base map: schematic (tools/gen_base_map.py says how it is drawn and why).
pub const BASE_NOTE: &str =
    "底图为示意（长江、夹江、运河、道路、铁路据城市轮廓与区县驻地绘制），非测绘成果";

impl Default for MapConfig {
    fn default() -> Self {
        MapConfig {
            outline: "assets/geo/zhenjiang_outline.geojson".into(),
            districts: "assets/city/districts.geojson".into(),
            towns: "assets/city/towns.geojson".into(),
            villages: "assets/city/villages.geojson".into(),
            grids: "assets/city/grids.geojson".into(),
            micro_grids: "assets/city/micro_grids.geojson".into(),
            schematic: true,
            base: [
                (BaseKind::Water, "water"),
                (BaseKind::River, "rivers"),
                (BaseKind::Road, "roads"),
                (BaseKind::Rail, "rail"),
                (BaseKind::Place, "places"),
            ]
            .into_iter()
            .map(|(kind, f)| BaseLayerConfig {
                kind,
                file: format!("assets/geo/base/{f}.geojson").into(),
                name: String::new(),
            })
            .collect(),
            base_note: BASE_NOTE.into(),
        }
    }
}

impl WallConfig {
    pub fn load(path: &Path) -> Result<Self, WallError> {
        let text = std::fs::read_to_string(path).map_err(|source| WallError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let cfg: WallConfig = toml::from_str(&text).map_err(|e| WallError::Config {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        if cfg.window.width < 640
            || cfg.window.height < 480
            || cfg.window.width > 16384
            || cfg.window.height > 16384
        {
            return Err(WallError::WindowSize(cfg.window.width, cfg.window.height));
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod base_map_tests {
    use super::*;

    #[test]
    fn the_shipped_wall_toml_names_the_demo_base_map_and_a_site_without_one_gets_none() {
        let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        let shipped = WallConfig::load(&root.join("config/wall.toml")).unwrap();
        let demo = MapConfig::default();
        assert_eq!(shipped.map.base, demo.base);
        assert_eq!(shipped.map.base_note, demo.base_note);
        let site: WallConfig = toml::from_str("[map]\ngrids = \"site/grids.geojson\"\n").unwrap();
        assert!(
            site.map.base.is_empty(),
            "a site's own map gets no demo rivers"
        );
        let bad = toml::from_str::<WallConfig>(
            "[map]\n[[map.base]]\nkind = \"lake\"\nfile = \"x.geojson\"\n",
        );
        assert!(bad.unwrap_err().to_string().contains("unknown variant"));
    }
}
