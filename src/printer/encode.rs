//! ESC/POS bytes for a rendered badge or any bitmap (the on-site list), per profile: init, raster in blocks of at most the profile's chunk (≤ 4 KB), native QR always model 2, our own code-page text, the profile's cut or none.

use super::bitmap::Bitmap;
use super::codepages;
use super::profile::{Profile, QrMode, Raster};
use super::render::Rendered;

const ESC: u8 = 0x1b;
const GS: u8 = 0x1d;
const LF: u8 = 0x0a;

/// `GS ( k` select model: model 2. Tests look for exactly these bytes.
pub const QR_MODEL_2: [u8; 9] = [GS, b'(', b'k', 4, 0, 0x31, 0x41, 0x32, 0x00];
/// `GS ( D` fn 20: real-time DLE DC4 pulse (1) and power-off (2) disabled / enabled again.
pub const REALTIME_OFF: [u8; 10] = [GS, b'(', b'D', 5, 0, 0x14, 1, 0, 2, 0];
pub const REALTIME_ON: [u8; 10] = [GS, b'(', b'D', 5, 0, 0x14, 1, 1, 2, 1];

/// The whole job for one badge: `footer` lines are printed as text after it (the sample print).
pub fn encode_badge(profile: &Profile, badge: &Rendered, payload: &str, footer: &[String]) -> Vec<u8> {
    let bitmap = &badge.bitmap;
    let mut out = start(profile, bitmap);
    let qr = badge.qr;
    if profile.qr == QrMode::Native && qr.height > 0 {
        raster(&mut out, profile, bitmap, 0, qr.top);
        native_qr(&mut out, payload, qr.module_px);
        raster(&mut out, profile, bitmap, qr.top + qr.height, bitmap.height());
    } else {
        raster(&mut out, profile, bitmap, 0, bitmap.height());
    }
    if profile.realtime_disable {
        out.extend_from_slice(&REALTIME_ON);
    }
    if !footer.is_empty() {
        out.push(LF);
        for line in footer {
            out.extend_from_slice(&encode_text(profile, line));
            out.push(LF);
        }
    }
    finish(&mut out, profile);
    out
}

/// The whole job for one bitmap (the on-site list): raster in as many blocks as its height
/// needs, then the profile's feed and cut.
pub fn encode_image(profile: &Profile, bitmap: &Bitmap) -> Vec<u8> {
    let mut out = start(profile, bitmap);
    raster(&mut out, profile, bitmap, 0, bitmap.height());
    if profile.realtime_disable {
        out.extend_from_slice(&REALTIME_ON);
    }
    finish(&mut out, profile);
    out
}

/// Init, the profile's commands after it, real-time commands off where the profile allows.
fn start(profile: &Profile, bitmap: &Bitmap) -> Vec<u8> {
    let mut out = Vec::with_capacity(bitmap.row_bytes() * bitmap.height() as usize + 256);
    out.extend_from_slice(&[ESC, b'@']);
    out.extend_from_slice(&profile.after_init);
    if profile.realtime_disable {
        out.extend_from_slice(&REALTIME_OFF);
    }
    out
}

/// Feed, end the label, cut (each as the profile says).
fn finish(out: &mut Vec<u8>, profile: &Profile) {
    out.extend(std::iter::repeat_n(
        LF,
        usize::from(profile.feed_lines_before_cut),
    ));
    out.extend_from_slice(&profile.label_end);
    out.extend_from_slice(&profile.cut);
}

fn raster(out: &mut Vec<u8>, profile: &Profile, bitmap: &Bitmap, y0: u32, y1: u32) {
    if y1 <= y0 {
        return;
    }
    match profile.raster {
        Raster::GsV0 => gs_v_0(out, profile.chunk_bytes, bitmap, y0, y1),
        Raster::EscStar => esc_star(out, bitmap, y0, y1),
    }
}

/// `GS v 0` in bands whose header and data together stay within `chunk` bytes.
fn gs_v_0(out: &mut Vec<u8>, chunk: usize, bitmap: &Bitmap, y0: u32, y1: u32) {
    let rb = bitmap.row_bytes();
    let rows_per_band = ((chunk.saturating_sub(8)) / rb).max(1) as u32;
    let mut y = y0;
    while y < y1 {
        let rows = rows_per_band.min(y1 - y);
        out.extend_from_slice(&[GS, b'v', b'0', 0]);
        out.extend_from_slice(&(rb as u16).to_le_bytes());
        out.extend_from_slice(&(rows as u16).to_le_bytes());
        out.extend_from_slice(&bitmap.pack_rows(y, y + rows));
        y += rows;
    }
}

/// `ESC * 33`: 24-dot double-density columns, one band per line, line spacing 24 dots.
fn esc_star(out: &mut Vec<u8>, b: &Bitmap, y0: u32, y1: u32) {
    let w = b.width();
    out.extend_from_slice(&[ESC, b'3', 24]);
    let mut y = y0;
    while y < y1 {
        out.extend_from_slice(&[ESC, b'*', 33]);
        out.extend_from_slice(&(w as u16).to_le_bytes());
        for x in 0..w {
            for byte in 0..3 {
                let mut v = 0u8;
                for bit in 0..8 {
                    let yy = y + byte * 8 + bit;
                    if yy < y1 && b.get(x, yy) {
                        v |= 0x80 >> bit;
                    }
                }
                out.push(v);
            }
        }
        out.push(LF);
        y += 24;
    }
    out.extend_from_slice(&[ESC, b'2']);
}

/// `GS ( k`: model 2, module size, level M, store, print; centred.
fn native_qr(out: &mut Vec<u8>, payload: &str, module_px: u32) {
    let size = module_px.clamp(1, 16) as u8;
    out.extend_from_slice(&[ESC, b'a', 1]);
    out.extend_from_slice(&QR_MODEL_2);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 0x31, 0x43, size]);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 0x31, 0x45, 0x31]);
    let len = (payload.len() + 3) as u16;
    out.extend_from_slice(&[GS, b'(', b'k']);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&[0x31, 0x50, 0x30]);
    out.extend_from_slice(payload.as_bytes());
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 0x31, 0x51, 0x30]);
    out.push(LF);
    out.extend_from_slice(&[ESC, b'a', 0]);
}

/// Text in the printer's own code pages: ASCII as is (a `-` stays a hyphen), each other
/// character from the first of the profile's pages that has it (switching with `ESC t n` only
/// when needed), `?` when none has it. ESC @ leaves page 0 selected.
pub fn encode_text(profile: &Profile, text: &str) -> Vec<u8> {
    let pages: Vec<(u8, Vec<char>)> = profile
        .code_pages
        .iter()
        .filter_map(|(n, name)| codepages::upper_half(name).map(|t| (*n, t.chars().collect())))
        .collect();
    let mut current: Option<u8> = Some(0);
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            // Control characters would be commands: print them as spaces.
            out.push(if c.is_ascii_control() { b' ' } else { c as u8 });
            continue;
        }
        let byte_in = |table: &Vec<char>| table.iter().position(|t| *t == c).map(|p| 0x80 + p as u8);
        if let Some(b) = current
            .and_then(|n| pages.iter().find(|(pn, _)| *pn == n))
            .and_then(|(_, t)| byte_in(t))
        {
            out.push(b);
            continue;
        }
        match pages.iter().find_map(|(n, t)| byte_in(t).map(|b| (*n, b))) {
            Some((n, b)) => {
                out.extend_from_slice(&[ESC, b't', n]);
                current = Some(n);
                out.push(b);
            }
            None => out.push(b'?'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::profile::Profiles;

    #[test]
    fn a_tall_image_goes_out_in_blocks_within_the_chunk_then_the_cut() {
        let profiles = Profiles::embedded().unwrap();
        let p = profiles.get("generic-escpos").unwrap();
        let mut b = Bitmap::new(p.media.width_dots, 3000);
        b.fill_rect(0, 2999, 8, 1);
        let out = encode_image(p, &b);
        assert!(out.starts_with(&[ESC, b'@']));
        assert!(out.ends_with(&p.cut), "ends with the profile's cut");
        let rb = b.row_bytes();
        let mut blocks = 0;
        let mut rows = 0;
        let mut i = 0;
        while i + 8 <= out.len() {
            if out[i..i + 4] == [GS, b'v', b'0', 0] {
                let h = usize::from(u16::from_le_bytes([out[i + 6], out[i + 7]]));
                assert!(8 + rb * h <= p.chunk_bytes, "block of {h} rows exceeds the chunk");
                blocks += 1;
                rows += h;
                i += 8 + rb * h;
            } else {
                i += 1;
            }
        }
        assert_eq!(rows, 3000);
        assert!(blocks > 1);
    }

    #[test]
    fn text_switches_code_pages_only_when_needed_and_keeps_hyphens() {
        let profiles = Profiles::embedded().unwrap();
        let p = profiles.get("generic-escpos").unwrap();
        assert_eq!(encode_text(p, "Al-Sayed"), b"Al-Sayed".to_vec());
        // ü is in CP437 (page 0): no switch.
        assert_eq!(encode_text(p, "Jürgen"), vec![b'J', 0x81, b'r', b'g', b'e', b'n']);
        // Cyrillic: switch once to the first page that has it (CP866 = 17), then stay.
        let out = encode_text(p, "Ал");
        assert_eq!(out, vec![ESC, b't', 17, 0x80, 0xAB]);
        // A character no page has.
        assert_eq!(encode_text(p, "李"), b"?".to_vec());
    }
}
