//! Text on the badge: the embedded DejaVu Sans (Latin, Cyrillic, Greek), a site's extra font as fallback, measuring, wrapping and drawing.

use ab_glyph::{Font, FontArc, GlyphId, PxScale, ScaleFont, point};

use super::bitmap::Bitmap;

static REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Regular or bold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// The fonts a badge is drawn with. Cheap to clone.
#[derive(Clone)]
pub struct Fonts {
    regular: FontArc,
    bold: FontArc,
    /// A site's own font for scripts DejaVu lacks (e.g. CJK); used glyph by glyph.
    extra: Option<FontArc>,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fonts(DejaVu Sans, extra: {})", self.extra.is_some())
    }
}

/// A font file that is not a usable TrueType/OpenType font.
#[derive(Debug, thiserror::Error)]
#[error("not a TrueType or OpenType font")]
pub struct BadFont;

impl Fonts {
    /// The embedded fonts, plus a site's extra font when given.
    pub fn new(extra: Option<Vec<u8>>) -> Result<Fonts, BadFont> {
        let regular = FontArc::try_from_slice(REGULAR).map_err(|_| BadFont)?;
        let bold = FontArc::try_from_slice(BOLD).map_err(|_| BadFont)?;
        let extra = extra
            .map(|bytes| FontArc::try_from_vec(bytes).map_err(|_| BadFont))
            .transpose()?;
        Ok(Fonts { regular, bold, extra })
    }

    fn pick(&self, weight: Weight, c: char) -> (&FontArc, GlyphId) {
        let main = match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        };
        let id = main.glyph_id(c);
        if id.0 == 0
            && let Some(extra) = &self.extra
        {
            let e = extra.glyph_id(c);
            if e.0 != 0 {
                return (extra, e);
            }
        }
        (main, id)
    }

    /// The characters of `texts` that no font here draws (in either weight): they would print
    /// as empty boxes. Each once, in the order first met; spaces and controls are not asked.
    pub fn missing<'a>(&self, texts: impl IntoIterator<Item = &'a str>) -> Vec<char> {
        let mut out = Vec::new();
        for c in texts.into_iter().flat_map(str::chars) {
            if c.is_whitespace() || c.is_control() || out.contains(&c) {
                continue;
            }
            if self.pick(Weight::Regular, c).1.0 == 0 || self.pick(Weight::Bold, c).1.0 == 0 {
                out.push(c);
            }
        }
        out
    }

    /// Width in pixels of `text` at `px`.
    pub fn width(&self, text: &str, weight: Weight, px: f32) -> f32 {
        self.layout(text, weight, px).last().map_or(0.0, |g| g.2 + g.3)
    }

    /// (font, glyph, x, advance) for each character, with kerning inside one font.
    fn layout(&self, text: &str, weight: Weight, px: f32) -> Vec<(&FontArc, GlyphId, f32, f32)> {
        let scale = PxScale::from(px);
        let mut out: Vec<(&FontArc, GlyphId, f32, f32)> = Vec::with_capacity(text.len());
        let mut x = 0.0;
        for c in text.chars() {
            let (font, id) = self.pick(weight, c);
            let sf = font.as_scaled(scale);
            if let Some(prev) = out.last()
                && std::ptr::eq(prev.0, font)
            {
                x += sf.kern(prev.1, id);
            }
            let adv = sf.h_advance(id);
            out.push((font, id, x, adv));
            x += adv;
        }
        out
    }

    /// Ascent and descent (positive) of the main font at `px`.
    pub fn metrics(&self, weight: Weight, px: f32) -> (f32, f32) {
        let f = match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        };
        let sf = f.as_scaled(PxScale::from(px));
        (sf.ascent(), -sf.descent())
    }

    /// Draw `text` with its left edge at `x` and its baseline at `baseline`. Coverage of half
    /// a pixel or more is ink: thermal heads print dots, not grey.
    pub fn draw(&self, bitmap: &mut Bitmap, text: &str, weight: Weight, px: f32, x: f32, baseline: f32) {
        let scale = PxScale::from(px);
        for (font, id, gx, _) in self.layout(text, weight, px) {
            let glyph = id.with_scale_and_position(scale, point(x + gx, baseline));
            if let Some(outlined) = font.outline_glyph(glyph) {
                let bounds = outlined.px_bounds();
                outlined.draw(|dx, dy, coverage| {
                    if coverage >= 0.5 {
                        bitmap.set(
                            bounds.min.x as i64 + i64::from(dx),
                            bounds.min.y as i64 + i64::from(dy),
                            true,
                        );
                    }
                });
            }
        }
    }

    /// Break `text` into lines no wider than `max_width` at `px`: after spaces and hyphens when
    /// possible, inside a word only when the word alone is too wide.
    pub fn wrap(&self, text: &str, weight: Weight, px: f32, max_width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for piece in split_keeping_breaks(text) {
            let candidate = format!("{line}{piece}");
            if self.width(candidate.trim_end(), weight, px) <= max_width {
                line = candidate;
                continue;
            }
            if !line.trim().is_empty() {
                lines.push(line.trim_end().to_string());
                line = String::new();
            }
            let piece = piece.trim_start();
            if self.width(piece.trim_end(), weight, px) <= max_width {
                line = piece.to_string();
                continue;
            }
            // One word wider than the line: break it between characters.
            for c in piece.chars() {
                let candidate = format!("{line}{c}");
                if !line.is_empty() && self.width(candidate.trim_end(), weight, px) > max_width {
                    lines.push(std::mem::take(&mut line));
                }
                line.push(c);
            }
        }
        if !line.trim().is_empty() {
            lines.push(line.trim_end().to_string());
        }
        lines
    }
}

/// "Anna-Maria von X" → ["Anna-", "Maria ", "von ", "X"].
fn split_keeping_breaks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == ' ' || c == '-' {
            let end = i + c.len_utf8();
            out.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_test_name_has_glyphs_in_the_embedded_font() {
        let fonts = Fonts::new(None).unwrap();
        let names = include_str!("../../tests/data/names.tsv");
        for line in names.lines().filter(|l| !l.starts_with('#')) {
            for c in line.chars().filter(|c| !c.is_whitespace()) {
                assert_ne!(fonts.pick(Weight::Bold, c).1.0, 0, "no glyph for {c:?} in {line}");
            }
        }
    }

    #[test]
    fn long_names_wrap_at_hyphens_and_spaces() {
        let fonts = Fonts::new(None).unwrap();
        let lines = fonts.wrap("von Hohenzollern-Sigmaringen", Weight::Bold, 40.0, 400.0);
        assert!(lines.len() >= 2, "{lines:?}");
        for l in &lines {
            assert!(fonts.width(l, Weight::Bold, 40.0) <= 400.0, "{l}");
        }
        assert_eq!(lines.concat().replace(' ', ""), "vonHohenzollern-Sigmaringen");
    }

    #[test]
    fn a_word_wider_than_the_line_is_broken() {
        let fonts = Fonts::new(None).unwrap();
        let lines = fonts.wrap("Wwwwwwwwwwwwwwwwwwww", Weight::Bold, 40.0, 200.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), "Wwwwwwwwwwwwwwwwwwww");
    }

    #[test]
    fn characters_without_a_glyph_are_named_once() {
        let fonts = Fonts::new(None).unwrap();
        assert_eq!(
            fonts.missing(["王小明", "Núñez 王 Смирнов", "李"]),
            vec!['王', '小', '明', '李']
        );
        assert!(fonts.missing(["Zofia Łukasiewicz-Wróbel", "Ελένη"]).is_empty());
    }

    #[test]
    fn a_broken_font_file_is_refused() {
        assert!(Fonts::new(Some(b"not a font".to_vec())).is_err());
    }
}
