//! PNG figures with plotters: the embedded font (DejaVu Sans, so figures render the same
//! on machines without fontconfig) and shared figure helpers.

use plotters::style::FontStyle;
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Registers the embedded font as "sans-serif" once per process; call before drawing text.
pub fn init_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in and known to be valid, so failure here is a build defect.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, FONT);
    });
}
