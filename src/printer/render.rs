//! The badge layout, drawn into one bitmap sized by the printer's profile: the same pixels are the PNG preview and the raster that prints.

use qrcode::{Color, EcLevel, QrCode};

use super::bitmap::{Bitmap, GrayImage};
use super::font::{Fonts, Weight};
use super::profile::Media;

/// What a badge shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeContent {
    pub given_name: String,
    pub family_name: String,
    /// The user ID as people read it (`ABCDE-FGHJK`).
    pub user_id: String,
    /// The signed QR payload.
    pub payload: String,
    pub site: String,
    /// Role and employer, e.g. "Trainee · Acme Scaffolding".
    pub detail: String,
    /// Issue date, `YYYY-MM-DD`.
    pub issued: String,
    pub serial: u32,
    /// The holder's preferred language: the badge's own words follow it (`words.rs`).
    pub language: String,
}

/// Where the QR sits in the bitmap: rows `top..top + height` hold only the QR, centred, so a
/// profile with native QR can print those rows as a `GS ( k` symbol instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QrPlacement {
    pub top: u32,
    pub height: u32,
    pub module_px: u32,
}

/// A rendered badge.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub bitmap: Bitmap,
    pub qr: QrPlacement,
}

/// Why a badge could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the QR payload does not fit a QR code: {0}")]
    Qr(String),
    #[error("the badge image could not be made: {0}")]
    Png(String),
}

/// Draws badges; holds the fonts and the site's logo. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Renderer {
    fonts: Fonts,
    logo: Option<GrayImage>,
}

struct TextBlock {
    lines: Vec<String>,
    weight: Weight,
    px: f32,
}

enum Item {
    Logo(u32, u32),
    Text(TextBlock),
    Rule,
    Qr(QrCode, u32),
    Gap(u32),
}

impl Renderer {
    pub fn new(fonts: Fonts, logo: Option<GrayImage>) -> Renderer {
        Renderer { fonts, logo }
    }

    /// The fonts badges are drawn with (the on-site list uses the same).
    pub fn fonts(&self) -> &Fonts {
        &self.fonts
    }

    /// The characters of the badge's text that its fonts lack (they would print as boxes).
    pub fn missing_glyphs(&self, c: &BadgeContent) -> Vec<char> {
        let issued = super::words::issued_line(&c.language, &c.issued, c.serial);
        self.fonts
            .missing([c.given_name.as_str(), &c.family_name, &c.site, &c.detail, &issued])
    }

    /// Largest size from `start` down to `min` (in pixels) at which `text` fits `max_lines` lines.
    fn fit(
        &self,
        text: &str,
        weight: Weight,
        start: f32,
        min: f32,
        max_lines: usize,
        width: f32,
    ) -> TextBlock {
        let mut px = start;
        loop {
            let lines = self.fonts.wrap(text, weight, px, width);
            if lines.len() <= max_lines || px <= min {
                return TextBlock { lines, weight, px };
            }
            px = (px * 0.92).max(min);
        }
    }

    fn line_height(&self, block: &TextBlock) -> f32 {
        let (a, d) = self.fonts.metrics(block.weight, block.px);
        (a + d) * 1.05
    }

    /// Draw the badge for the printer whose media is `media`.
    pub fn render(&self, c: &BadgeContent, media: &Media) -> Result<Rendered, RenderError> {
        let mm = media.dots_per_mm();
        let width = media.width_dots;
        let margin = (2.0 * mm).round() as u32;
        let inner = width.saturating_sub(2 * margin) as f32;
        let mut items = Vec::new();
        if let Some(logo) = &self.logo {
            let scale = (inner / logo.width as f32).min(12.0 * mm / logo.height as f32);
            let (w, h) = (
                (logo.width as f32 * scale) as u32,
                (logo.height as f32 * scale) as u32,
            );
            if w > 0 && h > 0 {
                items.push(Item::Logo(w, h));
                items.push(Item::Gap((1.5 * mm) as u32));
            }
        }
        items.push(Item::Text(self.fit(
            &c.site,
            Weight::Bold,
            3.2 * mm,
            2.2 * mm,
            1,
            inner,
        )));
        items.push(Item::Gap((0.8 * mm) as u32));
        items.push(Item::Rule);
        items.push(Item::Gap((2.0 * mm) as u32));
        // Given and family name at one size: the larger of the two decides.
        let given = self.fit(&c.given_name, Weight::Bold, 7.0 * mm, 3.5 * mm, 2, inner);
        let family = self.fit(&c.family_name, Weight::Bold, 7.0 * mm, 3.5 * mm, 2, inner);
        let name_px = given.px.min(family.px);
        for text in [&c.given_name, &c.family_name] {
            items.push(Item::Text(TextBlock {
                lines: self.fonts.wrap(text, Weight::Bold, name_px, inner),
                weight: Weight::Bold,
                px: name_px,
            }));
        }
        items.push(Item::Gap((1.5 * mm) as u32));
        items.push(Item::Text(self.fit(
            &format!("ID {}", c.user_id),
            Weight::Bold,
            4.2 * mm,
            2.5 * mm,
            1,
            inner,
        )));
        if !c.detail.trim().is_empty() {
            items.push(Item::Text(self.fit(
                &c.detail,
                Weight::Regular,
                3.2 * mm,
                2.2 * mm,
                2,
                inner,
            )));
        }
        items.push(Item::Gap((3.0 * mm) as u32));
        let code = QrCode::with_error_correction_level(c.payload.as_bytes(), EcLevel::M)
            .map_err(|e| RenderError::Qr(e.to_string()))?;
        let target = (inner * 0.7).min(30.0 * mm);
        let module_px = ((target / code.width() as f32).floor() as u32).max(3);
        items.push(Item::Qr(code, module_px));
        items.push(Item::Gap((3.0 * mm) as u32));
        items.push(Item::Text(self.fit(
            &super::words::issued_line(&c.language, &c.issued, c.serial),
            Weight::Regular,
            2.8 * mm,
            2.0 * mm,
            1,
            inner,
        )));

        let height = margin * 2 + items.iter().map(|i| self.item_height(i)).sum::<u32>();
        let label = media.label_length_mm.map_or(0, |l| (l * mm) as u32);
        let mut bitmap = Bitmap::new(width, height.max(label));
        let mut y = margin;
        let mut qr = QrPlacement {
            top: 0,
            height: 0,
            module_px,
        };
        for item in &items {
            let h = self.item_height(item);
            match item {
                Item::Logo(w, lh) => {
                    if let Some(logo) = &self.logo {
                        draw_logo(&mut bitmap, logo, (width - w) / 2, y, *w, *lh);
                    }
                }
                Item::Text(block) => {
                    let (ascent, _) = self.fonts.metrics(block.weight, block.px);
                    let lh = self.line_height(block);
                    for (i, line) in block.lines.iter().enumerate() {
                        let w = self.fonts.width(line, block.weight, block.px);
                        let x = margin as f32 + ((inner - w) / 2.0).max(0.0);
                        let baseline = y as f32 + ascent + lh * i as f32;
                        self.fonts.draw(
                            &mut bitmap,
                            line,
                            block.weight,
                            block.px,
                            x.round(),
                            baseline.round(),
                        );
                    }
                }
                Item::Rule => bitmap.fill_rect(i64::from(margin), i64::from(y), inner as u32, h),
                Item::Qr(code, m) => {
                    let side = code.width() as u32 * m;
                    let left = (width - side) / 2;
                    for (i, color) in code.to_colors().iter().enumerate() {
                        if *color == Color::Dark {
                            let (cx, cy) = (i as u32 % code.width() as u32, i as u32 / code.width() as u32);
                            bitmap.fill_rect(i64::from(left + cx * m), i64::from(y + cy * m), *m, *m);
                        }
                    }
                    qr = QrPlacement {
                        top: y,
                        height: side,
                        module_px: *m,
                    };
                }
                Item::Gap(_) => {}
            }
            y += h;
        }
        Ok(Rendered { bitmap, qr })
    }

    fn item_height(&self, item: &Item) -> u32 {
        match item {
            Item::Logo(_, h) => *h,
            Item::Text(block) => (self.line_height(block) * block.lines.len() as f32).ceil() as u32,
            Item::Rule => 2,
            Item::Qr(code, m) => code.width() as u32 * m,
            Item::Gap(g) => *g,
        }
    }
}

fn draw_logo(bitmap: &mut Bitmap, logo: &GrayImage, left: u32, top: u32, w: u32, h: u32) {
    for y in 0..h {
        let sy = (y as u64 * u64::from(logo.height) / u64::from(h)) as u32;
        for x in 0..w {
            let sx = (x as u64 * u64::from(logo.width) / u64::from(w)) as u32;
            if logo.luma[(sy * logo.width + sx) as usize] < 128 {
                bitmap.set(i64::from(left + x), i64::from(top + y), true);
            }
        }
    }
}
