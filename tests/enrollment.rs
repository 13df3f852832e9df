//! Self-enrollment through access links, as the kiosk and phones use it: the happy path, every refusal
//! (and that a refusal changes nothing), existing users proving who they are, and the cap under a race.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod links_support;

use common::{Gateway, assert_problem};
use links_support::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::Duration;

#[tokio::test]
async fn a_newcomer_enrolls_and_leaves_with_id_pin_allocation_and_training() {
    let gw = Gateway::start_with(|c| c.kiosk.idle_seconds = 45, Default::default()).await;
    let s = site(&gw).await;
    let link = full_link(&gw, &s, json!({"pinned": true})).await;

    let (st, cfg) = gw.get("/api/kiosk/config", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(cfg["site_name"], "Test site");
    assert_eq!(cfg["languages"], json!(["en", "es", "pt", "pl"]));
    assert_eq!(cfg["terms_version"], "1");
    assert!(cfg["terms_text"].as_str().unwrap().len() > 20);
    assert_eq!(cfg["contact_required"], "email_or_phone");
    assert_eq!(cfg["idle_seconds"], 45);

    let (st, tiles) = gw.get("/api/kiosk/links", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        tiles,
        json!([{"token": link["token"], "name": "Induction", "description": "Site A – safety induction"}])
    );

    let token = link["token"].as_str().unwrap();
    let (st, preview) = gw.get(&format!("/api/enroll/{token}"), None).await;
    assert_eq!(st, StatusCode::OK, "{preview}");
    assert_eq!(preview["name"], "Induction");
    assert_eq!(preview["site_name"], "Test site");
    assert_eq!(
        preview["allocation"],
        json!([{"kind": "group", "name": "Scaffolders"}, {"kind": "site", "name": "North gate"}, {"kind": "region", "name": "Śląsk"}])
    );

    let before = counters(&gw, &s.token, &link).await;
    let out = enroll_ok(
        &gw,
        &link,
        form("Zofia", "Łukasiewicz-Wróbel", "zofia@example.pl"),
    )
    .await;
    let user = &out["user"];
    assert_eq!(user["given_name"], "Zofia");
    assert_eq!(user["family_name"], "Łukasiewicz-Wróbel");
    assert_eq!(user["short_name"], "Zofia Ł.");
    assert_eq!(user["language"], "pl");
    let id = user["id"].as_str().unwrap();
    assert_eq!(id.len(), 11, "ABCDE-FGHJK: {id}");
    let pin = out["pin"].as_str().unwrap();
    assert!(pin.len() == 6 && pin.chars().all(|c| c.is_ascii_digit()), "{pin}");
    // The badge was issued with the enrollment; from a phone (HTTPS) it prints at the gate.
    assert_eq!(out["badge"]["status"], "printing", "{out}");
    assert_eq!(out["badge"]["pickup"], "gate");
    assert_eq!(out["badge"]["serial"], 1);
    assert_eq!(out["badge"]["preview_url"], Value::Null);
    assert_eq!(out["allocated"], preview["allocation"]);
    assert_eq!(out["training"].as_array().unwrap().len(), 1);
    assert_eq!(out["training"][0]["module"]["title"], "Working at heights");
    assert_eq!(out["training"][0]["status"], "pending");

    // The record holds the allocation, the enrollment and the PIN, all written together.
    let (st, d) = gw.get(&format!("/api/users/{id}"), Some(&s.token)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(d["user"]["groups"], json!([s.group["id"]]));
    assert_eq!(d["user"]["sites"], json!([s.site["id"]]));
    assert_eq!(d["user"]["regions"], json!([s.region["id"]]));
    assert_eq!(d["user"]["email"], "zofia@example.pl");
    assert_eq!(d["user"]["employer"], "Budimex S.A.");
    let kinds: Vec<&str> = d["activity"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    for k in ["created", "joined_unit", "pin_issued", "enrolled_via_link"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let after = counters(&gw, &s.token, &link).await;
    assert_eq!(after.users, before.users + 1);
    assert_eq!(after.used, 1);
    assert_eq!(after.usage_rows, 1);
    assert!(after.outbox >= before.outbox + 2, "user and link events");

    // The PIN is real: signing in with it gets past the credential check (a trainee is no staff).
    let (st, body) = gw
        .post("/api/auth/sign-in", None, json!({"user_id": id, "pin": pin}))
        .await;
    assert_problem(st, &body, 403, "forbidden");
    gw.stop().await;
}

#[tokio::test]
async fn names_in_any_script_enroll_and_the_kiosk_listener_works_too() {
    let gw = Gateway::start_with(
        |c| c.enrollment.contact_required = sitegate::domain::enrollment::ContactRule::None,
        Default::default(),
    )
    .await;
    let s = site(&gw).await;
    let link = full_link(&gw, &s, json!({})).await;
    for (given, family) in names() {
        let mut body = form(&given, &family, "");
        body["email"] = Value::Null;
        let out = enroll_ok(&gw, &link, body).await;
        assert_eq!(out["user"]["given_name"], given.as_str());
        assert_eq!(out["user"]["family_name"], family.as_str());
    }
    // The kiosk browser on the box uses the plain loopback listener.
    let token = link["token"].as_str().unwrap();
    let res = gw
        .client
        .post(gw.kiosk_url(&format!("/api/enroll/{token}")))
        .json(&form("Ελένη", "Παπαδοπούλου", "eleni@example.gr"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = link["id"].as_str().unwrap();
    let (_, usage) = gw.get(&format!("/api/links/{id}/usage"), Some(&s.token)).await;
    let users = usage["users"].as_array().unwrap();
    assert_eq!(users.len(), names().len() + 1);
    assert_eq!(users.last().unwrap()["source"], "kiosk");
    assert_eq!(users.last().unwrap()["name"], "Ελένη Παπαδοπούλου");
    gw.stop().await;
}

#[tokio::test]
async fn unknown_expired_deactivated_and_full_links_are_refused_each_with_its_code() {
    let (gw, clock) = gateway_with_clock(|_| {}).await;
    let s = site(&gw).await;
    // Unknown.
    for path in ["/api/enroll/nope", "/api/enroll/AAAAAAAAAAAAAAAAAAAAAA"] {
        let (st, body) = gw.get(path, None).await;
        assert_problem(st, &body, 404, "link_unknown");
        let (st, body) = gw.post(path, None, form("A", "B", "a@example.com")).await;
        assert_problem(st, &body, 404, "link_unknown");
        let (st, body) = gw
            .post(
                &format!("{path}/existing"),
                None,
                json!({"user_id": s.admin_id, "pin": s.admin_pin}),
            )
            .await;
        assert_problem(st, &body, 404, "link_unknown");
    }

    // Full: a cap of one.
    let capped = full_link(&gw, &s, json!({"cap": 1})).await;
    enroll_ok(&gw, &capped, form("First", "One", "first@example.com")).await;
    let before = counters(&gw, &s.token, &capped).await;
    let (st, body) = enroll(&gw, &capped, form("Second", "Two", "second@example.com")).await;
    assert_problem(st, &body, 409, "link_full");
    let token = capped["token"].as_str().unwrap();
    let (st, body) = gw.get(&format!("/api/enroll/{token}"), None).await;
    assert_problem(st, &body, 409, "link_full");
    assert_eq!(
        counters(&gw, &s.token, &capped).await,
        before,
        "a refusal changes nothing"
    );

    // Deactivated.
    let off = full_link(&gw, &s, json!({})).await;
    let off_id = off["id"].as_str().unwrap();
    let (st, _) = gw
        .post(
            &format!("/api/links/{off_id}/deactivate"),
            Some(&s.token),
            json!({}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let before = counters(&gw, &s.token, &off).await;
    let (st, body) = enroll(&gw, &off, form("Ana", "Silva", "ana@example.pt")).await;
    assert_problem(st, &body, 410, "link_deactivated");
    let (st, body) = existing(&gw, &off, json!({"user_id": s.admin_id, "pin": s.admin_pin})).await;
    assert_problem(st, &body, 410, "link_deactivated");
    let token = off["token"].as_str().unwrap();
    let (st, body) = gw.get(&format!("/api/enroll/{token}"), None).await;
    assert_problem(st, &body, 410, "link_deactivated");
    assert_eq!(counters(&gw, &s.token, &off).await, before);

    // Expired: the clock passes the expiry.
    let soon = full_link(&gw, &s, json!({"expires_at": "2026-11-25T09:00:00Z"})).await;
    enroll_ok(&gw, &soon, form("Early", "Bird", "early@example.com")).await;
    clock.advance(Duration::hours(1));
    let admin = gw.sign_in(&s.admin_id, &s.admin_pin).await;
    let before = counters(&gw, &admin, &soon).await;
    let (st, body) = enroll(&gw, &soon, form("Late", "Comer", "late@example.com")).await;
    assert_problem(st, &body, 410, "link_expired");
    let token = soon["token"].as_str().unwrap();
    let (st, body) = gw.get(&format!("/api/enroll/{token}"), None).await;
    assert_problem(st, &body, 410, "link_expired");
    assert_eq!(counters(&gw, &admin, &soon).await, before);
    let (_, tiles) = gw.get("/api/kiosk/links", None).await;
    assert_eq!(tiles, json!([]), "no usable pinned links");
    gw.stop().await;
}

#[tokio::test]
async fn bad_forms_are_refused_with_the_field_and_change_nothing() {
    let gw = Gateway::start().await;
    let s = site(&gw).await;
    let link = full_link(&gw, &s, json!({})).await;
    let before = counters(&gw, &s.token, &link).await;
    let cases: Vec<(Value, u16, &str, Option<&str>)> = vec![
        (
            json!({"given_name": " "}),
            422,
            "invalid_field",
            Some("given_name"),
        ),
        (
            json!({"family_name": "x".repeat(101)}),
            422,
            "invalid_field",
            Some("family_name"),
        ),
        (
            json!({"email": "not-an-email"}),
            422,
            "invalid_field",
            Some("email"),
        ),
        (json!({"phone": "0601 234"}), 422, "invalid_field", Some("phone")),
        (
            json!({"language": "polish"}),
            422,
            "invalid_field",
            Some("language"),
        ),
        (
            json!({"employer": "\u{7}bell"}),
            422,
            "invalid_field",
            Some("employer"),
        ),
        (
            json!({"accept_terms": false}),
            422,
            "terms_not_accepted",
            Some("accept_terms"),
        ),
        (
            json!({"terms_version": "0"}),
            422,
            "terms_not_accepted",
            Some("terms_version"),
        ),
        (json!({"email": null}), 422, "contact_required", None),
        (json!({"email": ""}), 422, "contact_required", None),
        (json!({"surprise": 1}), 422, "invalid_body", None),
        (
            json!({"accept_terms": "yes"}),
            422,
            "invalid_body",
            Some("accept_terms"),
        ),
    ];
    for (change, status, code, field) in cases {
        let mut body = form("Jürgen", "Weiß", "juergen@example.de");
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (st, out) = enroll(&gw, &link, body.clone()).await;
        assert_problem(st, &out, status, code);
        if let Some(f) = field {
            assert_eq!(out["field"], f, "{body}: {out}");
        }
    }
    // Missing required fields and wrong media types are refused as well.
    let (st, out) = enroll(&gw, &link, json!({"given_name": "A"})).await;
    assert_problem(st, &out, 422, "invalid_body");
    let token = link["token"].as_str().unwrap();
    let res = gw
        .client
        .post(gw.url(&format!("/api/enroll/{token}")))
        .body("given_name=A")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(counters(&gw, &s.token, &link).await, before);
    gw.stop().await;
}

#[tokio::test]
async fn the_site_contact_rule_decides_which_contact_is_needed() {
    use sitegate::domain::enrollment::ContactRule;
    for (rule, body_change, ok) in [
        (
            ContactRule::Email,
            json!({"email": null, "phone": "+48 601 234 567"}),
            Some("email"),
        ),
        (ContactRule::Phone, json!({}), Some("phone")),
        (
            ContactRule::Phone,
            json!({"email": null, "phone": "+48 601 234 567"}),
            None,
        ),
        (
            ContactRule::EmailOrPhone,
            json!({"email": null, "phone": "+48 601 234 567"}),
            None,
        ),
    ] {
        let gw = Gateway::start_with(move |c| c.enrollment.contact_required = rule, Default::default()).await;
        let s = site(&gw).await;
        let link = full_link(&gw, &s, json!({})).await;
        let (_, cfg) = gw.get("/api/kiosk/config", None).await;
        assert_eq!(cfg["contact_required"], rule.as_str());
        let mut body = form("Li", "Na", "li.na@example.cn");
        for (k, v) in body_change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (st, out) = enroll(&gw, &link, body).await;
        match ok {
            None => assert_eq!(st, StatusCode::CREATED, "{rule:?}: {out}"),
            Some(field) => {
                assert_problem(st, &out, 422, "contact_required");
                assert_eq!(out["field"], field);
            }
        }
        gw.stop().await;
    }
}

#[tokio::test]
async fn new_terms_must_be_accepted_in_their_current_version() {
    let gw = Gateway::start_with(
        |c| c.enrollment.terms_version = "2026-11".into(),
        Default::default(),
    )
    .await;
    let s = site(&gw).await;
    let link = full_link(&gw, &s, json!({})).await;
    let mut body = form("Søren", "Ørsted", "soren@example.dk");
    let (st, out) = enroll(&gw, &link, body.clone()).await;
    assert_problem(st, &out, 422, "terms_not_accepted");
    body["terms_version"] = json!("2026-11");
    enroll_ok(&gw, &link, body).await;
    gw.stop().await;
}

#[tokio::test]
async fn an_existing_user_proves_who_they_are_and_gets_the_allocation_once() {
    let gw = Gateway::start().await;
    let s = site(&gw).await;
    let first = link(&gw, &s.token, json!({"name": "Day one"})).await;
    let joined = enroll_ok(&gw, &first, {
        let mut f = form("João", "Gonçalves", "joao@example.pt");
        f["phone"] = json!("+351 912 345 678");
        f
    })
    .await;
    let id = joined["user"]["id"].as_str().unwrap().to_string();
    let pin = joined["pin"].as_str().unwrap().to_string();

    // A second link that allocates to the group, site and region, capped at one.
    let second = full_link(&gw, &s, json!({"name": "Heights", "cap": 1})).await;
    let before = counters(&gw, &s.token, &second).await;
    // Typing the same email or phone does not make a second record: the kiosk must ask for proof.
    let (st, out) = enroll(&gw, &second, form("Joao", "Goncalves", "JOAO@example.pt")).await;
    assert_problem(st, &out, 409, "existing_user");
    assert_eq!(out["field"], "email");
    let mut by_phone = form("Joao", "Goncalves", "other@example.pt");
    by_phone["phone"] = json!("00351912345678");
    let (st, out) = enroll(&gw, &second, by_phone).await;
    assert_problem(st, &out, 409, "existing_user");
    assert_eq!(out["field"], "phone");
    // Wrong proofs are refused alike and change nothing.
    for bad in [
        json!({"user_id": id, "pin": "000000"}),
        json!({"user_id": s.admin_id, "pin": pin}),
        json!({"otp": "12345678"}),
    ] {
        let (st, out) = existing(&gw, &second, bad).await;
        assert_problem(st, &out, 401, "invalid_credentials");
    }
    let (st, out) = existing(&gw, &second, json!({"user_id": "ABCDE-FGHJ0", "pin": pin})).await;
    assert_eq!(st.as_u16(), 422, "{out}");
    let (st, out) = existing(&gw, &second, json!({"user_id": id})).await;
    assert_problem(st, &out, 422, "invalid_body");
    assert_eq!(counters(&gw, &s.token, &second).await, before);

    // ID + PIN: the allocation is added, the PIN stays, the training follows.
    let (st, out) = existing(
        &gw,
        &second,
        json!({"user_id": id.to_lowercase().replace('-', ""), "pin": pin}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{out}");
    assert_eq!(out["user"]["id"], id.as_str());
    assert_eq!(out["pin"], Value::Null);
    // Their badge from the first enrollment still works: kept, nothing printed.
    assert_eq!(out["badge"]["status"], "kept", "{out}");
    assert_eq!(out["badge"]["serial"], 1);
    assert_eq!(out["badge"]["job"], Value::Null);
    assert_eq!(out["allocated"].as_array().unwrap().len(), 3);
    assert_eq!(out["training"][0]["module"]["title"], "Working at heights");
    let (_, d) = gw.get(&format!("/api/users/{id}"), Some(&s.token)).await;
    assert_eq!(d["user"]["groups"], json!([s.group["id"]]));
    assert_eq!(d["user"]["regions"], json!([s.region["id"]]));
    let after = counters(&gw, &s.token, &second).await;
    assert_eq!(after.users, before.users, "no second record");
    assert_eq!((after.used, after.usage_rows), (1, 1));
    let (_, usage) = gw
        .get(
            &format!("/api/links/{}/usage", second["id"].as_str().unwrap()),
            Some(&s.token),
        )
        .await;
    assert_eq!(usage["users"][0]["existing_user"], true);

    // The link is now full, but counts them once: they may come through again; a newcomer may not.
    let (st, out) = existing(&gw, &second, json!({"user_id": id, "pin": pin})).await;
    assert_eq!(st, StatusCode::OK, "the old PIN still works: {out}");
    let again = counters(&gw, &s.token, &second).await;
    assert_eq!((again.used, again.usage_rows, again.users), (1, 1, after.users));
    let (st, out) = enroll(&gw, &second, form("New", "Person", "new@example.com")).await;
    assert_problem(st, &out, 409, "link_full");
    // Another existing user on the full link is refused as well.
    let other = enroll_ok(&gw, &first, form("Ahmed", "Al-Sayed", "ahmed@example.com")).await;
    let (st, out) = existing(
        &gw,
        &second,
        json!({"user_id": other["user"]["id"], "pin": other["pin"]}),
    )
    .await;
    assert_problem(st, &out, 409, "link_full");
    gw.stop().await;
}

#[tokio::test]
async fn a_deactivated_user_cannot_come_back_through_a_link() {
    let gw = Gateway::start().await;
    let s = site(&gw).await;
    let link = full_link(&gw, &s, json!({})).await;
    let out = enroll_ok(&gw, &link, form("Đorđe", "Petrović", "djordje@example.rs")).await;
    let id = out["user"]["id"].as_str().unwrap();
    let (st, _) = gw
        .post(&format!("/api/users/{id}/deactivate"), Some(&s.token), json!({}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let before = counters(&gw, &s.token, &link).await;
    // Deactivation ends the PIN, so the proof fails as any wrong PIN does.
    let (st, body) = existing(&gw, &link, json!({"user_id": id, "pin": out["pin"]})).await;
    assert_problem(st, &body, 401, "invalid_credentials");
    // Their email still belongs to them: no new record under it.
    let (st, body) = enroll(&gw, &link, form("Đorđe", "Petrović", "djordje@example.rs")).await;
    assert_problem(st, &body, 409, "existing_user");
    assert_eq!(counters(&gw, &s.token, &link).await, before);
    gw.stop().await;
}

#[tokio::test]
async fn fifty_racing_enrollments_on_a_link_capped_at_ten_give_exactly_ten_users() {
    let gw = Gateway::start().await;
    let s = site(&gw).await;
    let link = full_link(&gw, &s, json!({"cap": 10})).await;
    let before = counters(&gw, &s.token, &link).await;
    let token = link["token"].as_str().unwrap().to_string();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..50 {
        let client = gw.client.clone();
        let url = gw.url(&format!("/api/enroll/{token}"));
        let body = form("Racer", &format!("Nummer {i}"), &format!("racer{i}@example.com"));
        set.spawn(async move {
            let res = client.post(url).json(&body).send().await.unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap();
            (status, body)
        });
    }
    let (mut created, mut full) = (0, 0);
    while let Some(r) = set.join_next().await {
        let (status, body) = r.unwrap();
        match status.as_u16() {
            201 => created += 1,
            409 => {
                assert_eq!(body["code"], "link_full", "{body}");
                assert!(body["detail"].as_str().unwrap().contains("cap"));
                full += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((created, full), (10, 40));
    let after = counters(&gw, &s.token, &link).await;
    assert_eq!(after.users, before.users + 10);
    assert_eq!((after.used, after.usage_rows), (10, 10));
    gw.stop().await;
}
