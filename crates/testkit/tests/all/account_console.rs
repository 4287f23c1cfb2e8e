//! The account's console pages over HTTP: the account page (password change, sessions, API
//! tokens), TOTP enrolment and the sign-in challenge, forgot/reset password and the unlock link
//! page — CSRF on every signed-in form, same-origin on the others, GET pages of e-mailed links
//! spend nothing, and input is escaped.

use latchkey_domain::identity::totp::{totp_code, totp_step};
use latchkey_domain::identity::{MembershipStatus, Role, base32};
use latchkey_domain::tenancy::NewOrganisation;
use latchkey_domain::{AccountId, Clock as _, Scope};
use latchkey_server::identity::LoginRequest;
use latchkey_server::identity::accounts::NewAccount;
use latchkey_server::{Actor, App};
use latchkey_store::repo::{MailRepo, Membership, MembershipRepo};
use latchkey_testkit::{ApiSession, TestDb, TestServer};
use reqwest::StatusCode;

on_both_backends!(account_page_changes_the_password_ends_sessions_and_manages_tokens);

const PASSWORD: &str = "violet-harbour-lantern";
const EMAIL: &str = "alice@example.com";

fn no_redirects() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

async fn start(db: TestDb) -> anyhow::Result<TestServer> {
    Ok(start_with_id(db).await?.0)
}

async fn start_with_id(db: TestDb) -> anyhow::Result<(TestServer, AccountId)> {
    let server =
        TestServer::start_with(db, |config| config.mail.poll_interval_secs = 86_400).await?;
    let id = server
        .app
        .create_account(
            &Actor::operator_cli(),
            NewAccount {
                email: EMAIL,
                name: "Alice Example",
                password: PASSWORD,
                is_operator: false,
            },
        )
        .await?;
    Ok((server, id))
}

fn first_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

async fn form_sign_in(
    client: &reqwest::Client,
    server: &TestServer,
    password: &str,
    totp: &str,
) -> anyhow::Result<reqwest::Response> {
    Ok(client
        .post(server.url("/sign-in"))
        .form(&[
            ("email", EMAIL),
            ("password", password),
            ("totp", totp),
            ("next", "/account"),
        ])
        .send()
        .await?)
}

async fn page(
    client: &reqwest::Client,
    server: &TestServer,
    cookie: &str,
    path: &str,
) -> anyhow::Result<(StatusCode, String)> {
    let response = client
        .get(server.url(path))
        .header("cookie", cookie)
        .send()
        .await?;
    Ok((response.status(), response.text().await?))
}

fn csrf_of(html: &str) -> String {
    html.split(r#"name="_csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field")
        .to_owned()
}

async fn post_form(
    client: &reqwest::Client,
    server: &TestServer,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> anyhow::Result<reqwest::Response> {
    Ok(client
        .post(server.url(path))
        .header("cookie", cookie)
        .form(fields)
        .send()
        .await?)
}

async fn join_org(app: &App, account: AccountId) -> anyhow::Result<String> {
    let org = app
        .create_organisation(
            &Actor::operator_cli(),
            NewOrganisation::parse("Acme <Doors>", "ops@acme.example", 10)?,
        )
        .await?;
    let mut tx = app.store.write().await?;
    tx.insert_membership(&Membership {
        org_id: org.id,
        account_id: account,
        role: Role::Member,
        status: MembershipStatus::Active,
        created_at_ms: app.clock.now_ms(),
        version: 1,
        expires_at_ms: None,
    })
    .await?;
    tx.commit().await?;
    Ok(org.id.to_string())
}

async fn account_page_changes_the_password_ends_sessions_and_manages_tokens(
    db: TestDb,
) -> anyhow::Result<()> {
    let (server, id) = start_with_id(db).await?;
    let org = join_org(&server.app, id).await?;
    let client = no_redirects()?;
    let response = client.get(server.url("/account")).send().await?;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign in first");

    let signed_in = form_sign_in(&client, &server, PASSWORD, "").await?;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let cookie = first_cookie(&signed_in).expect("session cookie");
    let other = ApiSession::sign_in(&server, EMAIL, PASSWORD, None).await?;
    let (status, html) = page(&client, &server, &cookie, "/account").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(EMAIL));
    assert!(
        html.contains("Acme &lt;Doors&gt;") || html.contains("Acme &#60;Doors"),
        "escaped"
    );
    let csrf = csrf_of(&html);

    // Sessions: end the other one; a forged form token is refused.
    let other_id = html
        .split(r#"action="/account/sessions/"#)
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("an end-session form")
        .to_owned();
    let refused = post_form(
        &client,
        &server,
        &cookie,
        &format!("/account/sessions/{other_id}/end"),
        &[("_csrf", &"A".repeat(43))],
    )
    .await?;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(other.get("/api/v1/me").await?.status(), 200);
    let ended = post_form(
        &client,
        &server,
        &cookie,
        &format!("/account/sessions/{other_id}/end"),
        &[("_csrf", &csrf)],
    )
    .await?;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    assert_eq!(other.get("/api/v1/me").await?.status(), 401);
    let (_, html) = page(&client, &server, &cookie, "/account?done=session").await?;
    assert!(html.contains("account-notice"));

    // API tokens: created (shown once), usable, revoked.
    let created = post_form(
        &client,
        &server,
        &cookie,
        "/account/api-tokens",
        &[
            ("_csrf", &csrf),
            ("org_id", &org),
            ("name", "<b>Sync</b>"),
            ("scope", "read"),
            ("expires_in_days", "30"),
        ],
    )
    .await?;
    assert_eq!(created.status(), StatusCode::CREATED);
    let html = created.text().await?;
    assert!(!html.contains("<b>Sync</b>"), "escaped");
    let token = html
        .split(r#"<code id="new-token">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("token shown")
        .to_owned();
    let bearer = ApiSession::with_token(&server, &token);
    assert_eq!(
        bearer
            .get(&format!("/api/v1/orgs/{org}/api-tokens"))
            .await?
            .status(),
        200
    );
    let (_, html) = page(&client, &server, &cookie, "/account").await?;
    assert!(!html.contains(&token), "shown only once");
    let bad_days = post_form(
        &client,
        &server,
        &cookie,
        "/account/api-tokens",
        &[
            ("_csrf", &csrf),
            ("org_id", &org),
            ("name", "x"),
            ("scope", "read"),
            ("expires_in_days", "999"),
        ],
    )
    .await?;
    assert_eq!(bad_days.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let revoke_path = html
        .split(r#"action="/account/api-tokens/"#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|rest| format!("/account/api-tokens/{rest}"))
        .expect("a revoke form");
    let revoked = post_form(&client, &server, &cookie, &revoke_path, &[("_csrf", &csrf)]).await?;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        bearer
            .get(&format!("/api/v1/orgs/{org}/api-tokens"))
            .await?
            .status(),
        401
    );

    // Password change: a wrong current password re-renders with the reason; the right one
    // rotates the session.
    let wrong = post_form(
        &client,
        &server,
        &cookie,
        "/account/password",
        &[
            ("_csrf", &csrf),
            ("current_password", "not-my-password"),
            ("new_password", "the-next-passphrase"),
        ],
    )
    .await?;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.text().await?.contains("account-error"));
    let changed = post_form(
        &client,
        &server,
        &cookie,
        "/account/password",
        &[
            ("_csrf", &csrf),
            ("current_password", PASSWORD),
            ("new_password", "the-next-passphrase"),
        ],
    )
    .await?;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(changed.headers()["location"], "/account?done=password");
    let rotated = first_cookie(&changed).expect("new session cookie");
    assert_ne!(rotated, cookie);
    assert_eq!(
        page(&client, &server, &cookie, "/account").await?.0,
        StatusCode::SEE_OTHER,
        "old session ended"
    );
    let (status, html) = page(&client, &server, &rotated, "/account?done=password").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("account-notice"));
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn mfa_pages_enrol_show_recovery_codes_once_and_sign_in_asks_for_the_code()
-> anyhow::Result<()> {
    let server = start(TestDb::sqlite()?).await?;
    let client = no_redirects()?;
    let cookie =
        first_cookie(&form_sign_in(&client, &server, PASSWORD, "").await?).expect("cookie");
    let (status, html) = page(&client, &server, &cookie, "/account/mfa").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("mfa-start"));
    let csrf = csrf_of(&html);
    let started = post_form(
        &client,
        &server,
        &cookie,
        "/account/mfa/start",
        &[("_csrf", &csrf)],
    )
    .await?;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let (_, html) = page(&client, &server, &cookie, "/account/mfa").await?;
    let secret_text = html
        .split(r#"<code id="totp-secret">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("secret shown")
        .to_owned();
    assert!(html.contains("otpauth://totp/Latchkey:"));
    let secret = base32::decode(&secret_text).expect("base32");
    let wrong = post_form(
        &client,
        &server,
        &cookie,
        "/account/mfa/confirm",
        &[("_csrf", &csrf), ("code", "000000x")],
    )
    .await?;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.text().await?.contains("totp-secret"),
        "the same set-up stays on screen"
    );
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    let confirmed = post_form(
        &client,
        &server,
        &cookie,
        "/account/mfa/confirm",
        &[("_csrf", &csrf), ("code", &code)],
    )
    .await?;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let html = confirmed.text().await?;
    assert_eq!(html.matches("<li><code>").count(), 10, "ten recovery codes");
    let (_, html) = page(&client, &server, &cookie, "/account/mfa").await?;
    assert!(!html.contains("recovery-codes"), "shown once");
    assert!(html.contains("mfa-remove"));
    let (_, html) = page(&client, &server, &cookie, "/account/mfa?lang=ja").await?;
    assert!(html.contains("2 段階認証は有効です"), "Japanese");

    // The sign-in form's challenge: the code is needed now.
    let refused = form_sign_in(&client, &server, PASSWORD, "").await?;
    assert_eq!(
        refused.status(),
        StatusCode::OK,
        "the form page again, not a redirect"
    );
    assert!(refused.text().await?.contains("sign-in-error"));
    server.db.clock.advance_ms(30_000);
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    assert_eq!(
        form_sign_in(&client, &server, PASSWORD, &code)
            .await?
            .status(),
        StatusCode::SEE_OTHER
    );

    // Removal re-authenticates in the same form.
    let bad = post_form(
        &client,
        &server,
        &cookie,
        "/account/mfa/remove",
        &[
            ("_csrf", &csrf),
            ("password", "wrong-password-1"),
            ("totp", ""),
        ],
    )
    .await?;
    assert_eq!(bad.status(), StatusCode::OK);
    assert!(bad.text().await?.contains("mfa-error"));
    server.db.clock.advance_ms(30_000);
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    let removed = post_form(
        &client,
        &server,
        &cookie,
        "/account/mfa/remove",
        &[("_csrf", &csrf), ("password", PASSWORD), ("totp", &code)],
    )
    .await?;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert_eq!(removed.headers()["location"], "/account?done=mfa_removed");
    assert_eq!(
        form_sign_in(&client, &server, PASSWORD, "").await?.status(),
        StatusCode::SEE_OTHER
    );
    server.shutdown().await;
    Ok(())
}

async fn token_in_mail(app: &App, kind: &str, marker: &str) -> anyhow::Result<String> {
    // As the mail worker does first: stored forgotten-password requests become reset mails.
    app.resolve_reset_requests().await?;
    let mut tx = app.store.read().await?;
    let mails = tx.due_mail(Scope::Platform, i64::MAX / 2, 1_000).await?;
    let body = mails
        .iter()
        .rev()
        .find(|q| q.mail.kind == kind)
        .map(|q| q.mail.body.clone())
        .ok_or_else(|| anyhow::anyhow!("no {kind} mail"))?;
    let start = body
        .find(marker)
        .ok_or_else(|| anyhow::anyhow!("no link"))?
        + marker.len();
    Ok(body.get(start..start + 43).unwrap_or_default().to_owned())
}

#[tokio::test]
async fn forgot_reset_and_unlock_pages_spend_links_only_on_post() -> anyhow::Result<()> {
    let server = start(TestDb::sqlite()?).await?;
    let client = no_redirects()?;
    let (status, html) = page(&client, &server, "", "/forgot-password").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"action="/forgot-password""#));
    let mut answers = Vec::new();
    for email in [EMAIL, "nobody@example.com"] {
        let response = client
            .post(server.url("/forgot-password"))
            .form(&[("email", email)])
            .send()
            .await?;
        answers.push((response.status(), response.text().await?));
    }
    assert_eq!(answers[0].0, StatusCode::OK);
    assert_eq!(
        answers[0], answers[1],
        "same page whether or not the account exists"
    );
    let hostile = client
        .post(server.url("/forgot-password"))
        .form(&[("email", "\"><script>x</script>")])
        .send()
        .await?;
    assert_eq!(hostile.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!hostile.text().await?.contains("<script>x</script>"));
    let cross = client
        .post(server.url("/forgot-password"))
        .header("origin", "https://evil.example")
        .form(&[("email", EMAIL)])
        .send()
        .await?;
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);

    let token = token_in_mail(&server.app, "password_reset", "/reset-password/").await?;
    for _ in 0..2 {
        let (status, html) =
            page(&client, &server, "", &format!("/reset-password/{token}")).await?;
        assert_eq!(status, StatusCode::OK, "GET spends nothing");
        assert!(!html.contains(r#"name="totp""#), "no MFA, no code field");
    }
    let weak = client
        .post(server.url(&format!("/reset-password/{token}")))
        .form(&[("password", "password")])
        .send()
        .await?;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.text().await?.contains("reset-error"));
    let done = client
        .post(server.url(&format!("/reset-password/{token}")))
        .form(&[("password", "a-fresh-passphrase")])
        .send()
        .await?;
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(
        page(&client, &server, "", &format!("/reset-password/{token}"))
            .await?
            .0,
        StatusCode::NOT_FOUND
    );

    // Unlock link page: GET confirms, POST spends.
    for _ in 0..3 {
        let _ = server
            .app
            .login(LoginRequest {
                email: EMAIL,
                password: "wrong-password-1",
                ..LoginRequest::default()
            })
            .await;
    }
    let token = token_in_mail(&server.app, "account_locked", "/unlock/").await?;
    for _ in 0..2 {
        let (status, html) = page(&client, &server, "", &format!("/unlock/{token}")).await?;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("unlock-submit"));
    }
    let cross = client
        .post(server.url(&format!("/unlock/{token}")))
        .header("origin", "https://evil.example")
        .send()
        .await?;
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let unlocked = client
        .post(server.url(&format!("/unlock/{token}")))
        .send()
        .await?;
    assert_eq!(unlocked.status(), StatusCode::OK);
    assert_eq!(
        client
            .post(server.url(&format!("/unlock/{token}")))
            .send()
            .await?
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        form_sign_in(&client, &server, "a-fresh-passphrase", "")
            .await?
            .status(),
        StatusCode::SEE_OTHER
    );
    server.shutdown().await;
    Ok(())
}

/// Finds an element, waiting for the page that has it (a click's navigation may still be on
/// its way, more so on a busy machine).
async fn wait_for(
    c: &fantoccini::Client,
    locator: fantoccini::Locator<'_>,
) -> anyhow::Result<fantoccini::elements::Element> {
    Ok(c.wait()
        .at_most(std::time::Duration::from_secs(20))
        .for_element(locator)
        .await?)
}

async fn browser_sign_in(
    c: &fantoccini::Client,
    server: &TestServer,
    totp: &str,
) -> anyhow::Result<()> {
    use fantoccini::Locator;
    c.goto(&server.url("/sign-in?next=/account")).await?;
    c.find(Locator::Id("email")).await?.send_keys(EMAIL).await?;
    c.find(Locator::Id("password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    if !totp.is_empty() {
        c.find(Locator::Id("totp")).await?.send_keys(totp).await?;
    }
    c.find(Locator::Id("sign-in-submit")).await?.click().await?;
    Ok(())
}

/// Waits for the account page (the sign-in redirected there); fails with the page's text if not.
async fn signed_in(c: &fantoccini::Client) -> anyhow::Result<()> {
    use std::time::Duration;
    let found = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(fantoccini::Locator::Id("account-email"))
        .await;
    if found.is_err() {
        let text = c
            .find(fantoccini::Locator::Css("main"))
            .await?
            .text()
            .await?;
        anyhow::bail!(
            "not on the account page at {}: {text}",
            c.current_url().await?
        );
    }
    Ok(())
}

/// In real Chromium: sign in, enrol TOTP from the page (secret read off the screen), see the
/// recovery codes once, sign in again with a code; then an attacker elsewhere locks the account
/// and this browser — holding its device cookie — still signs in (T10 seen from the browser).
#[tokio::test]
async fn browser_enrols_totp_and_keeps_its_device_lane_through_a_lock() -> anyhow::Result<()> {
    use fantoccini::Locator;
    let Some(browser) = latchkey_testkit::Browser::start().await? else {
        return Ok(());
    };
    let server = start(TestDb::sqlite()?).await?;
    let c = &browser.client;
    browser_sign_in(c, &server, "").await?;
    signed_in(c).await?;
    wait_for(c, Locator::Id("mfa-link")).await?.click().await?;
    wait_for(c, Locator::Id("mfa-start")).await?.click().await?;
    let secret_text = wait_for(c, Locator::Id("totp-secret"))
        .await?
        .text()
        .await?;
    let secret = base32::decode(secret_text.trim()).expect("base32 on screen");
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    wait_for(c, Locator::Id("code"))
        .await?
        .send_keys(&code)
        .await?;
    wait_for(c, Locator::Id("mfa-confirm"))
        .await?
        .click()
        .await?;
    wait_for(c, Locator::Id("recovery-codes")).await?;
    let codes = c.find_all(Locator::Css("#recovery-codes code")).await?;
    assert_eq!(codes.len(), 10);
    wait_for(c, Locator::Id("sign-out")).await?.click().await?;
    wait_for(c, Locator::Id("sign-in-submit")).await?;

    server.db.clock.advance_ms(30_000);
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    browser_sign_in(c, &server, &code).await?;
    // Signed in with the code: wait for the account page rather than reading the URL at once
    // (the click returns before the navigation ends).
    signed_in(c).await?;
    let status = wait_for(c, Locator::Id("mfa-status")).await?.text().await?;
    assert!(!status.is_empty());
    wait_for(c, Locator::Id("sign-out")).await?.click().await?;
    wait_for(c, Locator::Id("sign-in-submit")).await?;

    // Someone else locks the account (no device cookie).
    for _ in 0..3 {
        let _ = server
            .app
            .login(LoginRequest {
                email: EMAIL,
                password: "wrong-password-1",
                source_ip: Some("203.0.113.9".into()),
                ..LoginRequest::default()
            })
            .await;
    }
    server.db.clock.advance_ms(30_000);
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    let stranger = server
        .client
        .post(server.url("/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": EMAIL, "password": PASSWORD, "totp": code }))
        .send()
        .await?;
    assert_eq!(
        stranger.status(),
        StatusCode::UNAUTHORIZED,
        "locked for strangers"
    );
    browser_sign_in(c, &server, &code).await?;
    // This browser's device lane is not locked.
    signed_in(c).await?;
    let errors = browser.console_errors().await?;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await?;
    server.shutdown().await;
    Ok(())
}
