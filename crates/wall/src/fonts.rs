//! The shipped Noto Sans SC subsets (assets/fonts, SIL OFL 1.1), set once on the first
//! egui pass (the context does not exist at Startup).

use bevy::prelude::*;
use bevy_egui::egui::{self, FontData, FontDefinitions, FontFamily};

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Regular-subset.otf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Bold-subset.otf");

/// The family name of the bold face (egui has no weights: a face is a family).
pub const BOLD_FAMILY: &str = "bold";

#[derive(Resource, Default)]
pub struct FontsReady(pub bool);

pub fn install(ctx: &egui::Context) {
    let mut fonts = FontDefinitions::default();
    fonts.font_data.insert(
        "noto-sc".into(),
        std::sync::Arc::new(FontData::from_static(REGULAR)),
    );
    fonts.font_data.insert(
        "noto-sc-bold".into(),
        std::sync::Arc::new(FontData::from_static(BOLD)),
    );
    for fam in [FontFamily::Proportional, FontFamily::Monospace] {
        fonts
            .families
            .entry(fam)
            .or_default()
            .insert(0, "noto-sc".into());
    }
    fonts.families.insert(
        FontFamily::Name(BOLD_FAMILY.into()),
        vec!["noto-sc-bold".into(), "noto-sc".into()],
    );
    ctx.set_fonts(fonts);
}

pub fn bold(size: f32) -> egui::FontId {
    egui::FontId::new(size, FontFamily::Name(BOLD_FAMILY.into()))
}
