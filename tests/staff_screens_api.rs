//! What the kiosk's staff screens need beyond the credentials API: finding a user by part of
//! their ID or name, any staff member seeing whether they have an authenticator, and clearing
//! one account's backoff from the throttling screen.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Gateway, assert_problem};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn ids(list: &Value) -> Vec<String> {
    list["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn staff_find_users_by_part_of_their_name_or_id() {
    let gw = Gateway::start().await;
    let (_, _, token) = gw.admin_session().await;
    let t = Some(token.as_str());
    let ana = gw
        .create_user(
            &token,
            json!({"given_name": "Ana", "family_name": "Kowalska", "language": "pl"}),
        )
        .await;
    let jan = gw
        .create_user(
            &token,
            json!({"given_name": "Jan", "family_name": "Kowalski", "language": "pl"}),
        )
        .await;
    let joao = gw
        .create_user(
            &token,
            json!({"given_name": "João", "family_name": "Silva", "language": "pt"}),
        )
        .await;
    let id = |u: &Value| u["id"].as_str().unwrap().to_string();

    // Part of a family name, in any case: both Kowalscy, not João.
    let (s, found) = gw.get("/api/users?q=kowal", t).await;
    assert_eq!(s, StatusCode::OK, "{found}");
    let mut want = vec![id(&ana), id(&jan)];
    want.sort();
    assert_eq!(ids(&found), want);
    // Given and family name together; accented letters as typed.
    let (_, found) = gw.get("/api/users?q=jan%20kowalski", t).await;
    assert_eq!(ids(&found), vec![id(&jan)]);
    let (_, found) = gw.get("/api/users?q=jo%C3%A3o", t).await;
    assert_eq!(ids(&found), vec![id(&joao)]);
    // And without the accents, as typed on a keyboard that has none.
    let (_, found) = gw.get("/api/users?q=JOAO%20silva", t).await;
    assert_eq!(ids(&found), vec![id(&joao)]);
    // An ID typed without its dash, lower case.
    let typed = id(&joao).replace('-', "").to_lowercase();
    let (_, found) = gw.get(&format!("/api/users?q={typed}"), t).await;
    assert_eq!(ids(&found), vec![id(&joao)]);
    // Nobody by that name: an empty list, not an error.
    let (s, found) = gw.get("/api/users?q=nobody", t).await;
    assert_eq!(s, StatusCode::OK);
    assert!(ids(&found).is_empty());
    // Pages: limit applies to the matches.
    let (_, found) = gw.get("/api/users?q=kowal&limit=1", t).await;
    assert_eq!(ids(&found), vec![want[0].clone()]);
    assert_eq!(found["next_after"], want[0].as_str());

    // Bad searches are refused, naming the field.
    let (s, body) = gw.get("/api/users?q=%20%20", t).await;
    assert_problem(s, &body, 422, "invalid_field");
    assert_eq!(body["field"], "q");
    let long = "a".repeat(65);
    let (s, body) = gw.get(&format!("/api/users?q={long}"), t).await;
    assert_problem(s, &body, 422, "invalid_field");
    // Only staff may search.
    let (s, body) = gw.get("/api/users?q=kowal", None).await;
    assert_problem(s, &body, 401, "unauthenticated");
    gw.stop().await;
}

#[tokio::test]
async fn any_staff_member_sees_their_own_authenticator_status() {
    let gw = Gateway::start().await;
    let (_, _, token) = gw.admin_session().await;
    let t = Some(token.as_str());
    let instructor = gw
        .create_user(
            &token,
            json!({"given_name": "Ina", "family_name": "Structor", "language": "en", "role": "instructor"}),
        )
        .await;
    let iid = instructor["id"].as_str().unwrap().to_string();
    let (s, pin) = gw.post(&format!("/api/users/{iid}/pin"), t, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{pin}");
    let itoken = gw.sign_in(&iid, pin["pin"].as_str().unwrap()).await;

    // The admin must have one and has none yet.
    let (s, mine) = gw.get("/api/auth/totp", t).await;
    assert_eq!(s, StatusCode::OK, "{mine}");
    assert_eq!(
        mine,
        json!({"enrolled": false, "pending": false, "required": true})
    );
    // An instructor need not, but may look (the managers' route for any user is closed to them).
    let (s, theirs) = gw.get("/api/auth/totp", Some(&itoken)).await;
    assert_eq!(s, StatusCode::OK, "{theirs}");
    assert_eq!(theirs["required"], false);
    let (s, body) = gw.get(&format!("/api/users/{iid}/totp"), Some(&itoken)).await;
    assert_problem(s, &body, 403, "forbidden");
    // Starting enrollment shows as pending.
    let (s, _) = gw.post("/api/auth/totp", Some(&itoken), json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let (_, theirs) = gw.get("/api/auth/totp", Some(&itoken)).await;
    assert_eq!(theirs["pending"], true);
    assert_eq!(theirs["enrolled"], false);
    let (s, body) = gw.get("/api/auth/totp", None).await;
    assert_problem(s, &body, 401, "unauthenticated");
    gw.stop().await;
}

#[tokio::test]
async fn a_manager_clears_one_accounts_backoff_however_the_id_is_typed() {
    let gw = Gateway::start().await;
    let (_, _, token) = gw.admin_session().await;
    let t = Some(token.as_str());
    let user = gw
        .create_user(
            &token,
            json!({"given_name": "Gus", "family_name": "Guessed", "language": "en"}),
        )
        .await;
    let id = user["id"].as_str().unwrap().to_string();
    let (s, _) = gw.post(&format!("/api/users/{id}/pin"), t, json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = gw
        .post(
            "/api/auth/sign-in",
            None,
            json!({"user_id": id, "pin": "0000000000"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let held = |status: &Value| {
        status["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["user_id"] == id.as_str() && a["consecutive_failures"].as_u64() > Some(0))
    };
    let (_, status) = gw.get("/api/security/throttle", t).await;
    assert!(held(&status), "{status}");
    // Typed the way a person would: lower case, no dash.
    let typed = id.replace('-', "").to_lowercase();
    let (s, cleared) = gw
        .post(
            "/api/security/throttle/clear",
            t,
            json!({"scope": "account", "key": typed}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{cleared}");
    assert_eq!(cleared["cleared"], true);
    let (_, status) = gw.get("/api/security/throttle", t).await;
    assert!(!held(&status), "{status}");
    let (_, again) = gw
        .post(
            "/api/security/throttle/clear",
            t,
            json!({"scope": "account", "key": id}),
        )
        .await;
    assert_eq!(again["cleared"], false, "nothing left to clear");
    gw.stop().await;
}
