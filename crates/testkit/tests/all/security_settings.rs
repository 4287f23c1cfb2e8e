//! An organisation's security settings over the API: org admins only (with MFA), values within
//! bounds, changes need step-up and are audited; other tenants get 404.

use latchkey_domain::Scope;
use latchkey_domain::identity::Role;
use latchkey_domain::identity::lockout::MINUTE_MS;
use latchkey_store::repo::AuditRepo;
use latchkey_testkit::fixtures::{self, FIXTURE_PASSWORD};
use latchkey_testkit::{ApiSession, TestDb, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(security_settings_are_for_the_org_admins_and_changes_need_step_up);

async fn security_settings_are_for_the_org_admins_and_changes_need_step_up(
    db: TestDb,
) -> anyhow::Result<()> {
    let server = TestServer::start(db).await?;
    let app = &server.app;
    let a = fixtures::organisation(app, "Org A", 10).await?;
    let b = fixtures::organisation(app, "Org B", 10).await?;
    let admin_a = fixtures::admin_of(app, a, "admin-a@example.com").await?;
    let admin_b = fixtures::admin_of(app, b, "admin-b@example.com").await?;
    let member_a = fixtures::member_of(app, a, "member-a@example.com").await?;
    let no_mfa = fixtures::person(app, "nomfa-a@example.com", false).await?;
    fixtures::join(app, a, no_mfa.id, Role::OrgAdmin).await?;

    let sign_in = |p: &fixtures::Person| {
        let code = p.code(app);
        let email = p.email.clone();
        let server = &server;
        async move { ApiSession::sign_in(server, &email, FIXTURE_PASSWORD, code.as_deref()).await }
    };
    let admin_a_api = sign_in(&admin_a).await?;
    server.db.clock.advance_ms(30_000); // a TOTP code is accepted once
    let admin_b_api = sign_in(&admin_b).await?;
    let member_api = sign_in(&member_a).await?;
    let no_mfa_api = sign_in(&no_mfa).await?;
    let path = format!("/api/v1/orgs/{a}/security-settings");

    let (status, body) = admin_a_api.call(Method::GET, &path, None).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["password_min_chars"], 8);
    assert_eq!(body["lockout"]["max_consecutive_failures"], 3);
    assert_eq!(body["invitation_ttl_hours"], 72);

    for (caller, expected, code) in [
        (&ApiSession::anonymous(&server), 401, "unauthenticated"),
        (&member_api, 403, "forbidden"),
        (&no_mfa_api, 403, "mfa_enrolment_required"),
        (&admin_b_api, 404, "not_found"),
    ] {
        let (status, problem) = caller.call(Method::GET, &path, None).await?;
        assert_eq!(status.as_u16(), expected, "{problem}");
        assert_eq!(problem["code"], code);
        let (status, _) = caller.call(Method::PUT, &path, Some(body.clone())).await?;
        assert_eq!(status.as_u16(), expected);
    }

    let mut too_short = body.clone();
    too_short["password_min_chars"] = json!(7);
    let (status, problem) = admin_a_api
        .call(Method::PUT, &path, Some(too_short))
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "password_min_chars");
    let mut unknown = body.clone();
    unknown["surprise"] = json!(true);
    let (status, _) = admin_a_api.call(Method::PUT, &path, Some(unknown)).await?;
    assert_eq!(status.as_u16(), 422, "unknown fields are refused");

    let mut stricter = body.clone();
    stricter["password_min_chars"] = json!(10);
    stricter["lockout"]["max_consecutive_failures"] = json!(5);
    let (status, saved) = admin_a_api
        .call(Method::PUT, &path, Some(stricter.clone()))
        .await?;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved, stricter);
    let (_, reread) = admin_a_api.call(Method::GET, &path, None).await?;
    assert_eq!(reread, stricter);
    let mut tx = app.store.read().await?;
    let events = tx.audit_events(Scope::Tenant(a), 0, 100).await?;
    drop(tx);
    assert!(
        events
            .iter()
            .any(|e| e.action == "org_security_settings_changed"
                && e.details.contains(r#""password_min_chars":10"#))
    );

    // The new settings apply: members of A get five tries and need ten characters; members of
    // B (defaults) are locked after three.
    let member_b = fixtures::member_of(app, b, "member-b@example.com").await?;
    let anonymous = ApiSession::anonymous(&server);
    let attempt = |email: &str, password: &str| {
        let body = json!({ "email": email, "password": password });
        let anonymous = anonymous.clone();
        async move {
            anonymous
                .call(Method::POST, "/api/v1/auth/login", Some(body))
                .await
                .map(|(status, _)| status)
        }
    };
    for _ in 0..4 {
        assert_eq!(attempt(&member_a.email, "wrong-password").await?, 401);
    }
    assert_eq!(attempt(&member_a.email, FIXTURE_PASSWORD).await?, 200);
    for _ in 0..3 {
        assert_eq!(attempt(&member_b.email, "wrong-password").await?, 401);
    }
    assert_eq!(
        attempt(&member_b.email, FIXTURE_PASSWORD).await?,
        401,
        "locked after three"
    );
    let (status, problem) = member_api
        .call(
            Method::POST,
            "/api/v1/account/password",
            Some(json!({ "current_password": FIXTURE_PASSWORD, "new_password": "quartz-9x" })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap_or("").contains("10"),
        "{problem}"
    );

    // Eleven minutes after signing in, a change needs a fresh sign-in (step-up).
    server.db.clock.advance_ms(11 * MINUTE_MS);
    let (status, problem) = admin_a_api.call(Method::PUT, &path, Some(body)).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(problem["code"], "step_up_required");
    let (_, unchanged) = admin_a_api.call(Method::GET, &path, None).await?;
    assert_eq!(unchanged, stricter);
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn security_settings_page_saves_within_bounds_and_sends_stale_sign_ins_to_step_up()
-> anyhow::Result<()> {
    let server = TestServer::start(TestDb::sqlite()?).await?;
    let app = &server.app;
    let org = fixtures::organisation(app, "Org A", 10).await?;
    let admin = fixtures::admin_of(app, org, "admin-a@example.com").await?;
    let session = ApiSession::sign_in(
        &server,
        &admin.email,
        FIXTURE_PASSWORD,
        admin.code(app).as_deref(),
    )
    .await?;
    let cookie = session.cookie.clone().unwrap_or_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let url = server.url(&format!("/orgs/{org}/settings/security"));
    let page = client.get(&url).header("cookie", &cookie).send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await?;
    assert!(html.contains(r#"name="lock_minutes" required maxlength="100" value="5, 15, 60""#));
    let csrf = session.csrf.clone().unwrap_or_default();
    let form = |min: &str, csrf: &str| {
        vec![
            ("_csrf", csrf.to_owned()),
            ("password_min_chars", min.to_owned()),
            ("max_consecutive_failures", "4".to_owned()),
            ("lock_minutes", "10, 30".to_owned()),
            ("failure_window_hours", "24".to_owned()),
            ("hard_lock_after_episodes", "10".to_owned()),
            ("notify_user_on_lock", "on".to_owned()),
            ("invitation_ttl_hours", "48".to_owned()),
        ]
    };
    let forged = client
        .post(&url)
        .header("cookie", &cookie)
        .form(&form("12", "forged"))
        .send()
        .await?;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let bad = client
        .post(&url)
        .header("cookie", &cookie)
        .form(&form("<b>7</b>", &csrf))
        .send()
        .await?;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await?;
    assert!(html.contains("settings-error") && !html.contains("<b>7</b>"));
    let saved = client
        .post(&url)
        .header("cookie", &cookie)
        .form(&form("12", &csrf))
        .send()
        .await?;
    assert_eq!(saved.status(), StatusCode::OK);
    assert!(saved.text().await?.contains("settings-saved"));
    let (_, api) = session
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{org}/security-settings"),
            None,
        )
        .await?;
    assert_eq!(
        api["lockout"]["lock_durations_ms"],
        json!([600_000, 1_800_000])
    );
    assert_eq!(api["invitation_ttl_hours"], 48);

    server.db.clock.advance_ms(11 * MINUTE_MS);
    let stale = client
        .post(&url)
        .header("cookie", &cookie)
        .form(&form("13", &csrf))
        .send()
        .await?;
    assert_eq!(stale.status(), StatusCode::SEE_OTHER);
    assert!(
        stale.headers()["location"]
            .to_str()?
            .starts_with("/step-up?next=")
    );
    server.shutdown().await;
    Ok(())
}
