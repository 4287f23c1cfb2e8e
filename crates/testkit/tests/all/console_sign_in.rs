//! The console's sign-in, sign-out, home and operator setup pages over HTTP: redirects, cookies,
//! CSRF, escaping, and the one shared lockout counter (research T9).

use latchkey_server::identity::accounts::NewAccount;
use latchkey_server::{Actor, App};
use latchkey_testkit::{ApiSession, TestDb, TestServer};
use reqwest::StatusCode;
use serde_json::json;

on_both_backends!(
    sign_in_form_opens_a_session_and_sign_out_needs_the_form_token,
    t9_console_form_and_api_share_one_lockout_counter,
);

const PASSWORD: &str = "violet-harbour-lantern";
const EMAIL: &str = "alice@example.com";

fn no_redirects() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

async fn create_alice(app: &App) -> anyhow::Result<()> {
    app.create_account(
        &Actor::operator_cli(),
        NewAccount {
            email: EMAIL,
            name: "Alice <b>Example</b>",
            password: PASSWORD,
            is_operator: false,
        },
    )
    .await?;
    Ok(())
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

async fn sign_in_form_opens_a_session_and_sign_out_needs_the_form_token(
    db: TestDb,
) -> anyhow::Result<()> {
    let server = TestServer::start(db).await?;
    create_alice(&server.app).await?;
    let client = no_redirects()?;

    let response = client.get(server.url("/home")).send().await?;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/sign-in?next=/home");

    let page = client.get(server.url("/sign-in?next=/home")).send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(page.text().await?.contains(r#"name="next" value="/home""#));

    // A wrong password re-renders the form with the one generic message, the typed e-mail
    // escaped (not rendered as markup).
    let hostile = r#""><script>alert(1)</script>@example.com"#;
    let failed = client
        .post(server.url("/sign-in"))
        .form(&[("email", hostile), ("password", "nope"), ("next", "/home")])
        .send()
        .await?;
    assert_eq!(
        failed.status(),
        StatusCode::OK,
        "the form again, with the message"
    );
    let html = failed.text().await?;
    assert!(html.contains("sign-in-error"));
    assert!(!html.contains("<script>alert(1)</script>"), "escaped");
    assert!(html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"));

    let cross_site = client
        .post(server.url("/sign-in"))
        .header("origin", "https://evil.example")
        .form(&[("email", EMAIL), ("password", PASSWORD)])
        .send()
        .await?;
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);

    let signed_in = client
        .post(server.url("/sign-in"))
        .form(&[
            ("email", EMAIL),
            ("password", PASSWORD),
            ("totp", ""),
            ("next", "//evil.example/"),
        ])
        .send()
        .await?;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()["location"], "/home", "no open redirect");
    let cookie = session_cookie(&signed_in).expect("session cookie");
    let home = client
        .get(server.url("/home"))
        .header("cookie", &cookie)
        .send()
        .await?;
    assert_eq!(home.status(), StatusCode::OK);
    let html = home.text().await?;
    assert!(html.contains(EMAIL));
    assert!(html.contains("Alice &lt;b&gt;Example&lt;/b&gt;") || html.contains("Alice &#60;b"));
    assert!(!html.contains("mfa-banner"), "members need no MFA banner");
    let csrf = html
        .split(r#"name="_csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field in the sign-out form")
        .to_owned();
    assert_eq!(csrf.len(), 43);

    let refused = client
        .post(server.url("/sign-out"))
        .header("cookie", &cookie)
        .form(&[("_csrf", "A".repeat(43))])
        .send()
        .await?;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let home = client
        .get(server.url("/home"))
        .header("cookie", &cookie)
        .send()
        .await?;
    assert_eq!(home.status(), StatusCode::OK, "still signed in");

    let signed_out = client
        .post(server.url("/sign-out"))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await?;
    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    let home = client
        .get(server.url("/home"))
        .header("cookie", &cookie)
        .send()
        .await?;
    assert_eq!(home.status(), StatusCode::SEE_OTHER, "session ended");
    // The old form token is worthless now.
    let replay = client
        .post(server.url("/sign-out"))
        .header("cookie", &cookie)
        .form(&[("_csrf", csrf.as_str())])
        .send()
        .await?;
    assert_eq!(replay.status(), StatusCode::SEE_OTHER);
    assert!(
        replay.headers()["location"]
            .to_str()?
            .starts_with("/sign-in")
    );
    server.shutdown().await;
    Ok(())
}

/// T9: two failures through the console form and one through the API lock the account.
async fn t9_console_form_and_api_share_one_lockout_counter(db: TestDb) -> anyhow::Result<()> {
    let server = TestServer::start(db).await?;
    create_alice(&server.app).await?;
    let client = no_redirects()?;
    for _ in 0..2 {
        let failed = client
            .post(server.url("/sign-in"))
            .form(&[("email", EMAIL), ("password", "wrong-password")])
            .send()
            .await?;
        assert!(failed.text().await?.contains("sign-in-error"));
    }
    let api = ApiSession::anonymous(&server);
    let (status, _) = api
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            Some(json!({ "email": EMAIL, "password": "wrong-password" })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Locked: the right password is refused on both entry points.
    let (status, _) = api
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            Some(json!({ "email": EMAIL, "password": PASSWORD })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let form = client
        .post(server.url("/sign-in"))
        .form(&[("email", EMAIL), ("password", PASSWORD)])
        .send()
        .await?;
    assert_eq!(form.status(), StatusCode::OK, "no redirect: not signed in");
    assert!(form.text().await?.contains("sign-in-error"));
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn operator_setup_page_creates_the_operator_once_and_leads_to_mfa() -> anyhow::Result<()> {
    let server = TestServer::start(TestDb::sqlite()?).await?;
    let token = server
        .app
        .issue_operator_setup_if_needed()
        .await?
        .expect("no operator yet");
    let client = no_redirects()?;
    let page = client
        .get(server.url(&format!("/setup/{token}")))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await?.contains("setup-submit"));

    let weak = client
        .post(server.url(&format!("/setup/{token}")))
        .form(&[
            ("email", "op@example.com"),
            ("name", "Olga Operator"),
            ("password", "password1234"),
        ])
        .send()
        .await?;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.text().await?.contains("setup-error"));

    let created = client
        .post(server.url(&format!("/setup/{token}")))
        .form(&[
            ("email", "op@example.com"),
            ("name", "Olga Operator"),
            ("password", "quartz-meadow-falcon-9"),
        ])
        .send()
        .await?;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(created.headers()["location"], "/account/mfa");
    let cookie = session_cookie(&created).expect("signed in");
    let home = client
        .get(server.url("/home"))
        .header("cookie", &cookie)
        .send()
        .await?;
    let html = home.text().await?;
    assert!(
        html.contains("mfa-banner"),
        "operators are told to set up MFA"
    );
    assert!(html.contains("operator-orgs"));

    for attempt in [
        client
            .get(server.url(&format!("/setup/{token}")))
            .send()
            .await?,
        client.get(server.url("/setup/not-a-token")).send().await?,
    ] {
        assert_eq!(attempt.status(), StatusCode::NOT_FOUND);
        assert!(attempt.text().await?.contains("Invalid or expired link"));
    }
    server.shutdown().await;
    Ok(())
}
