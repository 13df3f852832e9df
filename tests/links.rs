//! Access links for staff over the API and the CLI: settings and their refusals, roles, kiosk pinning,
//! live usage, the CSV export and the printable poster whose QR opens the link.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod links_support;

use common::{Gateway, assert_problem, parse_csv};
use links_support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn link_count(gw: &Gateway, token: &str) -> usize {
    let (s, list) = gw.get("/api/links", Some(token)).await;
    assert_eq!(s, StatusCode::OK, "{list}");
    list.as_array().unwrap().len()
}

async fn patch(gw: &Gateway, token: &str, id: &str, body: Value) -> (StatusCode, Value) {
    let res = gw
        .client
        .patch(gw.url(&format!("/api/links/{id}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn staff_create_edit_deactivate_reactivate_and_list_links() {
    let gw = Gateway::start().await;
    let s = site(&gw).await;
    let before_outbox = gw.get("/api/status", Some(&s.token)).await.1["outbox_pending"]
        .as_u64()
        .unwrap();
    let l = full_link(
        &gw,
        &s,
        json!({"name": "Contractors – August", "expires_at": "2099-08-31T17:00:00Z", "cap": 25, "pinned": true}),
    )
    .await;
    let id = l["id"].as_str().unwrap();
    let uuid = uuid::Uuid::parse_str(id).unwrap();
    assert_eq!(uuid.get_version_num(), 7, "link IDs are UUIDv7");
    let token = l["token"].as_str().unwrap();
    assert!(
        token.len() >= 22
            && token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "128 random bits, base64url: {token}"
    );
    // The harness listens on loopback with no public host name: no URL a phone could open.
    assert_eq!(l["url"], Value::Null, "{l}");
    assert_eq!(l["state"], "active");
    assert_eq!((l["cap"].as_u64(), l["used"].as_u64()), (Some(25), Some(0)));
    assert_eq!(l["expires_at"], "2099-08-31T17:00:00Z");
    assert_eq!(l["allocation"]["groups"], json!([s.group["id"]]));
    let names: Vec<&str> = l["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Scaffolders", "North gate", "Śląsk"]);
    let other = link(&gw, &s.token, json!({"name": "Second"})).await;
    assert_ne!(other["token"], l["token"]);

    let (st, list) = gw.get("/api/links", Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[0]["id"], l["id"], "oldest first");
    let (st, shown) = gw.get(&format!("/api/links/{id}"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(shown["name"], "Contractors – August");

    // Edit: new name and cap, expiry removed, allocation narrowed, unpinned.
    let (st, edited) = patch(
        &gw,
        &s.token,
        id,
        json!({"name": "Contractors – September", "cap": 40, "expires_at": null, "allocation": {"sites": [s.site["id"]]}, "pinned": false}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{edited}");
    assert_eq!(edited["name"], "Contractors – September");
    assert_eq!(edited["cap"], 40);
    assert_eq!(edited["expires_at"], Value::Null);
    assert_eq!(edited["pinned"], false);
    assert_eq!(
        edited["allocation"],
        json!({"groups": [], "sites": [s.site["id"]], "regions": []})
    );
    assert_eq!(edited["token"], l["token"], "the token never changes");
    let (st, edited) = patch(&gw, &s.token, id, json!({"cap": null})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(edited["cap"], Value::Null);
    assert_eq!(edited["name"], "Contractors – September", "absent fields stay");

    // Deactivate and reactivate, each once.
    let path = |action: &str| format!("/api/links/{id}/{action}");
    let (st, off) = gw.post(&path("deactivate"), Some(&s.token), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (off["active"].as_bool(), off["state"].as_str()),
        (Some(false), Some("deactivated"))
    );
    let (st, body) = gw.post(&path("deactivate"), Some(&s.token), json!({})).await;
    assert_problem(st, &body, 409, "conflict");
    let (st, on) = gw.post(&path("reactivate"), Some(&s.token), json!({})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(on["state"], "active");
    let (st, body) = gw.post(&path("reactivate"), Some(&s.token), json!({})).await;
    assert_problem(st, &body, 409, "conflict");

    // Every change reached the outbox for the central system.
    let after_outbox = gw.get("/api/status", Some(&s.token)).await.1["outbox_pending"]
        .as_u64()
        .unwrap();
    assert_eq!(
        after_outbox,
        before_outbox + 6,
        "2 created, 2 updated, deactivated, reactivated"
    );

    // Unknown and malformed IDs.
    for bad in [uuid::Uuid::now_v7().to_string(), "not-a-uuid".to_string()] {
        let (st, body) = gw.get(&format!("/api/links/{bad}"), Some(&s.token)).await;
        assert_problem(st, &body, 404, "not_found");
        let (st, body) = patch(&gw, &s.token, &bad, json!({"name": "x"})).await;
        assert_problem(st, &body, 404, "not_found");
        let (st, body) = gw.get(&format!("/api/links/{bad}/usage"), Some(&s.token)).await;
        assert_problem(st, &body, 404, "not_found");
    }
    gw.stop().await;
}

#[tokio::test]
async fn bad_link_settings_are_refused_with_the_field_and_change_nothing() {
    let gw = Gateway::start().await;
    let s = site(&gw).await;
    let base = link(&gw, &s.token, json!({"cap": 5})).await;
    let id = base["id"].as_str().unwrap();
    let cases: Vec<(Value, &str, Option<&str>)> = vec![
        (json!({"name": " "}), "invalid_field", Some("name")),
        (json!({"name": "n".repeat(101)}), "invalid_field", Some("name")),
        (
            json!({"description": "d".repeat(501)}),
            "invalid_field",
            Some("description"),
        ),
        (
            json!({"expires_at": "2020-01-01T00:00:00Z"}),
            "invalid_field",
            Some("expires_at"),
        ),
        (json!({"cap": 0}), "invalid_field", Some("cap")),
        (json!({"cap": 100_001}), "invalid_field", Some("cap")),
        (
            json!({"allocation": {"groups": [uuid::Uuid::now_v7()]}}),
            "invalid_field",
            Some("allocation.groups"),
        ),
        (
            json!({"allocation": {"groups": [s.site["id"]]}}),
            "invalid_field",
            Some("allocation.groups"),
        ),
        (
            json!({"allocation": {"regions": [s.group["id"]]}}),
            "invalid_field",
            Some("allocation.regions"),
        ),
        (json!({"allocation": {"teams": []}}), "invalid_body", None),
        (json!({"colour": "red"}), "invalid_body", None),
    ];
    let before = link_count(&gw, &s.token).await;
    let (_, outbox_before) = gw.get("/api/status", Some(&s.token)).await;
    for (change, code, field) in &cases {
        let mut body = json!({"name": "Refused"});
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (st, out) = gw.post("/api/links", Some(&s.token), body.clone()).await;
        assert_problem(st, &out, 422, code);
        if let Some(f) = field {
            assert_eq!(out["field"], *f, "{body}: {out}");
        }
        // The same change as an edit is refused too, and leaves the link as it was.
        let (st, out) = patch(&gw, &s.token, id, change.clone()).await;
        assert_problem(st, &out, 422, code);
    }
    let (_, unchanged) = gw.get(&format!("/api/links/{id}"), Some(&s.token)).await;
    assert_eq!(unchanged["name"], "Induction");
    assert_eq!(unchanged["cap"], 5);
    assert_eq!(unchanged["updated_at"], base["updated_at"]);
    assert_eq!(link_count(&gw, &s.token).await, before);
    let (_, outbox_after) = gw.get("/api/status", Some(&s.token)).await;
    assert_eq!(outbox_after["outbox_pending"], outbox_before["outbox_pending"]);
    gw.stop().await;
}

#[tokio::test]
async fn only_managers_and_admins_manage_links() {
    let gw = Gateway::start().await;
    let s = site(&gw).await;
    let l = link(&gw, &s.token, json!({})).await;
    let id = l["id"].as_str().unwrap();
    for role in ["instructor", "manager"] {
        let u = gw
            .create_user(
                &s.token,
                json!({"given_name": "Staff", "family_name": role, "role": role}),
            )
            .await;
        let uid = u["id"].as_str().unwrap();
        let (_, pin) = gw
            .post(&format!("/api/users/{uid}/pin"), Some(&s.token), json!({}))
            .await;
        let token = gw.sign_in(uid, pin["pin"].as_str().unwrap()).await;
        let (st, body) = gw.get("/api/links", Some(&token)).await;
        let (st2, body2) = gw.post("/api/links", Some(&token), json!({"name": role})).await;
        let (st3, body3) = gw.get(&format!("/api/links/{id}/usage.csv"), Some(&token)).await;
        if role == "instructor" {
            assert_problem(st, &body, 403, "forbidden");
            assert_problem(st2, &body2, 403, "forbidden");
            assert_problem(st3, &body3, 403, "forbidden");
        } else {
            assert_eq!(st, StatusCode::OK);
            assert_eq!(st2, StatusCode::CREATED, "{body2}");
            assert_eq!(st3, StatusCode::OK);
        }
    }
    gw.stop().await;
}

#[tokio::test]
async fn pinned_links_that_can_enroll_are_the_kiosk_tiles() {
    let gw = Gateway::start().await;
    let s = site(&gw).await;
    let pinned = link(&gw, &s.token, json!({"name": "Pinned", "pinned": true})).await;
    link(&gw, &s.token, json!({"name": "Not pinned"})).await;
    let off = link(&gw, &s.token, json!({"name": "Pinned but off", "pinned": true})).await;
    let off_id = off["id"].as_str().unwrap();
    gw.post(
        &format!("/api/links/{off_id}/deactivate"),
        Some(&s.token),
        json!({}),
    )
    .await;
    let full = link(
        &gw,
        &s.token,
        json!({"name": "Pinned but full", "pinned": true, "cap": 1}),
    )
    .await;
    enroll_ok(&gw, &full, form("Only", "One", "only@example.com")).await;
    let tiles = gw.get("/api/kiosk/links", None).await.1;
    let names: Vec<&str> = tiles
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Pinned"]);
    let id = pinned["id"].as_str().unwrap();
    patch(&gw, &s.token, id, json!({"pinned": false})).await;
    assert_eq!(gw.get("/api/kiosk/links", None).await.1, json!([]));
    gw.stop().await;
}

#[tokio::test]
async fn usage_shows_who_came_when_and_where_and_exports_as_csv() {
    let gw = Gateway::start().await;
    let s = site(&gw).await;
    let l = full_link(&gw, &s, json!({"name": "Induction, \"North\""})).await;
    let id = l["id"].as_str().unwrap();
    let mut people = names();
    // Cells a spreadsheet would run as formulas.
    people.push((
        "=HYPERLINK(\"http://evil.example\",\"x\")".into(),
        "+1 Formula".into(),
    ));
    people.push(("@SUM(A1)".into(), "-Minus".into()));
    for (i, (given, family)) in people.iter().enumerate() {
        enroll_ok(&gw, &l, form(given, family, &format!("p{i}@example.com"))).await;
    }
    // An existing user through the same link is marked as such.
    let other = link(&gw, &s.token, json!({"name": "Other"})).await;
    let returning = enroll_ok(&gw, &other, form("Søren", "Ørsted", "soren@example.dk")).await;
    let (st, _) = existing(
        &gw,
        &l,
        json!({"user_id": returning["user"]["id"], "pin": returning["pin"]}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);

    let (st, usage) = gw.get(&format!("/api/links/{id}/usage"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK);
    let total = people.len() + 1;
    assert_eq!(usage["count"], total);
    let users = usage["users"].as_array().unwrap();
    assert_eq!(users.len(), total);
    assert_eq!(users[0]["given_name"], people[0].0.as_str());
    assert_eq!(users[0]["name"], format!("{} {}", people[0].0, people[0].1));
    assert_eq!(users[0]["existing_user"], false);
    assert_eq!(users[0]["source"], "127.0.0.1");
    assert_eq!(users[0]["allocated"].as_array().unwrap().len(), 3);
    assert!(users[0]["enrolled_at"].as_str().unwrap().contains('T'));
    assert_eq!(users[total - 1]["existing_user"], true);

    let res = gw
        .client
        .get(gw.url(&format!("/api/links/{id}/usage.csv")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let rows = parse_csv(text);
    assert_eq!(
        rows[0],
        [
            "User ID",
            "Given name",
            "Family name",
            "Employer",
            "Enrolled at (UTC+00:00)",
            "Existing user",
            "Groups",
            "Sites",
            "Regions"
        ]
    );
    assert_eq!(rows.len(), total + 1);
    for (row, (given, family)) in rows[1..].iter().zip(&people) {
        assert_eq!(row.len(), 9);
        let guard = |v: &str| {
            if v.starts_with(['=', '+', '-', '@']) {
                format!("'{v}")
            } else {
                v.to_string()
            }
        };
        assert_eq!(row[1], guard(given), "names survive, formulas are defused");
        assert_eq!(row[2], guard(family));
        assert_eq!(row[3], "Budimex S.A.");
        assert_eq!(row[5], "no");
        assert_eq!(
            (row[6].as_str(), row[7].as_str(), row[8].as_str()),
            ("Scaffolders", "North gate", "Śląsk")
        );
    }
    assert_eq!(rows[total][5], "yes");
    assert!(
        rows[1..]
            .iter()
            .all(|r| !r[1].starts_with('=') && !r[1].starts_with('@'))
    );
    gw.stop().await;
}

/// Decode the QR inside the poster's inline SVG: rebuild its modules as a greyscale image for rqrr.
fn decode_svg_qr(svg: &str) -> String {
    let attr = |name: &str| -> usize {
        let start = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        svg[start..].split('"').next().unwrap().parse().unwrap()
    };
    let (w, h) = (attr("width"), attr("height"));
    let d_start = svg.find(" d=\"").unwrap() + 4;
    let d = svg[d_start..].split('"').next().unwrap();
    let mut dark = vec![false; w * h];
    // Each dark rectangle is `M{left} {top}h{width}v{height}H{left}V{top}`.
    for rect in d.split('M').filter(|r| !r.is_empty()) {
        let nums: Vec<usize> = rect
            .split(|c: char| !c.is_ascii_digit())
            .filter(|n| !n.is_empty())
            .map(|n| n.parse().unwrap())
            .collect();
        let (left, top, rw, rh) = (nums[0], nums[1], nums[2], nums[3]);
        for y in top..top + rh {
            for x in left..left + rw {
                dark[y * w + x] = true;
            }
        }
    }
    const SCALE: usize = 6;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w * SCALE, h * SCALE, |x, y| {
        if dark[(y / SCALE) * w + x / SCALE] { 0 } else { 255 }
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR on the poster");
    grids[0].decode().unwrap().1
}

#[tokio::test]
async fn the_poster_is_a_self_contained_printable_page_whose_qr_opens_the_link() {
    let gw = Gateway::start_with(
        |c| c.server.public_hostnames = vec!["gate.plant.example".into()],
        Default::default(),
    )
    .await;
    let s = site(&gw).await;
    let l = link(
        &gw,
        &s.token,
        json!({"name": "Induction <North> & \"South\"", "description": "Contratistas – agosto · Podwykonawcy"}),
    )
    .await;
    let id = l["id"].as_str().unwrap();
    let url = format!(
        "https://gate.plant.example:{}/enroll/{}",
        gw.https.port(),
        l["token"].as_str().unwrap()
    );
    assert_eq!(l["url"], url, "a configured public host name makes the URL");
    let res = gw
        .client
        .get(gw.url(&format!("/api/links/{id}/poster")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let html = res.text().await.unwrap();
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("Induction &lt;North&gt; &amp; &quot;South&quot;"));
    assert!(!html.contains("<North>"));
    assert!(html.contains("Contratistas – agosto · Podwykonawcy"));
    assert!(html.contains(&url));
    assert!(html.contains("@page"), "print CSS");
    assert!(html.contains("Test site"));
    for outside in ["<script", "<link", "<img", "src=", "href=", "url(", "@import"] {
        assert!(!html.contains(outside), "no outside resources: found {outside}");
    }
    // The page's own style is the one the policy lets run (a browser checks this hash).
    let css = html
        .split("<style>")
        .nth(1)
        .unwrap()
        .split("</style>")
        .next()
        .unwrap();
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(css.as_bytes()));
    assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "{csp}");
    let svg_start = html.find("<svg").unwrap();
    let svg_end = html.find("</svg>").unwrap() + 6;
    assert_eq!(decode_svg_qr(&html[svg_start..svg_end]), url);
    gw.stop().await;
}

#[tokio::test]
async fn the_cli_manages_links_through_the_running_gateway() {
    use clap::Parser;
    let gw = Gateway::start().await;
    let s = site(&gw).await;
    let state = gw.state_dir();
    let run = |args: &[&str]| {
        let mut argv = vec!["sitegate", "--state-dir", state.to_str().unwrap()];
        argv.extend_from_slice(args);
        let cli = sitegate::cli::Cli::try_parse_from(argv).unwrap();
        sitegate::cli::run_command(cli)
    };
    let out = run(&[
        "link",
        "add",
        "--name",
        "Night shift",
        "--description",
        "Turno de noche",
        "--cap",
        "5",
        "--group",
        "Scaffolders",
        "--site",
        "North gate",
        "--expires",
        "2099-12-31",
        "--pinned",
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Name:        Night shift"), "{}", out.stdout);
    assert!(out.stdout.contains("URL:         none: "), "{}", out.stdout);
    assert!(
        out.stdout.contains("group Scaffolders, site North gate"),
        "{}",
        out.stdout
    );
    let (_, links) = gw.get("/api/links", Some(&s.token)).await;
    let l = &links[0];
    assert_eq!(l["cap"], 5);
    assert_eq!(l["pinned"], true);
    assert_eq!(l["expires_at"], "2099-12-31T23:59:59Z");

    let out = run(&["link", "list"]).await;
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("Night shift") && out.stdout.contains("pinned"),
        "{}",
        out.stdout
    );
    let out = run(&["link", "pin", "night shift", "--off"]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("not pinned"));
    let id = l["id"].as_str().unwrap();
    let out = run(&["link", "deactivate", id]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("State:       deactivated"));
    let out = run(&["link", "deactivate", id]).await;
    assert_eq!(out.code, 2, "already deactivated");
    let out = run(&["link", "reactivate", id]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    enroll_ok(&gw, l, form("Алексей", "Смирнов", "aleksei@example.com")).await;
    let out = run(&["link", "show", id]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Usage (1 users)"), "{}", out.stdout);
    assert!(out.stdout.contains("Алексей Смирнов"), "{}", out.stdout);
    // Mistakes exit 2 with one line.
    let out = run(&["link", "add", "--name", "X", "--group", "Nobody"]).await;
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    let out = run(&["link", "show", "no such link"]).await;
    assert_eq!(out.code, 2);
    gw.stop().await;
}

#[tokio::test]
async fn the_demo_has_pinned_links_a_newcomer_can_enroll_through() {
    let gw = Gateway::start_with(
        |_| {},
        sitegate::RunOptions {
            demo: true,
            ..Default::default()
        },
    )
    .await;
    let (st, tiles) = gw.get("/api/kiosk/links", None).await;
    assert_eq!(st, StatusCode::OK);
    let tiles = tiles.as_array().unwrap();
    assert_eq!(tiles.len(), 2, "{tiles:?}");
    let out = enroll_ok(&gw, &tiles[1], form("Nguyễn", "Thị Minh Khai", "khai@example.vn")).await;
    assert_eq!(out["allocated"].as_array().unwrap().len(), 3);
    assert!(!out["training"].as_array().unwrap().is_empty());
    gw.stop().await;
}
