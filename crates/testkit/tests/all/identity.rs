//! Password login with lockout, sessions and TOTP — research §2.6 tests at the service level
//! (T1–T3, T6–T8), on SQLite and PostgreSQL. Time moves on the injected clock.

use std::sync::Arc;

use latchkey_domain::identity::lockout::MINUTE_MS;
use latchkey_domain::identity::totp::{totp_code, totp_step};
use latchkey_domain::{AccountId, Clock as _, Scope};
use latchkey_server::identity::accounts::NewAccount;
use latchkey_server::identity::bootstrap::{OPERATOR_SETUP_TTL_MS, OperatorSetup};
use latchkey_server::identity::login::ADMIN_IDLE_TIMEOUT_MS;
use latchkey_server::identity::{LoginError, LoginRequest};
use latchkey_server::{Actor, App};
use latchkey_store::repo::{AccountRepo, AuditRepo};
use latchkey_testkit::TestDb;

on_both_backends!(
    fourth_attempt_with_correct_password_is_refused_while_locked,
    fifty_parallel_wrong_attempts_make_one_lock_episode_and_at_most_three_verifications,
);

const PASSWORD: &str = "violet-harbour-lantern";
const EMAIL: &str = "Alice@Example.com";

async fn app_with_alice(db: &TestDb) -> anyhow::Result<(App, AccountId)> {
    let app = App::new(db.open().await?, Arc::new(db.clock.clone()));
    let id = app
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
    Ok((app, id))
}

fn attempt<'a>(email: &'a str, password: &'a str) -> LoginRequest<'a> {
    LoginRequest {
        email,
        password,
        totp: None,
        source_ip: Some("192.0.2.7".into()),
        request_id: None,
        device_token: None,
    }
}

async fn try_login(app: &App, email: &str, password: &str) -> Result<(), ()> {
    match app.login(attempt(email, password)).await {
        Ok(_) => Ok(()),
        Err(LoginError::InvalidCredentials) => Err(()),
        Err(other) => panic!("unexpected error: {other}"),
    }
}

async fn audit_actions(app: &App) -> anyhow::Result<Vec<String>> {
    let mut tx = app.store.read().await?;
    Ok(tx
        .audit_events(Scope::Platform, 0, 1_000)
        .await?
        .into_iter()
        .map(|e| e.action)
        .collect())
}

/// T1
async fn fourth_attempt_with_correct_password_is_refused_while_locked(
    db: TestDb,
) -> anyhow::Result<()> {
    let (app, _) = app_with_alice(&db).await?;
    for _ in 0..3 {
        assert_eq!(try_login(&app, EMAIL, "wrong-password-1").await, Err(()));
    }
    assert_eq!(
        try_login(&app, EMAIL, PASSWORD).await,
        Err(()),
        "locked: even the right password is refused"
    );
    let actions = audit_actions(&app).await?;
    assert_eq!(
        actions.iter().filter(|a| *a == "authn_login_lock").count(),
        1,
        "{actions:?}"
    );
    assert!(!actions.contains(&"authn_login_success".to_owned()));
    Ok(())
}

/// T6 (research §2.6): the counter is atomic; attempts beyond the third never reach Argon2.
async fn fifty_parallel_wrong_attempts_make_one_lock_episode_and_at_most_three_verifications(
    db: TestDb,
) -> anyhow::Result<()> {
    let (app, id) = app_with_alice(&db).await?;
    let app = Arc::new(app);
    let before = app.hasher.real_verifications();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            try_login(&app, EMAIL, "wrong-password-2").await
        }));
    }
    for task in tasks {
        assert_eq!(task.await?, Err(()));
    }
    assert!(
        app.hasher.real_verifications() - before <= 3,
        "{} verifications",
        app.hasher.real_verifications() - before
    );
    let account = app
        .store
        .write()
        .await?
        .account_by_email_for_update(EMAIL)
        .await?
        .unwrap();
    assert_eq!(account.id, id);
    assert_eq!(account.password_lockout.episodes, 1);
    let locks = audit_actions(&app)
        .await?
        .into_iter()
        .filter(|a| a == "authn_login_lock")
        .count();
    assert_eq!(locks, 1);
    Ok(())
}

fn sqlite() -> TestDb {
    TestDb::sqlite().unwrap()
}

/// T2
#[tokio::test]
async fn wrong_correct_wrong_wrong_does_not_lock() -> anyhow::Result<()> {
    let db = sqlite();
    let (app, _) = app_with_alice(&db).await?;
    assert_eq!(try_login(&app, EMAIL, "nope-nope-1").await, Err(()));
    assert_eq!(try_login(&app, EMAIL, PASSWORD).await, Ok(()));
    assert_eq!(try_login(&app, EMAIL, "nope-nope-2").await, Err(()));
    assert_eq!(try_login(&app, EMAIL, "nope-nope-3").await, Err(()));
    assert_eq!(
        try_login(&app, EMAIL, PASSWORD).await,
        Ok(()),
        "two failures after a success do not lock"
    );
    Ok(())
}

/// T3
#[tokio::test]
async fn lock_expires_after_five_minutes_and_not_a_millisecond_earlier() -> anyhow::Result<()> {
    let db = sqlite();
    let (app, _) = app_with_alice(&db).await?;
    for _ in 0..3 {
        assert_eq!(try_login(&app, EMAIL, "wrong-wrong").await, Err(()));
    }
    db.clock.advance_ms(5 * MINUTE_MS - 1);
    assert_eq!(try_login(&app, EMAIL, PASSWORD).await, Err(()));
    db.clock.advance_ms(1);
    assert_eq!(try_login(&app, EMAIL, PASSWORD).await, Ok(()));
    Ok(())
}

/// T7
#[tokio::test]
async fn identifier_variants_share_one_counter() -> anyhow::Result<()> {
    let db = sqlite();
    let (app, _) = app_with_alice(&db).await?;
    for variant in [
        "alice@example.com",
        " ALICE@EXAMPLE.COM ",
        "Alice@Example.com",
    ] {
        assert_eq!(try_login(&app, variant, "wrong-again").await, Err(()));
    }
    assert_eq!(
        try_login(&app, "alice@example.com", PASSWORD).await,
        Err(()),
        "locked across variants"
    );
    Ok(())
}

/// T8
#[tokio::test]
async fn unknown_accounts_get_the_same_answer_and_leave_no_trace() -> anyhow::Result<()> {
    let db = sqlite();
    let (app, _) = app_with_alice(&db).await?;
    let before = audit_actions(&app).await?.len();
    for _ in 0..5 {
        let err = app
            .login(attempt("nobody@example.com", "whatever-pass"))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "invalid credentials");
    }
    assert_eq!(
        audit_actions(&app).await?.len(),
        before,
        "no rows for unknown identifiers"
    );
    assert_eq!(try_login(&app, EMAIL, PASSWORD).await, Ok(()));
    Ok(())
}

#[tokio::test]
async fn sessions_expire_when_idle_and_end_at_logout() -> anyhow::Result<()> {
    let db = sqlite();
    let app = App::new(db.open().await?, Arc::new(db.clock.clone()));
    app.create_account(
        &Actor::operator_cli(),
        NewAccount {
            email: "ops@example.com",
            name: "Opal Operator",
            password: "granite-meadow-sparrow",
            is_operator: true,
        },
    )
    .await?;
    let ok = app
        .login(attempt("ops@example.com", "granite-meadow-sparrow"))
        .await?;
    assert_eq!(
        ok.session.idle_timeout_ms, ADMIN_IDLE_TIMEOUT_MS,
        "operators get the admin idle timeout"
    );
    assert!(app.session(&ok.session_token).await?.is_some());
    db.clock.advance_ms(ADMIN_IDLE_TIMEOUT_MS - 1);
    assert!(
        app.session(&ok.session_token).await?.is_some(),
        "activity restarts the idle timer"
    );
    db.clock.advance_ms(ADMIN_IDLE_TIMEOUT_MS);
    assert!(
        app.session(&ok.session_token).await?.is_none(),
        "idle too long"
    );
    let again = app
        .login(attempt("ops@example.com", "granite-meadow-sparrow"))
        .await?;
    app.logout(&again.session_token).await?;
    assert!(app.session(&again.session_token).await?.is_none());
    assert!(app.session("garbage").await?.is_none());
    Ok(())
}

#[tokio::test]
async fn enrolled_totp_is_required_and_each_code_works_once() -> anyhow::Result<()> {
    let db = sqlite();
    let (app, id) = app_with_alice(&db).await?;
    let secret = b"12345678901234567890".to_vec();
    {
        let mut tx = app.store.write().await?;
        let mut account = tx.account(id).await?.unwrap();
        account.totp_secret = Some(secret.clone());
        tx.update_account(&account).await?;
        tx.commit().await?;
    }
    assert_eq!(
        try_login(&app, EMAIL, PASSWORD).await,
        Err(()),
        "password alone is not enough"
    );
    let code = totp_code(&secret, totp_step(db.clock.now_ms()), 6).unwrap();
    fn with_code(code: &str) -> LoginRequest<'_> {
        LoginRequest {
            totp: Some(code),
            ..attempt(EMAIL, PASSWORD)
        }
    }
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert!(app.login(with_code(wrong)).await.is_err());
    assert!(app.login(with_code(&code)).await.is_ok());
    assert!(
        app.login(with_code(&code)).await.is_err(),
        "a code is accepted once"
    );
    let actions = audit_actions(&app).await?;
    assert!(
        actions.contains(&"authn_mfa_fail".to_owned()),
        "{actions:?}"
    );
    Ok(())
}

fn setup<'a>(token: &'a str, email: &'a str, password: &'a str) -> OperatorSetup<'a> {
    OperatorSetup {
        token,
        email,
        name: "Opal Operator",
        password,
    }
}

#[tokio::test]
async fn operator_setup_token_works_once_then_recovery_sets_a_new_password() -> anyhow::Result<()> {
    let db = sqlite();
    let app = App::new(db.open().await?, Arc::new(db.clock.clone()));
    let actor = Actor::system();
    let token = app
        .issue_operator_setup_if_needed()
        .await?
        .expect("no operator yet");
    let id = app
        .complete_operator_setup(
            &actor,
            setup(&token, "ops@example.com", "granite-meadow-sparrow"),
        )
        .await?;
    let again = app
        .complete_operator_setup(
            &actor,
            setup(&token, "ops@example.com", "granite-meadow-sparrow"),
        )
        .await;
    assert!(
        again
            .unwrap_err()
            .to_string()
            .contains("invalid or expired link")
    );
    assert!(
        app.issue_operator_setup_if_needed().await?.is_none(),
        "an operator exists now"
    );
    assert_eq!(
        try_login(&app, "ops@example.com", "granite-meadow-sparrow").await,
        Ok(())
    );

    // Recovery from the host: a fresh token sets a new password for the same operator.
    let recovery = app.issue_operator_setup(&Actor::operator_cli()).await?;
    let same = app
        .complete_operator_setup(
            &actor,
            setup(&recovery, "ops@example.com", "copper-willow-thunder"),
        )
        .await?;
    assert_eq!(same, id);
    assert_eq!(
        try_login(&app, "ops@example.com", "granite-meadow-sparrow").await,
        Err(())
    );
    assert_eq!(
        try_login(&app, "ops@example.com", "copper-willow-thunder").await,
        Ok(())
    );
    let actions = audit_actions(&app).await?;
    for action in [
        "operator_setup_link_issued",
        "user_created",
        "authn_password_change",
    ] {
        assert!(
            actions.contains(&action.to_owned()),
            "{action} missing from {actions:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn operator_setup_token_expires_after_an_hour_and_weak_passwords_are_refused()
-> anyhow::Result<()> {
    let db = sqlite();
    let app = App::new(db.open().await?, Arc::new(db.clock.clone()));
    let token = app.issue_operator_setup(&Actor::operator_cli()).await?;
    let weak = app
        .complete_operator_setup(
            &Actor::system(),
            setup(&token, "ops@example.com", "password123"),
        )
        .await;
    assert!(weak.is_err(), "a common, short password is refused");
    db.clock.advance_ms(OPERATOR_SETUP_TTL_MS);
    let late = app
        .complete_operator_setup(
            &Actor::system(),
            setup(&token, "ops@example.com", "granite-meadow-sparrow"),
        )
        .await;
    assert!(
        late.unwrap_err()
            .to_string()
            .contains("invalid or expired link")
    );
    let garbage = app
        .complete_operator_setup(
            &Actor::system(),
            setup("not-a-token", "ops@example.com", "granite-meadow-sparrow"),
        )
        .await;
    assert!(
        garbage
            .unwrap_err()
            .to_string()
            .contains("invalid or expired link")
    );
    Ok(())
}

#[tokio::test]
async fn operator_setup_over_http_answers_201_then_404_problem() -> anyhow::Result<()> {
    let server = latchkey_testkit::TestServer::start(sqlite()).await?;
    let token = server
        .app
        .issue_operator_setup(&Actor::operator_cli())
        .await?;
    let url = server.url("/api/v1/auth/operator-setup");
    let body = serde_json::json!({ "token": token, "email": "ops@example.com", "name": "Opal", "password": "granite-meadow-sparrow" });
    let created = server.client.post(&url).json(&body).send().await?;
    assert_eq!(created.status(), 201);
    let created: serde_json::Value = created.json().await?;
    assert!(created["account_id"].as_str().is_some());
    let replay = server.client.post(&url).json(&body).send().await?;
    assert_eq!(replay.status(), 404);
    assert_eq!(replay.headers()["content-type"], "application/problem+json");
    let weak = serde_json::json!({ "token": token, "email": "x@example.com", "name": "X", "password": "short" });
    let refused = server.client.post(&url).json(&weak).send().await?;
    assert_eq!(refused.status(), 422);
    let problem: serde_json::Value = refused.json().await?;
    assert_eq!(problem["errors"][0]["field"], "password");
    let malformed = server
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"token\":")
        .send()
        .await?;
    assert_eq!(malformed.status(), 400);
    server.shutdown().await;
    Ok(())
}
