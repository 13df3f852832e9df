//! Badge rendering and ESC/POS bytes per firmware profile: golden bytes, QR decoded from the preview and verified, names in any script, raster blocks within 4 KB.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use sitegate::config::Config;
use sitegate::domain::badge::{self, BadgeNumber};
use sitegate::keys::Keys;
use sitegate::printer::Printing;
use sitegate::printer::bitmap::GrayImage;
use sitegate::printer::encode::QR_MODEL_2;
use sitegate::printer::profile::{Profile, QrMode};
use sitegate::printer::render::BadgeContent;

const PROFILES: [&str; 6] = [
    "generic-escpos",
    "generic-simple",
    "epson-tm-t20iii",
    "epson-tm-t88v",
    "epson-tm-l90",
    "zjiang-pos-5890",
];

fn printing() -> Printing {
    Printing::from_config(&Config::default()).unwrap()
}

fn profile(p: &Printing, id: &str) -> Profile {
    p.profiles.get(id).unwrap().clone()
}

fn content(given: &str, family: &str) -> BadgeContent {
    let keys = Keys::for_tests();
    let number = BadgeNumber::from_canonical("7D3KQ9M2XA".into());
    BadgeContent {
        given_name: given.into(),
        family_name: family.into(),
        user_id: "ABCDE-FGHJ0".into(),
        payload: badge::payload(&number, &keys.badge_mac(&number.mac_input())),
        site: "Plant North".into(),
        detail: "Trainee · Acme Scaffolding".into(),
        issued: "2026-03-01".into(),
        serial: 2,
        language: "en".into(),
    }
}

/// Decode the QR in a PNG with rqrr; returns its text.
fn decode_qr(png: &[u8]) -> String {
    let img = GrayImage::from_png(png).unwrap();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(img.width as usize, img.height as usize, |x, y| {
            img.luma[y * img.width as usize + x]
        });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR on the badge");
    let (_, text) = grids[0].decode().expect("QR decodes");
    text
}

fn preview_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("badge-previews");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn each_profile_produces_the_bytes_its_golden_file_pins() {
    let p = printing();
    let c = content("Zofia", "Łukasiewicz-Wróbel");
    for id in PROFILES {
        let prof = profile(&p, id);
        let built = p.build(&prof, &c, &[]).unwrap();
        let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{id}.bin"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&golden, &built.bytes).unwrap();
        }
        let want = std::fs::read(&golden)
            .unwrap_or_else(|_| panic!("{} missing: run with UPDATE_GOLDEN=1", golden.display()));
        assert!(
            built.bytes == want,
            "{id}: bytes differ from {} ({} vs {} bytes)",
            golden.display(),
            built.bytes.len(),
            want.len()
        );
        std::fs::write(preview_dir().join(format!("{id}.png")), &built.png).unwrap();
    }
}

/// Walk the command stream enough to find every raster block and check its size and shape.
fn raster_blocks(bytes: &[u8]) -> Vec<(usize, usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 8 <= bytes.len() {
        if bytes[i..i + 4] == [0x1d, b'v', b'0', 0] {
            let w = u16::from_le_bytes([bytes[i + 4], bytes[i + 5]]) as usize;
            let h = u16::from_le_bytes([bytes[i + 6], bytes[i + 7]]) as usize;
            out.push((8 + w * h, w, h));
            i += 8 + w * h;
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn every_profile_keeps_its_promises_in_bytes() {
    let p = printing();
    let c = content("José", "Núñez Peña");
    for id in PROFILES {
        let prof = profile(&p, id);
        let bytes = p.build(&prof, &c, &[]).unwrap().bytes;
        assert_eq!(&bytes[..2], &[0x1b, b'@'], "{id} starts with ESC @");
        let after_init = &bytes[2..2 + prof.after_init.len()];
        assert_eq!(after_init, prof.after_init.as_slice());
        let blocks = raster_blocks(&bytes);
        assert!(!blocks.is_empty(), "{id} has raster data");
        for (len, w, _) in &blocks {
            assert!(*len <= 4096, "{id}: a raster block of {len} bytes");
            assert_eq!(*w, prof.media.width_dots as usize / 8, "{id}: raster width");
        }
        let has_model_2 = bytes.windows(QR_MODEL_2.len()).any(|w| w == QR_MODEL_2);
        let has_any_qr = bytes.windows(3).any(|w| w == [0x1d, b'(', b'k']);
        match prof.qr {
            QrMode::Native => assert!(has_model_2, "{id}: native QR must be model 2"),
            QrMode::Image => assert!(!has_any_qr, "{id}: QR must be in the image"),
        }
        // Model 1 is never selected.
        assert!(
            !bytes
                .windows(9)
                .any(|w| w == [0x1d, b'(', b'k', 4, 0, 0x31, 0x41, 0x31, 0x00])
        );
        if prof.cut.is_empty() {
            assert!(
                !bytes.windows(2).any(|w| w == [0x1d, b'V']),
                "{id}: no cutter, no cut command"
            );
        } else {
            assert!(bytes.ends_with(&prof.cut), "{id} ends with its cut");
        }
        if prof.realtime_disable {
            let off = bytes
                .windows(10)
                .position(|w| w == sitegate::printer::encode::REALTIME_OFF)
                .unwrap();
            let first_image = bytes.windows(4).position(|w| w == [0x1d, b'v', b'0', 0]).unwrap();
            assert!(
                off < first_image,
                "{id}: real-time commands off before image data"
            );
        }
        let first_image = bytes.windows(4).position(|w| w == [0x1d, b'v', b'0', 0]).unwrap();
        assert!(
            !bytes[..first_image].contains(&0x18),
            "{id}: no CAN before images"
        );
    }
    let zj = profile(&p, "zjiang-pos-5890");
    assert_eq!(zj.after_init, vec![0x1c, 0x2e], "FS . after init");
}

#[test]
fn the_preview_qr_decodes_and_verifies_for_every_profile_and_name() {
    let p = printing();
    let keys = Keys::for_tests();
    let names = include_str!("data/names.tsv");
    for id in PROFILES {
        let prof = profile(&p, id);
        // Every name on the narrow (58 mm) profiles, where long names must wrap or shrink; a few elsewhere.
        let narrow = prof.media.width_dots <= 384;
        for (n, line) in names
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .enumerate()
            .filter(|(n, _)| narrow || [6, 7, 10].contains(n))
        {
            let cols: Vec<&str> = line.split('\t').collect();
            let c = content(cols[0], cols[1]);
            let png = p.preview(&prof, &c).unwrap();
            let text = decode_qr(&png);
            assert_eq!(text, c.payload, "{id} {line}");
            let scanned = badge::parse_payload(&text).unwrap();
            let mac = badge::mac_symbols(&keys.badge_mac(&scanned.number.mac_input()));
            assert_eq!(scanned.mac, mac, "signature verifies");
            let other = Keys::from_master(&[9u8; 32]);
            assert_ne!(
                badge::mac_symbols(&other.badge_mac(&scanned.number.mac_input())),
                scanned.mac
            );
            // Nothing spills into the side margins (names wrap or shrink instead).
            let img = GrayImage::from_png(&png).unwrap();
            assert_eq!(img.width, prof.media.width_dots);
            for y in 0..img.height {
                for x in [0, 1, 2, img.width - 3, img.width - 2, img.width - 1] {
                    assert_ne!(
                        img.luma[(y * img.width + x) as usize],
                        0,
                        "{id} {line}: ink at the edge ({x},{y})"
                    );
                }
            }
            if n == 10 || n == 6 || n == 7 {
                std::fs::write(preview_dir().join(format!("{id}-{n}.png")), &png).unwrap();
            }
        }
    }
}

#[test]
fn a_label_profile_pads_the_badge_to_the_label_length() {
    let p = printing();
    let prof = profile(&p, "epson-tm-l90");
    let img = GrayImage::from_png(&p.preview(&prof, &content("Li", "Na")).unwrap()).unwrap();
    let want = (prof.media.label_length_mm.unwrap() * prof.media.dots_per_mm()) as u32;
    assert_eq!(img.height, want);
}

#[test]
fn a_sample_footer_is_text_in_the_printers_code_pages() {
    let p = printing();
    let prof = profile(&p, "generic-escpos");
    let bytes = p
        .build(&prof, &content("Li", "Na"), &["Алексей Weiß".to_string()])
        .unwrap()
        .bytes;
    // ESC t 17 (CP866) then "Алексей", then ß from... CP866 lacks ß: ESC t 0 (CP437 has ß at 0xE1).
    let want = [
        0x1b, b't', 17, 0x80, 0xAB, 0xA5, 0xAA, 0xE1, 0xA5, 0xA9, b' ', b'W', b'e', b'i', 0x1b, b't', 0, 0xE1,
    ];
    assert!(
        bytes.windows(want.len()).any(|w| w == want),
        "code-page text not found"
    );
}

#[test]
fn a_site_logo_is_drawn_at_the_top_and_a_broken_logo_or_font_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    // A logo: a black bar on white, as a PNG.
    let mut logo = sitegate::printer::bitmap::Bitmap::new(200, 40);
    logo.fill_rect(0, 10, 200, 20);
    let logo_path = dir.path().join("logo.png");
    std::fs::write(&logo_path, logo.to_png().unwrap()).unwrap();
    let mut config = Config::default();
    config.printing.logo_file = Some(logo_path);
    let p = Printing::from_config(&config).unwrap();
    let prof = profile(&p, "epson-tm-t20iii");
    let with = GrayImage::from_png(&p.preview(&prof, &content("Li", "Na")).unwrap()).unwrap();
    let without = GrayImage::from_png(&printing().preview(&prof, &content("Li", "Na")).unwrap()).unwrap();
    assert!(with.height > without.height, "the logo takes room above the text");
    // The bar: a full row of ink across the middle, within the top 12 mm + margin.
    let top = (14.0 * prof.media.dots_per_mm()) as u32;
    let middle = with.width / 2;
    assert!((0..top).any(|y| with.luma[(y * with.width + middle) as usize] == 0));
    assert_eq!(qr_of(&with), content("Li", "Na").payload, "the QR still scans");

    let junk = dir.path().join("junk");
    std::fs::write(&junk, b"not an image").unwrap();
    let mut bad = Config::default();
    bad.printing.logo_file = Some(junk.clone());
    let err = Printing::from_config(&bad).unwrap_err().to_string();
    assert!(err.contains("printing.logo_file"), "{err}");
    let mut bad = Config::default();
    bad.printing.font_file = Some(junk);
    let err = Printing::from_config(&bad).unwrap_err().to_string();
    assert!(err.contains("printing.font_file"), "{err}");
    let mut bad = Config::default();
    bad.printing.printers = vec![sitegate::config::PrinterConfig {
        name: "x".into(),
        url: "spool:///tmp/x".into(),
        profile: "no-such-printer".into(),
    }];
    let err = Printing::from_config(&bad).unwrap_err().to_string();
    assert!(
        err.contains("printing.printers[0].profile") && err.contains("no-such-printer"),
        "{err}"
    );
}

fn qr_of(img: &GrayImage) -> String {
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(img.width as usize, img.height as usize, |x, y| {
            img.luma[y * img.width as usize + x]
        });
    prepared.detect_grids()[0].decode().unwrap().1
}

#[test]
fn a_badge_in_the_holders_language_differs_only_in_its_words_and_still_fits() {
    let p = printing();
    let prof = profile(&p, "zjiang-pos-5890");
    let en = content("Zofia", "Łukasiewicz-Wróbel");
    let mut pl = en.clone();
    pl.language = "pl".into();
    pl.detail = "Kursant · Budimex S.A.".into();
    let en_png = p.preview(&prof, &en).unwrap();
    let pl_png = p.preview(&prof, &pl).unwrap();
    assert_ne!(en_png, pl_png, "the Polish badge has its own words");
    assert_eq!(decode_qr(&pl_png), pl.payload);
    let img = GrayImage::from_png(&pl_png).unwrap();
    for y in 0..img.height {
        for x in [0, 1, img.width - 2, img.width - 1] {
            assert_ne!(
                img.luma[(y * img.width + x) as usize],
                0,
                "ink at the edge ({x},{y})"
            );
        }
    }
    std::fs::write(preview_dir().join("zjiang-pos-5890-pl.png"), &pl_png).unwrap();
}
