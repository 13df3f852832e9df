//! Names the badge fonts cannot draw (issue 14): without `printing.font_file` a CJK name would
//! print as empty boxes, so badge issue, kiosk enrollment and the on-site list print answer with
//! `missing_glyphs` naming the characters; with a real CJK font from Debian configured
//! (fonts-wqy-microhei) the warning is gone and the badge and list draw real glyphs, not boxes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::Gateway;
use common::printer::TestPrinter;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sitegate::RunOptions;
use sitegate::clock::ManualClock;
use sitegate::config::{Config, PrinterConfig};
use sitegate::domain::on_site::{OnSiteList, OnSitePerson};
use sitegate::printer::font::Fonts;
use sitegate::printer::list_render;
use sitegate::printer::profile::{Media, Profiles};
use sitegate::printer::render::{BadgeContent, Renderer};
use time::macros::datetime;

/// Debian's fonts-wqy-microhei (scripts/install-test-deps installs it).
const CJK_FONT: &str = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

fn cjk_font() -> Vec<u8> {
    std::fs::read(CJK_FONT)
        .unwrap_or_else(|e| panic!("{CJK_FONT}: {e}: run scripts/install-test-deps (fonts-wqy-microhei)"))
}

fn media() -> Media {
    Profiles::load(None).unwrap().get("generic-escpos").unwrap().media
}

fn content(given: &str, family: &str) -> BadgeContent {
    BadgeContent {
        given_name: given.into(),
        family_name: family.into(),
        user_id: "ABCDE-FGHJK".into(),
        payload: "SG10123456789ABCDEFGHJK".into(),
        site: "Harbour Site".into(),
        detail: "Trainee · Acme".into(),
        issued: "2026-12-03".into(),
        serial: 1,
        language: "en".into(),
    }
}

#[test]
fn with_a_cjk_font_names_draw_real_glyphs_and_without_one_they_are_boxes() {
    let plain = Renderer::new(Fonts::new(None).unwrap(), None);
    let site = Renderer::new(Fonts::new(Some(cjk_font())).unwrap(), None);
    let m = media();
    let draw =
        |r: &Renderer, given: &str, family: &str| r.render(&content(given, family), &m).unwrap().bitmap;

    // Without the font, two different names of as many characters are the same boxes.
    assert_eq!(draw(&plain, "王小明", "李"), draw(&plain, "陈大伟", "张"));
    assert_eq!(
        plain.missing_glyphs(&content("王小明", "李")),
        vec!['王', '小', '明', '李']
    );
    // With it, each name is drawn: not the box rendering, and not like another name.
    let wang = draw(&site, "王小明", "李");
    assert_ne!(wang, draw(&plain, "王小明", "李"), "real glyphs, not boxes");
    assert_ne!(wang, draw(&site, "陈大伟", "张"));
    assert!(site.missing_glyphs(&content("王小明", "李")).is_empty());
    // The site font only fills in: a Latin or Cyrillic name prints exactly as before.
    assert_eq!(
        draw(&site, "Zofia", "Łukasiewicz-Смирнов"),
        draw(&plain, "Zofia", "Łukasiewicz-Смирнов")
    );

    // The on-site list likewise.
    let list = |given: &str| OnSiteList {
        site: "Harbour Site".into(),
        generated_at: datetime!(2026-12-03 09:00 UTC),
        people: vec![OnSitePerson {
            given_name: given.into(),
            family_name: "李".into(),
            user_id: "ABCDE-FGHJK".into(),
            class_title: "Working at heights".into(),
            room: "Room 2".into(),
            checked_in_at: None,
        }],
    };
    let (pf, sf) = (Fonts::new(None).unwrap(), Fonts::new(Some(cjk_font())).unwrap());
    assert_eq!(
        list_render::render_list(&pf, &list("王小明"), &m),
        list_render::render_list(&pf, &list("陈大伟"), &m)
    );
    assert_ne!(
        list_render::render_list(&sf, &list("王小明"), &m),
        list_render::render_list(&pf, &list("王小明"), &m)
    );
    assert_eq!(
        list_render::missing_glyphs(&pf, &list("王小明")),
        vec!['王', '小', '明', '李']
    );
    assert!(list_render::missing_glyphs(&sf, &list("王小明")).is_empty());
}

async fn start(tp: &TestPrinter, clock: &ManualClock, font: bool) -> Gateway {
    let url = tp.url();
    Gateway::start_with(
        move |c: &mut Config| {
            c.printing.status_timeout_ms = 300;
            c.printing.printers = vec![PrinterConfig {
                name: "gate".into(),
                url,
                profile: "generic-escpos".into(),
            }];
            if font {
                c.printing.font_file = Some(CJK_FONT.into());
            }
        },
        RunOptions {
            clock: Some(Arc::new(clock.clone())),
            ..Default::default()
        },
    )
    .await
}

/// Issue a badge for a new user named `given family`: the answer.
async fn issue_for(gw: &Gateway, token: &str, given: &str, family: &str) -> (String, Value) {
    let u = gw
        .create_user(token, json!({"given_name": given, "family_name": family}))
        .await;
    let id = u["id"].as_str().unwrap().to_string();
    let (s, body) = gw
        .post(&format!("/api/users/{id}/badge"), Some(token), json!({}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    (id, body)
}

/// A kiosk enrollment through a new link: the answer's badge.
async fn enroll(gw: &Gateway, token: &str, given: &str) -> Value {
    let (s, link) = gw
        .post("/api/links", Some(token), json!({"name": "Induction"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{link}");
    let terms = gw.get("/api/kiosk/config", None).await.1["terms_version"].clone();
    let res = gw
        .client
        .post(gw.kiosk_url(&format!("/api/enroll/{}", link["token"].as_str().unwrap())))
        .json(&json!({
            "given_name": given, "family_name": "李", "email": format!("{}@example.com", given.len()),
            "language": "en", "terms_version": terms, "accept_terms": true,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["badge"].clone()
}

/// Check `user` in to a class open now and queue the on-site list: the answer.
async fn print_on_site(gw: &Gateway, admin_id: &str, token: &str, user: &str) -> Value {
    let (s, class) = gw
        .post(
            "/api/classes",
            Some(token),
            json!({
                "title": "Working at heights", "room": "Room 2",
                "starts_at": "2026-12-03T09:00:00Z", "ends_at": "2026-12-03T12:00:00Z",
                "instructors": [admin_id], "expected": [user],
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{class}");
    let class = class["id"].as_str().unwrap().to_string();
    let (s, body) = gw
        .post(&format!("/api/classes/{class}/open"), Some(token), json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = gw
        .post(
            &format!("/api/classes/{class}/check-in"),
            Some(token),
            json!({"method": "id", "user_id": user}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, body) = gw.post("/api/on-site/print", Some(token), json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    body
}

#[tokio::test]
async fn without_a_font_file_staff_are_told_which_characters_will_print_as_boxes() {
    let tp = TestPrinter::start().await;
    let clock = ManualClock::new(datetime!(2026-12-03 08:55 UTC));
    let gw = start(&tp, &clock, false).await;
    let (admin_id, _, token) = gw.admin_session().await;

    let (_, latin) = issue_for(&gw, &token, "Zofia", "Łukasiewicz-Смирнов").await;
    assert!(latin["missing_glyphs"].is_null(), "{latin}");
    let (wang, issued) = issue_for(&gw, &token, "王小明", "李").await;
    let warning = &issued["missing_glyphs"];
    assert_eq!(warning["characters"], json!(["王", "小", "明", "李"]), "{issued}");
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.contains("empty boxes") && message.contains("printing.font_file"),
        "{message}"
    );

    let badge = enroll(&gw, &token, "陈大伟").await;
    assert_eq!(badge["status"], "printing", "{badge}");
    assert_eq!(
        badge["missing_glyphs"]["characters"],
        json!(["陈", "大", "伟", "李"])
    );

    let on_site = print_on_site(&gw, &admin_id, &token, &wang).await;
    assert_eq!(
        on_site["missing_glyphs"]["characters"],
        json!(["王", "小", "明", "李"])
    );
    gw.stop().await;
}

#[tokio::test]
async fn with_a_cjk_font_file_a_cjk_badge_has_no_warning_and_prints() {
    let tp = TestPrinter::start().await;
    let clock = ManualClock::new(datetime!(2026-12-03 08:55 UTC));
    let gw = start(&tp, &clock, true).await;
    let (admin_id, _, token) = gw.admin_session().await;
    let (wang, issued) = issue_for(&gw, &token, "王小明", "李").await;
    assert!(issued["missing_glyphs"].is_null(), "{issued}");
    let badge = enroll(&gw, &token, "陈大伟").await;
    assert!(badge["missing_glyphs"].is_null(), "{badge}");
    let on_site = print_on_site(&gw, &admin_id, &token, &wang).await;
    assert!(on_site["missing_glyphs"].is_null(), "{on_site}");
    tp.wait_jobs(3, 20).await;
    gw.stop().await;
}
