//! Render + encode one badge (the work of one print job, or one preview), per profile: the goal is p50 under 20 ms.

#![allow(clippy::expect_used)] // a benchmark of fixed input: a failure is a bug to see at once

use criterion::{Criterion, criterion_group};
use sitegate::config::Config;
use sitegate::domain::badge::{self, BadgeNumber};
use sitegate::keys::Keys;
use sitegate::printer::Printing;
use sitegate::printer::render::BadgeContent;

fn content() -> BadgeContent {
    let keys = Keys::for_tests();
    let number = BadgeNumber::from_canonical("7D3KQ9M2XA".into());
    BadgeContent {
        given_name: "Zofia".into(),
        family_name: "Łukasiewicz-Wróbel".into(),
        user_id: "ABCDE-FGHJ0".into(),
        payload: badge::payload(&number, &keys.badge_mac(&number.mac_input())),
        site: "Plant North".into(),
        detail: "Trainee · Acme Scaffolding".into(),
        issued: "2026-03-01".into(),
        serial: 2,
        language: "en".into(),
    }
}

fn bench(c: &mut Criterion) {
    let printing = Printing::from_config(&Config::default()).expect("embedded profiles load");
    let content = content();
    for id in ["epson-tm-t20iii", "zjiang-pos-5890"] {
        let profile = printing.profiles.get(id).expect("profile").clone();
        c.bench_function(&format!("badge render+encode+png {id}"), |b| {
            b.iter(|| printing.build(&profile, &content, &[]).expect("builds"))
        });
        c.bench_function(&format!("badge render+encode (no png) {id}"), |b| {
            b.iter(|| {
                let r = printing
                    .renderer
                    .render(&content, &profile.media)
                    .expect("renders");
                sitegate::printer::encode::encode_badge(&profile, &r, &content.payload, &[])
            })
        });
    }
}

criterion_group!(benches, bench);

fn main() {
    // `cargo test --all-targets -- --test-threads=N` (scripts/test) runs benchmarks as tests with
    // arguments criterion refuses: then build each badge once, as a smoke test.
    if std::env::args().any(|a| a.starts_with("--test-threads")) {
        let printing = Printing::from_config(&Config::default()).expect("embedded profiles load");
        for id in printing.profiles.ids() {
            let profile = printing.profiles.get(id).expect("profile");
            printing.build(profile, &content(), &[]).expect("builds");
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
