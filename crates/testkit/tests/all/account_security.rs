//! The account's own security over the service and the HTTP API: per-IP throttle (T12), lock
//! e-mails and the unlock link (T5, T13), escalation (T4), the device lane (T10), the MFA counter
//! (T15), one counter for every entry point (T9), what a lock leaves alone (T11), password reset
//! and change, TOTP enrolment with recovery codes, step-up, sessions and API tokens, operator
//! setup ending with TOTP, and bad input. Time moves on the injected clock.

use std::sync::Arc;

use latchkey_domain::identity::lockout::{LockoutState, MINUTE_MS};
use latchkey_domain::identity::totp::{totp_code, totp_step};
use latchkey_domain::identity::{MembershipStatus, Role, base32};
use latchkey_domain::tenancy::NewOrganisation;
use latchkey_domain::{AccountId, Clock as _, ErrorCode, OrgId, Scope};
use latchkey_server::identity::accounts::NewAccount;
use latchkey_server::identity::reset::RESET_REQUEST_KIND;
use latchkey_server::identity::{LoginError, LoginRequest};
use latchkey_server::{Actor, App};
use latchkey_store::repo::{AccountRepo, AuditRepo, MailRepo, Membership, MembershipRepo, NewMail};
use latchkey_testkit::{ApiSession, TestDb, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    t4_lock_durations_escalate_and_a_quiet_day_starts_again_at_five_minutes,
    t5_hard_lock_after_ten_episodes_and_the_unlock_link_works_once,
    t10_device_cookie_lane_keeps_the_owner_in_and_locks_only_that_device,
    t12_eleventh_failure_per_minute_from_one_ip_is_throttled,
    forgot_password_requests_count_against_the_per_ip_throttle,
    t13_one_lock_mail_per_episode_at_most_five_a_day_none_for_unknown,
    reset_by_mail_needs_the_code_clears_the_lock_and_ends_every_session,
    totp_enrolment_recovery_codes_step_up_and_removal,
    api_tokens_are_scoped_expiring_revocable_and_survive_a_lock,
);

const PASSWORD: &str = "violet-harbour-lantern";
const EMAIL: &str = "alice@example.com";

async fn create(app: &App, email: &str) -> anyhow::Result<AccountId> {
    Ok(app
        .create_account(
            &Actor::operator_cli(),
            NewAccount {
                email,
                name: "Alice Example",
                password: PASSWORD,
                is_operator: false,
            },
        )
        .await?)
}

async fn service_app(db: &TestDb) -> anyhow::Result<(App, AccountId)> {
    let app = App::new(db.open().await?, Arc::new(db.clock.clone()));
    let id = create(&app, EMAIL).await?;
    Ok((app, id))
}

/// A server whose mail worker never runs after start-up, so queued mail can be read back.
async fn server(db: TestDb) -> anyhow::Result<(TestServer, AccountId)> {
    let server =
        TestServer::start_with(db, |config| config.mail.poll_interval_secs = 86_400).await?;
    let id = create(&server.app, EMAIL).await?;
    Ok((server, id))
}

/// A service-level attempt with no client address (in-process callers are not throttled).
fn attempt<'a>(password: &'a str) -> LoginRequest<'a> {
    LoginRequest {
        email: EMAIL,
        password,
        ..LoginRequest::default()
    }
}

async fn login(app: &App, request: LoginRequest<'_>) -> Result<(), &'static str> {
    match app.login(request).await {
        Ok(_) => Ok(()),
        Err(LoginError::InvalidCredentials) => Err("invalid"),
        Err(LoginError::Throttled { .. }) => Err("throttled"),
        Err(LoginError::Service(e)) => panic!("unexpected error: {e}"),
    }
}

/// Three wrong passwords: one lock episode.
async fn lock_once(app: &App) {
    for _ in 0..3 {
        assert_eq!(
            login(app, attempt("wrong-password-1")).await,
            Err("invalid")
        );
    }
}

/// The mail of `kind` waiting to be sent, once the mail worker's first step has run (it turns
/// stored forgotten-password requests into reset mails).
async fn queued_mail(app: &App, kind: &str) -> anyhow::Result<Vec<NewMail>> {
    app.resolve_reset_requests().await?;
    pending_mail(app, kind).await
}

/// The outbox rows of `kind` still pending, as they are.
async fn pending_mail(app: &App, kind: &str) -> anyhow::Result<Vec<NewMail>> {
    let mut tx = app.store.read().await?;
    Ok(tx
        .due_mail(Scope::Platform, i64::MAX / 2, 1_000)
        .await?
        .into_iter()
        .map(|q| q.mail)
        .filter(|m| m.kind == kind)
        .collect())
}

/// The 43-character token after `marker` in a mail body.
fn token_after(body: &str, marker: &str) -> Option<String> {
    let start = body.find(marker)? + marker.len();
    body.get(start..start + 43).map(str::to_owned)
}

async fn audit_actions(app: &App) -> anyhow::Result<Vec<String>> {
    let mut tx = app.store.read().await?;
    Ok(tx
        .audit_events(Scope::Platform, 0, 10_000)
        .await?
        .into_iter()
        .map(|e| e.action)
        .collect())
}

async fn lockout_of(app: &App, id: AccountId) -> anyhow::Result<LockoutState> {
    let mut tx = app.store.read().await?;
    Ok(tx
        .account(id)
        .await?
        .map(|a| a.password_lockout)
        .unwrap_or_default())
}

fn anonymous_post(server: &TestServer, path: &str) -> reqwest::RequestBuilder {
    server.client.post(server.url(path))
}

/// T12
async fn t12_eleventh_failure_per_minute_from_one_ip_is_throttled(
    db: TestDb,
) -> anyhow::Result<()> {
    let (server, _) = server(db).await?;
    let wrong = json!({ "email": "nobody@example.com", "password": "wrong-password-1" });
    for i in 0..10 {
        let response = anonymous_post(&server, "/api/v1/auth/login")
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .json(&wrong)
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // A spoofed X-Forwarded-For does not change the key: the peer is still 127.0.0.1.
    let response = anonymous_post(&server, "/api/v1/auth/login")
        .header("x-forwarded-for", "198.51.100.77")
        .json(&json!({ "email": EMAIL, "password": PASSWORD }))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"].to_str()?.parse()?;
    assert!((1..=60).contains(&retry), "{retry}");
    let problem: Value = response.json().await?;
    assert_eq!(problem["code"], "rate_limited");
    let hashes = server.app.hasher.real_verifications();

    // Another address is unaffected (same code path, a different peer).
    let other = LoginRequest {
        source_ip: Some("192.0.2.44".into()),
        ..attempt(PASSWORD)
    };
    assert_eq!(login(&server.app, other).await, Ok(()));
    assert_eq!(server.app.hasher.real_verifications(), hashes + 1);
    // The throttle is shared with step-up, reset and unlock, and runs before hashing.
    let (status, _) = ApiSession::anonymous(&server)
        .call(
            Method::POST,
            "/api/v1/auth/unlock",
            Some(json!({ "token": "A".repeat(43) })),
        )
        .await?;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // Always expiring.
    server.db.clock.advance_ms(MINUTE_MS);
    let response = anonymous_post(&server, "/api/v1/auth/login")
        .json(&json!({ "email": EMAIL, "password": PASSWORD }))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    server.shutdown().await;
    Ok(())
}

/// Forgotten-password requests spend the same per-address budget as failed sign-ins: the
/// eleventh in a minute is answered 429 whatever the address, and nothing is stored for it.
async fn forgot_password_requests_count_against_the_per_ip_throttle(
    db: TestDb,
) -> anyhow::Result<()> {
    let (server, _) = server(db).await?;
    let forgot = |email: &str| {
        anonymous_post(&server, "/api/v1/auth/forgot").json(&json!({ "email": email }))
    };
    for i in 0..10 {
        let email = if i % 2 == 0 {
            EMAIL
        } else {
            "nobody@example.com"
        };
        let response = forgot(email).send().await?;
        assert_eq!(response.status(), StatusCode::ACCEPTED, "request {i}");
    }
    let mut answers = Vec::new();
    for email in [EMAIL, "nobody@example.com"] {
        let response = forgot(email).send().await?;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry: u64 = response.headers()["retry-after"].to_str()?.parse()?;
        assert!((1..=60).contains(&retry), "{retry}");
        let mut problem: Value = response.json().await?;
        problem["request_id"] = Value::Null;
        answers.push(problem);
    }
    assert_eq!(answers[0], answers[1], "the same answer for every address");
    assert_eq!(answers[0]["code"], "rate_limited");
    assert_eq!(
        pending_mail(&server.app, RESET_REQUEST_KIND).await?.len(),
        10
    );
    // The budget is shared: sign-in from this address waits too.
    let login = anonymous_post(&server, "/api/v1/auth/login")
        .json(&json!({ "email": EMAIL, "password": PASSWORD }))
        .send()
        .await?;
    assert_eq!(login.status(), StatusCode::TOO_MANY_REQUESTS);
    // And it always expires.
    server.db.clock.advance_ms(MINUTE_MS);
    assert_eq!(forgot(EMAIL).send().await?.status(), StatusCode::ACCEPTED);
    server.shutdown().await;
    Ok(())
}

/// T13
async fn t13_one_lock_mail_per_episode_at_most_five_a_day_none_for_unknown(
    db: TestDb,
) -> anyhow::Result<()> {
    let (app, _) = service_app(&db).await?;
    for _ in 0..3 {
        let unknown = LoginRequest {
            email: "nobody@example.com",
            ..attempt("wrong-password-1")
        };
        assert_eq!(login(&app, unknown).await, Err("invalid"));
    }
    assert!(
        queued_mail(&app, "account_locked").await?.is_empty(),
        "none for unknown identifiers"
    );

    for _ in 0..3 {
        let from_somewhere = LoginRequest {
            source_ip: Some("198.51.100.23".into()),
            ..attempt("wrong-password-1")
        };
        assert_eq!(login(&app, from_somewhere).await, Err("invalid"));
    }
    let mails = queued_mail(&app, "account_locked").await?;
    assert_eq!(mails.len(), 1, "one mail for the episode");
    assert!(
        mails[0].body.contains("198.51.100.23"),
        "names the address of the attempt"
    );
    let mail = &mails[0];
    assert_eq!(mail.to, EMAIL);
    assert!(!mail.body.contains("wrong-password-1") && !mail.body.contains(PASSWORD));
    let unlock = token_after(&mail.body, "/unlock/").expect("unlock link");
    assert!(
        mail.body.contains("/forgot-password"),
        "the wasn't-me pointer"
    );
    // The only secret in the mail is the unlock link: nothing else token-shaped.
    let token_like = mail
        .body
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|w| w.len() >= 20)
        .collect::<Vec<_>>();
    assert_eq!(token_like, vec![unlock.as_str()]);

    // Attempts while locked are not a new episode: no second mail.
    for _ in 0..3 {
        assert_eq!(login(&app, attempt(PASSWORD)).await, Err("invalid"));
    }
    assert_eq!(queued_mail(&app, "account_locked").await?.len(), 1);

    // Five more episodes within the day: temporary-lock mails stop at four (the fifth slot is
    // kept for a hard lock).
    for _ in 0..5 {
        db.clock.advance_ms(61 * MINUTE_MS);
        lock_once(&app).await;
    }
    assert_eq!(queued_mail(&app, "account_locked").await?.len(), 4);
    let locks = audit_actions(&app)
        .await?
        .iter()
        .filter(|a| *a == "authn_login_lock")
        .count();
    assert_eq!(locks, 6, "every episode is audited even when not mailed");
    Ok(())
}

/// T5 (and T4 at server level: 5, 15, 60, 60 min)
async fn t5_hard_lock_after_ten_episodes_and_the_unlock_link_works_once(
    db: TestDb,
) -> anyhow::Result<()> {
    let (server, id) = server(db).await?;
    let app = &server.app;
    let expected_minutes = [5, 15, 60, 60, 60, 60, 60, 60, 60];
    for (episode, minutes) in expected_minutes.iter().enumerate() {
        lock_once(app).await;
        let state = lockout_of(app, id).await?;
        let now = server.db.clock.now_ms();
        assert_eq!(
            state.locked_until_ms.map(|u| u - now),
            Some(minutes * MINUTE_MS),
            "episode {}",
            episode + 1
        );
        server.db.clock.advance_ms(minutes * MINUTE_MS);
    }
    lock_once(app).await;
    let state = lockout_of(app, id).await?;
    assert!(state.hard_locked, "10th episode: hard lock");
    server.db.clock.advance_ms(6 * 60 * MINUTE_MS);
    assert_eq!(
        login(app, attempt(PASSWORD)).await,
        Err("invalid"),
        "hard lock does not expire"
    );

    let mails = queued_mail(app, "account_locked").await?;
    assert_eq!(
        mails.len(),
        5,
        "four temporary-lock mails and the hard-lock one"
    );
    let last = mails.last().expect("hard-lock mail");
    let token = token_after(&last.body, "/unlock/").expect("unlock link");
    let older = token_after(&mails[0].body, "/unlock/").expect("older link");

    let anon = ApiSession::anonymous(&server);
    // The console page renders without spending the link (mail scanners prefetch links).
    let page = server
        .client
        .get(server.url(&format!("/unlock/{token}")))
        .send()
        .await?;
    assert!(page.status().is_success() || page.status() == StatusCode::NOT_FOUND);
    let mut tampered = token.clone();
    tampered.replace_range(0..1, if token.starts_with('A') { "B" } else { "A" });
    for bad in [older.as_str(), tampered.as_str(), "short", "x\0y"] {
        let (status, problem) = anon
            .call(
                Method::POST,
                "/api/v1/auth/unlock",
                Some(json!({ "token": bad })),
            )
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad:?}");
        assert_eq!(problem["detail"], "invalid or expired link");
    }
    let (status, _) = anon
        .call(
            Method::POST,
            "/api/v1/auth/unlock",
            Some(json!({ "token": token })),
        )
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, problem) = anon
        .call(
            Method::POST,
            "/api/v1/auth/unlock",
            Some(json!({ "token": token })),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "single use");
    assert_eq!(problem["detail"], "invalid or expired link");
    assert_eq!(lockout_of(app, id).await?, LockoutState::default());
    assert!(
        audit_actions(app)
            .await?
            .contains(&"authn_login_unlock".to_owned())
    );

    // After unlock the password is still required.
    let wrong = anonymous_post(&server, "/api/v1/auth/login")
        .json(&json!({ "email": EMAIL, "password": "wrong-password-1" }))
        .send()
        .await?;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    ApiSession::sign_in(&server, EMAIL, PASSWORD, None).await?;

    // An unlock link expires after 24 h (a day later, so the day's mail cap is not in the way).
    server.db.clock.advance_ms(24 * 60 * MINUTE_MS);
    lock_once(app).await;
    let mails = queued_mail(app, "account_locked").await?;
    let latest = token_after(&mails.last().expect("mail").body, "/unlock/").expect("link");
    server.db.clock.advance_ms(24 * 60 * MINUTE_MS + 1);
    let (status, _) = anon
        .call(
            Method::POST,
            "/api/v1/auth/unlock",
            Some(json!({ "token": latest })),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "expired");
    server.shutdown().await;
    Ok(())
}

/// The device cookie a sign-in response sets.
fn device_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("latchkey_device="))
        .map(str::to_owned)
}

async fn browser_login(
    server: &TestServer,
    device: Option<&str>,
    password: &str,
) -> anyhow::Result<reqwest::Response> {
    let mut request = anonymous_post(server, "/api/v1/auth/login")
        .json(&json!({ "email": EMAIL, "password": password }));
    if let Some(device) = device {
        request = request.header("cookie", device);
    }
    Ok(request.send().await?)
}

/// T10
async fn t10_device_cookie_lane_keeps_the_owner_in_and_locks_only_that_device(
    db: TestDb,
) -> anyhow::Result<()> {
    let (server, id) = server(db).await?;
    // The owner signed in before from two browsers.
    let first = browser_login(&server, None, PASSWORD).await?;
    assert_eq!(first.status(), StatusCode::OK);
    let set_cookie = device_cookie(&first).expect("device cookie set");
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Lax")
            && set_cookie.contains("Max-Age="),
        "{set_cookie}"
    );
    let laptop = set_cookie.split(';').next().expect("pair").to_owned();
    assert_eq!(laptop.len(), "latchkey_device=".len() + 43, "256-bit token");
    let phone_response = browser_login(&server, None, PASSWORD).await?;
    let phone = device_cookie(&phone_response)
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .expect("second device");
    // A browser with a valid cookie is not given a new one.
    let again = browser_login(&server, Some(&laptop), PASSWORD).await?;
    assert_eq!(again.status(), StatusCode::OK);
    assert!(device_cookie(&again).is_none());

    // The attacker (no cookie) locks the account's untrusted lane.
    for _ in 0..3 {
        assert_eq!(
            browser_login(&server, None, "wrong-password-1")
                .await?
                .status(),
            401
        );
    }
    assert_eq!(
        browser_login(&server, None, PASSWORD).await?.status(),
        401,
        "locked for strangers"
    );
    // A forged device cookie is a stranger too.
    let forged = format!("latchkey_device={}", "Q".repeat(43));
    assert_eq!(
        browser_login(&server, Some(&forged), PASSWORD)
            .await?
            .status(),
        401
    );
    // The owner's browser still gets in.
    assert_eq!(
        browser_login(&server, Some(&laptop), PASSWORD)
            .await?
            .status(),
        200
    );

    // Three wrong attempts from the laptop lock only the laptop.
    for _ in 0..3 {
        assert_eq!(
            browser_login(&server, Some(&laptop), "wrong-password-1")
                .await?
                .status(),
            401
        );
    }
    assert_eq!(
        browser_login(&server, Some(&laptop), PASSWORD)
            .await?
            .status(),
        401
    );
    assert_eq!(
        browser_login(&server, Some(&phone), PASSWORD)
            .await?
            .status(),
        200
    );
    let locks = audit_actions(&server.app)
        .await?
        .iter()
        .filter(|a| *a == "authn_login_lock")
        .count();
    assert_eq!(locks, 2, "one episode per lane");

    // T6 on the device lane: parallel wrong attempts → one episode, at most 3 verifications.
    server.db.clock.advance_ms(6 * MINUTE_MS);
    let token = phone.trim_start_matches("latchkey_device=").to_owned();
    let before = server.app.hasher.real_verifications();
    let attempts = (0..20).map(|_| {
        let app = server.app.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let request = LoginRequest {
                device_token: Some(&token),
                ..attempt("wrong-password-2")
            };
            app.login(request).await.is_err()
        })
    });
    for attempt in attempts {
        assert!(attempt.await?);
    }
    assert!(server.app.hasher.real_verifications() - before <= 3);
    let locks = audit_actions(&server.app)
        .await?
        .iter()
        .filter(|a| *a == "authn_login_lock")
        .count();
    assert_eq!(locks, 3, "the phone's lane locked exactly once");
    let _ = id;
    server.shutdown().await;
    Ok(())
}

/// T9: the console form and the API call the same `App::login`, so they share one counter.
#[tokio::test]
async fn t9_console_and_api_failures_share_one_counter() -> anyhow::Result<()> {
    let db = TestDb::sqlite()?;
    let (server, id) = server(db).await?;
    // Two failures the way the console form submits them (App::login, peer address attached).
    for _ in 0..2 {
        let request = LoginRequest {
            source_ip: Some("127.0.0.1".into()),
            ..attempt("wrong-password-1")
        };
        assert_eq!(login(&server.app, request).await, Err("invalid"));
    }
    assert!(lockout_of(&server.app, id).await?.locked_until_ms.is_none());
    let response = browser_login(&server, None, "wrong-password-1").await?;
    assert_eq!(response.status(), 401);
    assert!(
        lockout_of(&server.app, id).await?.locked_until_ms.is_some(),
        "locked after 2 + 1"
    );
    assert_eq!(browser_login(&server, None, PASSWORD).await?.status(), 401);
    server.shutdown().await;
    Ok(())
}

/// T15
#[tokio::test]
async fn t15_five_wrong_codes_lock_mfa_and_leave_the_password_counter_alone() -> anyhow::Result<()>
{
    let db = TestDb::sqlite()?;
    let (server, id) = server(db).await?;
    let alice = ApiSession::sign_in(&server, EMAIL, PASSWORD, None).await?;
    let secret = enrol(&server, &alice).await?.0;
    server.db.clock.advance_ms(60_000);
    let code = |clock_ms: i64| totp_code(&secret, totp_step(clock_ms), 6).expect("code");
    for _ in 0..5 {
        let right = code(server.db.clock.now_ms());
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        let request = LoginRequest {
            totp: Some(wrong),
            ..attempt(PASSWORD)
        };
        assert_eq!(login(&server.app, request).await, Err("invalid"));
    }
    let right = code(server.db.clock.now_ms());
    let request = LoginRequest {
        totp: Some(&right),
        ..attempt(PASSWORD)
    };
    assert_eq!(
        login(&server.app, request).await,
        Err("invalid"),
        "MFA locked"
    );
    assert_eq!(
        lockout_of(&server.app, id).await?,
        LockoutState::default(),
        "password counter unchanged"
    );
    let actions = audit_actions(&server.app).await?;
    assert_eq!(actions.iter().filter(|a| *a == "authn_mfa_fail").count(), 6);
    assert!(actions.contains(&"authn_mfa_lock".to_owned()));
    server.db.clock.advance_ms(5 * MINUTE_MS);
    let right = code(server.db.clock.now_ms());
    let request = LoginRequest {
        totp: Some(&right),
        ..attempt(PASSWORD)
    };
    assert_eq!(
        login(&server.app, request).await,
        Ok(()),
        "the MFA lock expires"
    );
    server.shutdown().await;
    Ok(())
}

/// Starts and confirms TOTP enrolment; returns the secret and the recovery codes.
async fn enrol(
    server: &TestServer,
    session: &ApiSession,
) -> anyhow::Result<(Vec<u8>, Vec<String>)> {
    let (status, started) = session
        .call(Method::POST, "/api/v1/account/mfa/totp", None)
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let secret_text = started["secret"].as_str().expect("secret");
    let uri = started["otpauth_uri"].as_str().expect("uri");
    assert!(uri.starts_with("otpauth://totp/Latchkey:") && uri.contains(secret_text));
    let secret = base32::decode(secret_text).expect("base32");
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    let (status, confirmed) = session
        .call(
            Method::POST,
            "/api/v1/account/mfa/totp/confirm",
            Some(json!({ "code": code })),
        )
        .await?;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    let codes: Vec<String> = confirmed["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    assert_eq!(codes.len(), 10);
    Ok((secret, codes))
}

async fn totp_enrolment_recovery_codes_step_up_and_removal(db: TestDb) -> anyhow::Result<()> {
    let (server, _) = server(db).await?;
    let alice = ApiSession::sign_in(&server, EMAIL, PASSWORD, None).await?;
    // A started but unconfirmed enrolment changes nothing.
    let (status, _) = alice
        .call(Method::POST, "/api/v1/account/mfa/totp", None)
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    ApiSession::sign_in(&server, EMAIL, PASSWORD, None).await?;
    let (status, problem) = alice
        .call(
            Method::POST,
            "/api/v1/account/mfa/totp/confirm",
            Some(json!({ "code": "12345x" })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "code");

    let (secret, codes) = enrol(&server, &alice).await?;
    let (status, _) = alice
        .call(Method::POST, "/api/v1/account/mfa/totp", None)
        .await?;
    assert_eq!(status, StatusCode::CONFLICT, "already enrolled");
    assert!(
        ApiSession::sign_in(&server, EMAIL, PASSWORD, None)
            .await
            .is_err(),
        "code needed"
    );
    server.db.clock.advance_ms(30_000);
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    ApiSession::sign_in(&server, EMAIL, PASSWORD, Some(&code)).await?;
    // A recovery code stands in for the TOTP code, once.
    let spaced = codes[0].to_uppercase().replace('-', " ");
    ApiSession::sign_in(&server, EMAIL, PASSWORD, Some(&spaced)).await?;
    assert!(
        ApiSession::sign_in(&server, EMAIL, PASSWORD, Some(&codes[0]))
            .await
            .is_err()
    );
    let actions = audit_actions(&server.app).await?;
    assert!(actions.contains(&"authn_mfa_enrolled".to_owned()));
    assert!(actions.contains(&"authn_mfa_recovery_used".to_owned()));

    // Removal needs step-up: a session older than 10 minutes must re-authenticate.
    server.db.clock.advance_ms(11 * MINUTE_MS);
    let _ = alice.get("/api/v1/me").await?; // keep the session alive
    let (status, problem) = alice
        .call(Method::DELETE, "/api/v1/account/mfa/totp", None)
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(problem["code"], "step_up_required");
    let (status, _) = alice
        .call(
            Method::POST,
            "/api/v1/auth/step-up",
            Some(json!({ "password": PASSWORD })),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the code is needed for step-up too"
    );
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    let response = alice
        .request(Method::POST, "/api/v1/auth/step-up")
        .json(&json!({ "password": PASSWORD, "totp": code }))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()?
        .split(';')
        .next()
        .expect("cookie")
        .to_owned();
    let body: Value = response.json().await?;
    assert_eq!(
        alice.get("/api/v1/me").await?.status(),
        401,
        "the old session ended"
    );
    let stepped = ApiSession {
        cookie: Some(cookie),
        csrf: body["csrf_token"].as_str().map(str::to_owned),
        ..alice.clone()
    };
    let (status, _) = stepped
        .call(Method::DELETE, "/api/v1/account/mfa/totp", None)
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    ApiSession::sign_in(&server, EMAIL, PASSWORD, None).await?;
    assert!(
        audit_actions(&server.app)
            .await?
            .contains(&"authn_mfa_removed".to_owned())
    );

    // Wrong step-up passwords count like sign-in failures (one code path).
    for _ in 0..3 {
        let (status, _) = stepped
            .call(
                Method::POST,
                "/api/v1/auth/step-up",
                Some(json!({ "password": "wrong-password-1" })),
            )
            .await?;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert!(
        ApiSession::sign_in(&server, EMAIL, PASSWORD, None)
            .await
            .is_err(),
        "locked by step-up failures"
    );
    server.shutdown().await;
    Ok(())
}

async fn reset_by_mail_needs_the_code_clears_the_lock_and_ends_every_session(
    db: TestDb,
) -> anyhow::Result<()> {
    let (server, id) = server(db).await?;
    let alice = ApiSession::sign_in(&server, EMAIL, PASSWORD, None).await?;
    let (secret, _) = enrol(&server, &alice).await?;
    let anon = ApiSession::anonymous(&server);

    // Same answer whether or not the address exists.
    let known = anon
        .call(
            Method::POST,
            "/api/v1/auth/forgot",
            Some(json!({ "email": "Alice@Example.com" })),
        )
        .await?;
    let unknown = anon
        .call(
            Method::POST,
            "/api/v1/auth/forgot",
            Some(json!({ "email": "nobody@example.com" })),
        )
        .await?;
    assert_eq!(known.0, StatusCode::ACCEPTED);
    assert_eq!(known, unknown);
    // And the same work, so the time taken tells nothing either: each request is only stored.
    let stored = pending_mail(&server.app, RESET_REQUEST_KIND).await?;
    assert_eq!(
        stored.iter().map(|m| m.to.as_str()).collect::<Vec<_>>(),
        ["Alice@example.com", "nobody@example.com"]
    );
    assert!(
        pending_mail(&server.app, "password_reset")
            .await?
            .is_empty()
    );
    let requested = "authn_password_reset_requested".to_owned();
    assert!(!audit_actions(&server.app).await?.contains(&requested));
    // The mail worker resolves them: one link, for the known address, audited.
    let mails = queued_mail(&server.app, "password_reset").await?;
    assert_eq!(mails.len(), 1, "only the known address gets mail");
    assert_eq!(mails[0].to, EMAIL);
    assert!(
        pending_mail(&server.app, RESET_REQUEST_KIND)
            .await?
            .is_empty()
    );
    assert_eq!(
        audit_actions(&server.app)
            .await?
            .iter()
            .filter(|a| **a == requested)
            .count(),
        1
    );
    let token = token_after(&mails[0].body, "/reset-password/").expect("reset link");

    // Locked meanwhile by someone else.
    lock_once(&server.app).await;

    let reset = |password: &str, totp: Option<String>| json!({ "token": token, "password": password, "totp": totp });
    let (status, problem) = anon
        .call(
            Method::POST,
            "/api/v1/auth/reset",
            Some(reset("short", None)),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "password");
    let (status, problem) = anon
        .call(
            Method::POST,
            "/api/v1/auth/reset",
            Some(reset("a-brand-new-passphrase", None)),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "MFA enrolled: the code is needed"
    );
    assert_eq!(problem["errors"][0]["field"], "totp");
    server.db.clock.advance_ms(30_000);
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    let (status, _) = anon
        .call(
            Method::POST,
            "/api/v1/auth/reset",
            Some(reset("a-brand-new-passphrase", Some(code.clone()))),
        )
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        alice.get("/api/v1/me").await?.status(),
        401,
        "sessions ended"
    );
    assert_eq!(
        lockout_of(&server.app, id).await?,
        LockoutState::default(),
        "lock cleared"
    );
    assert_eq!(queued_mail(&server.app, "password_changed").await?.len(), 1);
    assert!(
        audit_actions(&server.app)
            .await?
            .contains(&"authn_password_change".to_owned())
    );
    let (status, problem) = anon
        .call(
            Method::POST,
            "/api/v1/auth/reset",
            Some(reset("another-new-passphrase", Some(code))),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "single use");
    assert_eq!(problem["detail"], "invalid or expired link");
    server.db.clock.advance_ms(30_000);
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    assert!(
        ApiSession::sign_in(&server, EMAIL, PASSWORD, Some(&code))
            .await
            .is_err(),
        "old password"
    );
    server.db.clock.advance_ms(30_000);
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    ApiSession::sign_in(&server, EMAIL, "a-brand-new-passphrase", Some(&code)).await?;

    // Reset links expire after 30 minutes.
    anon.call(
        Method::POST,
        "/api/v1/auth/forgot",
        Some(json!({ "email": EMAIL })),
    )
    .await?;
    let mails = queued_mail(&server.app, "password_reset").await?;
    let late = token_after(&mails.last().expect("mail").body, "/reset-password/").expect("link");
    server.db.clock.advance_ms(30 * MINUTE_MS);
    let (status, _) = anon
        .call(
            Method::POST,
            "/api/v1/auth/reset",
            Some(json!({ "token": late, "password": "yet-another-passphrase" })),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Password change: the current password goes through the login counters; other sessions end.
    server.db.clock.advance_ms(30_000);
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    let alice = ApiSession::sign_in(&server, EMAIL, "a-brand-new-passphrase", Some(&code)).await?;
    server.db.clock.advance_ms(30_000);
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    let other = ApiSession::sign_in(&server, EMAIL, "a-brand-new-passphrase", Some(&code)).await?;
    let (status, problem) = alice
        .call(Method::POST, "/api/v1/account/password", Some(json!({ "current_password": "nope-nope-nope", "new_password": "the-third-passphrase" })))
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "current_password");
    let (status, problem) = alice
        .call(
            Method::POST,
            "/api/v1/account/password",
            Some(
                json!({ "current_password": "a-brand-new-passphrase", "new_password": "password" }),
            ),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "new_password");
    let response = alice
        .request(Method::POST, "/api/v1/account/password")
        .json(&json!({ "current_password": "a-brand-new-passphrase", "new_password": "the-third-passphrase" }))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()?
        .split(';')
        .next()
        .expect("cookie")
        .to_owned();
    let body: Value = response.json().await?;
    assert_eq!(
        other.get("/api/v1/me").await?.status(),
        401,
        "other sessions end"
    );
    assert_eq!(
        alice.get("/api/v1/me").await?.status(),
        401,
        "this one was rotated"
    );
    let rotated = ApiSession {
        cookie: Some(cookie),
        csrf: body["csrf_token"].as_str().map(str::to_owned),
        ..alice.clone()
    };
    assert_eq!(rotated.get("/api/v1/me").await?.status(), 200);
    assert_eq!(queued_mail(&server.app, "password_changed").await?.len(), 2);
    server.shutdown().await;
    Ok(())
}

/// An organisation with Alice as a member.
async fn org_with_member(app: &App, account: AccountId, role: Role) -> anyhow::Result<OrgId> {
    let org = app
        .create_organisation(
            &Actor::operator_cli(),
            NewOrganisation::parse("Acme", "ops@acme.example", 10)?,
        )
        .await?;
    let mut tx = app.store.write().await?;
    tx.insert_membership(&Membership {
        org_id: org.id,
        account_id: account,
        role,
        status: MembershipStatus::Active,
        created_at_ms: app.clock.now_ms(),
        version: 1,
        expires_at_ms: None,
    })
    .await?;
    tx.commit().await?;
    Ok(org.id)
}

/// T11 and the API token life cycle.
async fn api_tokens_are_scoped_expiring_revocable_and_survive_a_lock(
    db: TestDb,
) -> anyhow::Result<()> {
    let (server, id) = server(db).await?;
    let org = org_with_member(&server.app, id, Role::Member).await?;
    let alice = ApiSession::sign_in(&server, EMAIL, PASSWORD, None).await?;
    let path = format!("/api/v1/orgs/{org}/api-tokens");
    let create = |name: &str, scope: &str, days: i64| json!({ "name": name, "scope": scope, "expires_in_days": days });
    for bad in [
        create("x", "admin", 30),
        create("x", "read", 366),
        create("x", "read", 0),
        create("", "read", 30),
        create("a\u{0}b", "read", 30),
    ] {
        let (status, _) = alice.call(Method::POST, &path, Some(bad.clone())).await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let (status, reader) = alice
        .call(Method::POST, &path, Some(create("Reporting", "read", 30)))
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{reader}");
    let (_, writer) = alice
        .call(Method::POST, &path, Some(create("Sync", "write", 1)))
        .await?;
    let read_token = reader["token"].as_str().expect("token").to_owned();
    let write_token = writer["token"].as_str().expect("token").to_owned();
    assert!(read_token.starts_with("lkt_"));

    let (status, list) = alice.call(Method::GET, &path, None).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["api_tokens"].as_array().map(Vec::len), Some(2));
    let secret = read_token.rsplit('_').next().expect("secret");
    assert!(!list.to_string().contains(secret), "no secrets in lists");

    let reader_api = ApiSession::with_token(&server, &read_token);
    assert_eq!(reader_api.get(&path).await?.status(), 200, "Bearer works");
    let writer_id = writer["id"].as_str().expect("id");
    let (status, _) = reader_api
        .call(Method::DELETE, &format!("{path}/{writer_id}"), None)
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "a read token cannot write");
    let (status, _) = reader_api
        .call(Method::POST, &path, Some(create("More", "read", 5)))
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "a token cannot mint tokens");
    for account_path in ["/api/v1/account/mfa/totp", "/api/v1/auth/step-up"] {
        let (status, _) = reader_api
            .call(
                Method::POST,
                account_path,
                Some(json!({ "password": PASSWORD })),
            )
            .await?;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{account_path}: sessions only"
        );
    }
    let (status, _) = reader_api
        .call(
            Method::POST,
            "/api/v1/account/password",
            Some(
                json!({ "current_password": PASSWORD, "new_password": "token-chosen-passphrase" }),
            ),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "an API token cannot change the password"
    );
    let (status, _) = ApiSession::anonymous(&server)
        .call(Method::GET, &path, None)
        .await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = alice
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{}/api-tokens", OrgId::generate()),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // T11: a lock leaves sessions and API tokens working.
    lock_once(&server.app).await;
    assert_eq!(alice.get("/api/v1/me").await?.status(), 200);
    assert_eq!(reader_api.get(&path).await?.status(), 200);
    assert_eq!(
        ApiSession::with_token(&server, &write_token)
            .get(&path)
            .await?
            .status(),
        200
    );

    // Sessions: listed with the current one flagged; ending one ends it at once.
    let second = ApiSession::sign_in(&server, EMAIL, PASSWORD, None)
        .await
        .ok();
    assert!(second.is_none(), "still locked for new sign-ins");
    server.db.clock.advance_ms(5 * MINUTE_MS);
    let second = ApiSession::sign_in(&server, EMAIL, PASSWORD, None).await?;
    let (status, sessions) = alice
        .call(Method::GET, "/api/v1/account/sessions", None)
        .await?;
    assert_eq!(status, StatusCode::OK);
    let list = sessions["sessions"].as_array().expect("sessions");
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    let other_id = list
        .iter()
        .find(|s| s["current"] == false)
        .and_then(|s| s["id"].as_str())
        .expect("id");
    let (status, _) = alice
        .call(
            Method::DELETE,
            &format!("/api/v1/account/sessions/{other_id}"),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(second.get("/api/v1/me").await?.status(), 401);
    let (status, _) = alice
        .call(
            Method::DELETE,
            &format!("/api/v1/account/sessions/{other_id}"),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = alice
        .call(Method::DELETE, "/api/v1/account/sessions/not-hex", None)
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Revoked → 401; expired → 401.
    let reader_id = reader["id"].as_str().expect("id");
    let (status, _) = alice
        .call(Method::DELETE, &format!("{path}/{reader_id}"), None)
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(reader_api.get(&path).await?.status(), 401);
    server.db.clock.advance_ms(24 * 60 * MINUTE_MS);
    assert_eq!(
        ApiSession::with_token(&server, &write_token)
            .get(&path)
            .await?
            .status(),
        401
    );
    let actions = {
        let mut tx = server.app.store.read().await?;
        tx.audit_events(Scope::Tenant(org), 0, 1_000)
            .await?
            .into_iter()
            .map(|e| e.action)
            .collect::<Vec<_>>()
    };
    assert!(actions.contains(&"api_token_created".to_owned()));
    assert!(actions.contains(&"api_token_revoked".to_owned()));
    assert!(
        audit_actions(&server.app)
            .await?
            .contains(&"session_revoked".to_owned())
    );
    server.shutdown().await;
    Ok(())
}

/// The operator created by operator setup is told to enrol TOTP before admin work, enrols, and
/// then passes; removing the factor is refused for operators.
#[tokio::test]
async fn operator_setup_ends_with_totp_enrolment() -> anyhow::Result<()> {
    let db = TestDb::sqlite()?;
    let (server, _) = server(db).await?;
    let token = server
        .app
        .issue_operator_setup(&Actor::operator_cli())
        .await?;
    let (status, _) = ApiSession::anonymous(&server)
        .call(
            Method::POST,
            "/api/v1/auth/operator-setup",
            Some(json!({ "token": token, "email": "root@ops.example", "name": "Olive Smith", "password": "a-long-operator-passphrase" })),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED);
    let operator = ApiSession::sign_in(
        &server,
        "root@ops.example",
        "a-long-operator-passphrase",
        None,
    )
    .await?;
    let session_token = operator
        .cookie
        .as_deref()
        .and_then(|c| c.split_once('='))
        .map(|(_, v)| v.to_owned())
        .expect("session");
    let principal = server
        .app
        .principal_from_session(&session_token)
        .await?
        .expect("principal");
    let refused = principal.require_operator().expect_err("MFA first");
    assert_eq!(refused.code(), ErrorCode::MfaEnrolmentRequired);

    let (secret, _) = enrol(&server, &operator).await?;
    let principal = server
        .app
        .principal_from_session(&session_token)
        .await?
        .expect("principal");
    principal.require_operator()?;
    server.db.clock.advance_ms(30_000);
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6).expect("code");
    let operator = ApiSession::sign_in(
        &server,
        "root@ops.example",
        "a-long-operator-passphrase",
        Some(&code),
    )
    .await?;
    let (status, me) = operator.call(Method::GET, "/api/v1/me", None).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["mfa_enrolled"], true);
    let (status, _) = operator
        .call(Method::DELETE, "/api/v1/account/mfa/totp", None)
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "operators keep MFA");
    server.shutdown().await;
    Ok(())
}

/// Bad input to the account endpoints: clear 4xx, nothing hashed, nothing changed.
#[tokio::test]
async fn bad_input_is_refused_before_hashing_and_changes_nothing() -> anyhow::Result<()> {
    let db = TestDb::sqlite()?;
    let (server, id) = server(db).await?;
    let alice = ApiSession::sign_in(&server, EMAIL, PASSWORD, None).await?;
    let anon = ApiSession::anonymous(&server);
    let hashes = server.app.hasher.real_verifications();
    let long = "é".repeat(129);

    // Over-long passwords: refused before hashing (sign-in answers like any failure).
    let response = browser_login(&server, None, &long).await?;
    assert_eq!(response.status(), 401);
    assert_eq!(server.app.hasher.real_verifications(), hashes);
    let (status, problem) = alice
        .call(
            Method::POST,
            "/api/v1/account/password",
            Some(json!({ "current_password": PASSWORD, "new_password": long })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "new_password");
    let (status, _) = alice
        .call(
            Method::POST,
            "/api/v1/auth/step-up",
            Some(json!({ "password": long })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        server.app.hasher.real_verifications(),
        hashes,
        "nothing reached Argon2"
    );

    // NUL and junk in e-mails; wrong content types; unknown fields.
    let (status, _) = anon
        .call(
            Method::POST,
            "/api/v1/auth/forgot",
            Some(json!({ "email": "alice\u{0}@example.com" })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = anon
        .call(
            Method::POST,
            "/api/v1/auth/forgot",
            Some(json!({ "email": format!("{}@example.com", "a".repeat(400)) })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = anon
        .call(
            Method::POST,
            "/api/v1/auth/forgot",
            Some(json!({ "email": EMAIL, "admin": true })),
        )
        .await?;
    assert!(status.is_client_error() && status != StatusCode::ACCEPTED);
    for path in [
        "/api/v1/auth/forgot",
        "/api/v1/auth/reset",
        "/api/v1/auth/unlock",
    ] {
        let response = anonymous_post(&server, path)
            .header("content-type", "text/plain")
            .body(r#"{"email":"alice@example.com"}"#)
            .send()
            .await?;
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{path}"
        );
        let response = anonymous_post(&server, path)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await?;
        assert!(response.status().is_client_error(), "{path}");
    }
    let (status, _) = alice
        .call(
            Method::POST,
            "/api/v1/account/mfa/totp/confirm",
            Some(json!({ "code": "<script>" })),
        )
        .await?;
    assert_eq!(status, StatusCode::CONFLICT, "nothing in progress");
    // CSRF guards the account endpoints.
    let no_csrf = ApiSession {
        csrf: None,
        ..alice.clone()
    };
    let (status, _) = no_csrf
        .call(Method::POST, "/api/v1/account/mfa/totp", None)
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(queued_mail(&server.app, "password_reset").await?.is_empty());
    assert_eq!(
        lockout_of(&server.app, id).await?,
        LockoutState::default(),
        "refused before the account was touched"
    );
    server.shutdown().await;
    Ok(())
}

/// T4 at server level: 5, 15, 60, 60 min; after a quiet failure window (24 h) back to 5 min.
async fn t4_lock_durations_escalate_and_a_quiet_day_starts_again_at_five_minutes(
    db: TestDb,
) -> anyhow::Result<()> {
    let (app, id) = service_app(&db).await?;
    for minutes in [5, 15, 60, 60] {
        lock_once(&app).await;
        let until = lockout_of(&app, id).await?.locked_until_ms.expect("locked");
        assert_eq!(until - db.clock.now_ms(), minutes * MINUTE_MS);
        db.clock.advance_ms(minutes * MINUTE_MS);
    }
    db.clock.advance_ms(24 * 60 * MINUTE_MS);
    lock_once(&app).await;
    let state = lockout_of(&app, id).await?;
    assert_eq!(state.episodes, 1, "a new run of episodes");
    assert_eq!(
        state.locked_until_ms.map(|u| u - db.clock.now_ms()),
        Some(5 * MINUTE_MS)
    );
    Ok(())
}

/// Every account endpoint is in the OpenAPI document, with its errors.
#[tokio::test]
async fn openapi_lists_every_account_endpoint() -> anyhow::Result<()> {
    let (server, _) = server(TestDb::sqlite()?).await?;
    let doc: Value = server
        .client
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await?
        .json()
        .await?;
    for (path, method) in [
        ("/api/v1/auth/step-up", "post"),
        ("/api/v1/auth/unlock", "post"),
        ("/api/v1/auth/forgot", "post"),
        ("/api/v1/auth/reset", "post"),
        ("/api/v1/account/password", "post"),
        ("/api/v1/account/mfa/totp", "post"),
        ("/api/v1/account/mfa/totp", "delete"),
        ("/api/v1/account/mfa/totp/confirm", "post"),
        ("/api/v1/account/sessions", "get"),
        ("/api/v1/account/sessions/{id}", "delete"),
        ("/api/v1/orgs/{org_id}/api-tokens", "post"),
        ("/api/v1/orgs/{org_id}/api-tokens", "get"),
        ("/api/v1/orgs/{org_id}/api-tokens/{token_id}", "delete"),
    ] {
        let operation = &doc["paths"][path][method];
        assert!(operation.is_object(), "{method} {path} missing");
        assert!(
            operation["responses"]
                .as_object()
                .is_some_and(|r| r.len() >= 2),
            "{method} {path}: document its errors"
        );
    }
    server.shutdown().await;
    Ok(())
}

/// Forgot-password cannot be used to flood a mailbox: a few reset mails an hour per account,
/// and the answer never changes.
#[tokio::test]
async fn reset_mails_are_capped_per_account_per_hour() -> anyhow::Result<()> {
    let (server, _) = server(TestDb::sqlite()?).await?;
    let anon = ApiSession::anonymous(&server);
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(
            anon.call(
                Method::POST,
                "/api/v1/auth/forgot",
                Some(json!({ "email": EMAIL })),
            )
            .await?,
        );
    }
    assert!(
        answers
            .iter()
            .all(|a| *a == answers[0] && a.0 == StatusCode::ACCEPTED)
    );
    assert_eq!(queued_mail(&server.app, "password_reset").await?.len(), 3);
    server.db.clock.advance_ms(60 * MINUTE_MS);
    anon.call(
        Method::POST,
        "/api/v1/auth/forgot",
        Some(json!({ "email": EMAIL })),
    )
    .await?;
    assert_eq!(queued_mail(&server.app, "password_reset").await?.len(), 4);
    // The bilingual (UTF-8) subject and body go through the real transport (files by default).
    let report = server.app.deliver_due_mail().await?;
    assert_eq!((report.sent, report.retrying, report.given_up), (4, 0, 0));
    server.shutdown().await;
    Ok(())
}

/// A reset holds an org admin to the admin minimum (12 characters), a member to 8.
#[tokio::test]
async fn reset_holds_org_admins_to_twelve_characters() -> anyhow::Result<()> {
    let (server, id) = server(TestDb::sqlite()?).await?;
    let org = server
        .app
        .create_organisation(
            &Actor::operator_cli(),
            NewOrganisation::parse("Acme", "ops@acme.example", 10)?,
        )
        .await?;
    let mut tx = server.app.store.write().await?;
    tx.insert_membership(&Membership {
        org_id: org.id,
        account_id: id,
        role: Role::OrgAdmin,
        status: MembershipStatus::Active,
        created_at_ms: server.db.clock.now_ms(),
        version: 1,
        expires_at_ms: None,
    })
    .await?;
    tx.commit().await?;
    let anon = ApiSession::anonymous(&server);
    anon.call(
        Method::POST,
        "/api/v1/auth/forgot",
        Some(json!({ "email": EMAIL })),
    )
    .await?;
    let token = token_after(
        &queued_mail(&server.app, "password_reset").await?[0].body,
        "/reset-password/",
    )
    .expect("link");
    let (status, problem) = anon
        .call(
            Method::POST,
            "/api/v1/auth/reset",
            Some(json!({ "token": token, "password": "tulip-quart" })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "11 characters");
    assert!(problem["detail"].as_str().unwrap_or("").contains("12"));
    let (status, _) = anon
        .call(
            Method::POST,
            "/api/v1/auth/reset",
            Some(json!({ "token": token, "password": "tulip-quartz-harbour" })),
        )
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    server.shutdown().await;
    Ok(())
}

/// An org admin's unlock reopens every lane of the account, the device lanes included.
#[tokio::test]
async fn admin_unlock_also_clears_locked_device_lanes() -> anyhow::Result<()> {
    let db = TestDb::sqlite()?;
    let (app, alice) = service_app(&db).await?;
    let bob = app
        .create_account(
            &Actor::operator_cli(),
            NewAccount {
                email: "bob@example.com",
                name: "Bob Baker",
                password: "a-long-admin-passphrase",
                is_operator: false,
            },
        )
        .await?;
    let org = org_with_member(&app, alice, Role::Member).await?;
    {
        let mut tx = app.store.write().await?;
        tx.insert_membership(&Membership {
            org_id: org,
            account_id: bob,
            role: Role::OrgAdmin,
            status: MembershipStatus::Active,
            created_at_ms: db.clock.now_ms(),
            version: 1,
            expires_at_ms: None,
        })
        .await?;
        let mut record = tx.account(bob).await?.expect("bob");
        record.totp_secret = Some(b"bob-secret-0123456789".to_vec());
        tx.update_account(&record).await?;
        tx.commit().await?;
    }
    let device = app
        .login(attempt(PASSWORD))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .device_token
        .expect("a device token");
    let on_device = |password: &'static str| LoginRequest {
        device_token: Some(&device),
        ..attempt(password)
    };
    for _ in 0..3 {
        assert_eq!(
            login(&app, on_device("wrong-password-1")).await,
            Err("invalid")
        );
    }
    assert_eq!(
        login(&app, on_device(PASSWORD)).await,
        Err("invalid"),
        "device locked"
    );

    let code = totp_code(b"bob-secret-0123456789", totp_step(db.clock.now_ms()), 6).expect("code");
    let session = app
        .login(LoginRequest {
            email: "bob@example.com",
            password: "a-long-admin-passphrase",
            totp: Some(&code),
            ..LoginRequest::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let principal = app
        .principal_from_session(&session.session_token)
        .await?
        .expect("bob");
    app.unlock_person(&principal, &Actor::operator_cli(), org, alice)
        .await?;
    assert_eq!(
        login(&app, on_device(PASSWORD)).await,
        Ok(()),
        "device lane reopened"
    );
    Ok(())
}

/// The current password of a password change is checked by the login code path: wrong ones
/// count towards the same lock (one counter for every entry point, research §2.2 I2).
#[tokio::test]
async fn wrong_current_passwords_on_change_count_towards_the_lock() -> anyhow::Result<()> {
    let (server, id) = server(TestDb::sqlite()?).await?;
    let alice = ApiSession::sign_in(&server, EMAIL, PASSWORD, None).await?;
    for _ in 0..3 {
        let (status, problem) = alice
            .call(
                Method::POST,
                "/api/v1/account/password",
                Some(json!({ "current_password": "wrong-password-1", "new_password": "another-good-passphrase" })),
            )
            .await?;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(problem["errors"][0]["field"], "current_password");
    }
    assert!(lockout_of(&server.app, id).await?.locked_until_ms.is_some());
    let (status, _) = alice
        .call(
            Method::POST,
            "/api/v1/account/password",
            Some(
                json!({ "current_password": PASSWORD, "new_password": "another-good-passphrase" }),
            ),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "locked: even the right one is refused"
    );
    assert!(
        ApiSession::sign_in(&server, EMAIL, PASSWORD, None)
            .await
            .is_err()
    );
    assert_eq!(
        alice.get("/api/v1/me").await?.status(),
        200,
        "T11: the session survives"
    );
    server.shutdown().await;
    Ok(())
}
