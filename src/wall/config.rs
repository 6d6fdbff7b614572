//! `config/wall.toml`: window, feed and map layers, every field with a default.

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
        }
    }
}

impl WallConfig {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let cfg: WallConfig = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not a valid wall config: {e}", path.display()))?;
        if cfg.window.width < 640
            || cfg.window.height < 480
            || cfg.window.width > 16384
            || cfg.window.height > 16384
        {
            anyhow::bail!(
                "window size {}x{} is out of range 640x480..16384x16384",
                cfg.window.width,
                cfg.window.height
            );
        }
        Ok(cfg)
    }
}
