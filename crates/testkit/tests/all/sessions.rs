//! Sessions over HTTP: sign-in sets the cookie, `/api/v1/me` answers, CSRF guards every
//! state-changing request made with the cookie, sign-out ends the session at once.

use std::sync::Arc;

use latchkey_server::identity::accounts::NewAccount;
use latchkey_server::{Actor, App};
use latchkey_testkit::{ApiSession, TestDb, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    sign_in_sets_an_http_only_cookie_and_me_knows_the_caller,
    the_cookie_alone_cannot_change_state_and_sign_out_ends_the_session,
);

const PASSWORD: &str = "violet-harbour-lantern";

async fn server_with_alice(db: TestDb) -> anyhow::Result<TestServer> {
    let server = TestServer::start(db).await?;
    create(&server.app, "alice@example.com", "Alice Example").await?;
    Ok(server)
}

async fn create(app: &Arc<App>, email: &str, name: &str) -> anyhow::Result<()> {
    app.create_account(
        &Actor::operator_cli(),
        NewAccount {
            email,
            name,
            password: PASSWORD,
            is_operator: false,
        },
    )
    .await?;
    Ok(())
}

async fn sign_in_sets_an_http_only_cookie_and_me_knows_the_caller(
    db: TestDb,
) -> anyhow::Result<()> {
    let server = server_with_alice(db).await?;
    let response = server
        .client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": "Alice@Example.com", "password": PASSWORD }))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"].to_str()?.to_owned();
    assert!(cookie.starts_with("latchkey_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    let body: Value = response.json().await?;
    assert_eq!(body["mfa_enrolled"], false);
    assert!(
        !body
            .to_string()
            .contains(cookie.split([';', '=']).nth(1).unwrap_or("-")),
        "the session id travels only in the cookie"
    );

    let alice = ApiSession::sign_in(&server, "alice@example.com", PASSWORD, None).await?;
    let (status, me) = alice.call(Method::GET, "/api/v1/me", None).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "alice@example.com");
    assert_eq!(me["operator"], false);
    assert_eq!(me["organisations"], json!([]));
    assert_eq!(me["csrf_token"].as_str(), alice.csrf.as_deref());

    let (status, problem) = ApiSession::anonymous(&server)
        .call(Method::GET, "/api/v1/me", None)
        .await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem["code"], "unauthenticated");
    let forged = ApiSession {
        cookie: Some(format!("latchkey_session={}", "A".repeat(43))),
        ..alice.clone()
    };
    assert_eq!(forged.get("/api/v1/me").await?.status(), 401);
    let garbage = ApiSession {
        cookie: Some("latchkey_session=<script>'; DROP TABLE sessions".into()),
        ..alice.clone()
    };
    assert_eq!(garbage.get("/api/v1/me").await?.status(), 401);
    server.shutdown().await;
    Ok(())
}

async fn the_cookie_alone_cannot_change_state_and_sign_out_ends_the_session(
    db: TestDb,
) -> anyhow::Result<()> {
    let server = server_with_alice(db).await?;
    create(&server.app, "bob@example.com", "Bob Example").await?;
    let alice = ApiSession::sign_in(&server, "alice@example.com", PASSWORD, None).await?;
    let bob = ApiSession::sign_in(&server, "bob@example.com", PASSWORD, None).await?;

    let no_token = ApiSession {
        csrf: None,
        ..alice.clone()
    };
    let (status, problem) = no_token
        .call(Method::POST, "/api/v1/auth/logout", None)
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(problem["code"], "forbidden");
    let someone_elses = ApiSession {
        csrf: bob.csrf.clone(),
        ..alice.clone()
    };
    assert_eq!(
        someone_elses
            .call(Method::POST, "/api/v1/auth/logout", None)
            .await?
            .0,
        StatusCode::FORBIDDEN
    );
    let cross_site = alice
        .request(Method::POST, "/api/v1/auth/logout")
        .header("origin", "https://evil.example")
        .send()
        .await?;
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        alice.get("/api/v1/me").await?.status(),
        200,
        "still signed in"
    );

    let response = alice
        .request(Method::POST, "/api/v1/auth/logout")
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        response.headers()["set-cookie"]
            .to_str()?
            .contains("Max-Age=0")
    );
    assert_eq!(alice.get("/api/v1/me").await?.status(), 401);
    // A CSRF token of the ended session is worthless too, and Bob is unaffected.
    assert_eq!(bob.get("/api/v1/me").await?.status(), 200);
    server.shutdown().await;
    Ok(())
}
