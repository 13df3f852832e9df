//! A one-bit bitmap (the badge as it prints), packed rows for ESC/POS, and its PNG form for the screen.

/// Black-and-white pixels, row by row. `true` is black (ink).
#[derive(Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    ink: Vec<bool>,
}

impl std::fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bitmap({}x{})", self.width, self.height)
    }
}

/// Why a PNG could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("PNG encoding failed: {0}")]
    Encode(#[from] png::EncodingError),
    #[error("PNG decoding failed: {0}")]
    Decode(#[from] png::DecodingError),
    #[error("unsupported PNG layout: {0}")]
    Unsupported(String),
}

impl Bitmap {
    /// A white bitmap.
    pub fn new(width: u32, height: u32) -> Bitmap {
        Bitmap {
            width,
            height,
            ink: vec![false; width as usize * height as usize],
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn get(&self, x: u32, y: u32) -> bool {
        x < self.width && y < self.height && self.ink[(y * self.width + x) as usize]
    }

    /// Set a pixel; outside the bitmap is ignored (glyphs may overhang a margin).
    pub fn set(&mut self, x: i64, y: i64, ink: bool) {
        if x >= 0 && y >= 0 && x < i64::from(self.width) && y < i64::from(self.height) {
            self.ink[(y as usize) * self.width as usize + x as usize] = ink;
        }
    }

    pub fn fill_rect(&mut self, x: i64, y: i64, w: u32, h: u32) {
        for yy in y..y + i64::from(h) {
            for xx in x..x + i64::from(w) {
                self.set(xx, yy, true);
            }
        }
    }

    /// Grow or cut the height, keeping the top.
    pub fn resize_height(&mut self, height: u32) {
        self.ink.resize(self.width as usize * height as usize, false);
        self.height = height;
    }

    /// Bytes per packed row: 8 pixels a byte, the last byte padded with white.
    pub fn row_bytes(&self) -> usize {
        self.width.div_ceil(8) as usize
    }

    /// Rows `y0..y1`, 8 pixels a byte, most significant bit first, 1 = ink (ESC/POS raster order).
    pub fn pack_rows(&self, y0: u32, y1: u32) -> Vec<u8> {
        let rb = self.row_bytes();
        let mut out = vec![0u8; rb * (y1.saturating_sub(y0)) as usize];
        for (i, y) in (y0..y1.min(self.height)).enumerate() {
            let row = &self.ink[(y * self.width) as usize..((y + 1) * self.width) as usize];
            for (x, &ink) in row.iter().enumerate() {
                if ink {
                    out[i * rb + x / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        out
    }

    /// The bitmap as a 1-bit grayscale PNG: exactly the pixels that print.
    pub fn to_png(&self) -> Result<Vec<u8>, ImageError> {
        let mut packed = self.pack_rows(0, self.height);
        // PNG grayscale: 0 is black. Ink bits are 1, so invert (padding bits become ink, unseen).
        for b in &mut packed {
            *b = !*b;
        }
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, self.width, self.height);
            enc.set_color(png::ColorType::Grayscale);
            enc.set_depth(png::BitDepth::One);
            let mut writer = enc.write_header()?;
            writer.write_image_data(&packed)?;
        }
        Ok(out)
    }
}

/// An 8-bit luminance image (0 black, 255 white), e.g. a site logo before it is thresholded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrayImage {
    pub width: u32,
    pub height: u32,
    pub luma: Vec<u8>,
}

impl GrayImage {
    /// Read a PNG of any colour type; transparency is laid over white.
    pub fn from_png(bytes: &[u8]) -> Result<GrayImage, ImageError> {
        let mut decoder = png::Decoder::new(bytes);
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info()?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf)?;
        let (w, h) = (info.width, info.height);
        let channels = match info.color_type {
            png::ColorType::Grayscale => 1,
            png::ColorType::GrayscaleAlpha => 2,
            png::ColorType::Rgb => 3,
            png::ColorType::Rgba => 4,
            other => return Err(ImageError::Unsupported(format!("{other:?}"))),
        };
        if info.bit_depth != png::BitDepth::Eight {
            return Err(ImageError::Unsupported(format!("bit depth {:?}", info.bit_depth)));
        }
        let mut luma = Vec::with_capacity(w as usize * h as usize);
        for y in 0..h as usize {
            let row = &buf[y * info.line_size..y * info.line_size + w as usize * channels];
            for px in row.chunks_exact(channels) {
                let (v, a) = match channels {
                    1 => (u32::from(px[0]), 255),
                    2 => (u32::from(px[0]), u32::from(px[1])),
                    3 => (luminance(px), 255),
                    _ => (luminance(px), u32::from(px[3])),
                };
                // Over white: v*a + 255*(255-a).
                luma.push(((v * a + 255 * (255 - a)) / 255) as u8);
            }
        }
        Ok(GrayImage {
            width: w,
            height: h,
            luma,
        })
    }
}

fn luminance(px: &[u8]) -> u32 {
    (299 * u32::from(px[0]) + 587 * u32::from(px[1]) + 114 * u32::from(px[2])) / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_pack_msb_first_with_white_padding() {
        let mut b = Bitmap::new(10, 2);
        b.set(0, 0, true);
        b.set(9, 1, true);
        assert_eq!(b.pack_rows(0, 2), vec![0x80, 0x00, 0x00, 0x40]);
    }

    #[test]
    fn png_round_trips_the_pixels() {
        let mut b = Bitmap::new(13, 3);
        b.fill_rect(2, 1, 4, 1);
        let png = b.to_png().unwrap();
        let g = GrayImage::from_png(&png).unwrap();
        assert_eq!((g.width, g.height), (13, 3));
        for y in 0..3 {
            for x in 0..13 {
                assert_eq!(g.luma[(y * 13 + x) as usize] == 0, b.get(x, y), "{x},{y}");
            }
        }
    }
}
