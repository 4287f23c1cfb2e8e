//! The console in real headless Chromium.

use fantoccini::Locator;
use latchkey_testkit::{Browser, TestDb, TestServer};

#[tokio::test]
async fn landing_page_renders_in_chromium_with_csp_intact_and_no_console_errors()
-> anyhow::Result<()> {
    let Some(browser) = Browser::start().await? else {
        return Ok(());
    };
    let server = TestServer::start(TestDb::sqlite()?).await?;
    let c = &browser.client;
    c.goto(&server.url("/")).await?;
    assert_eq!(c.title().await?, "Latchkey");
    let heading = c.find(Locator::Css("main h1")).await?.text().await?;
    assert_eq!(heading, "Latchkey");
    let db_state = c.find(Locator::Id("database-state")).await?.text().await?;
    assert_eq!(db_state, "ready");
    // The stylesheet loaded under the CSP: the header got its colour from it.
    let background = c
        .execute(
            "return getComputedStyle(document.querySelector('header.top')).backgroundColor",
            vec![],
        )
        .await?;
    assert_eq!(background.as_str(), Some("rgb(36, 41, 47)"));
    // Landmarks and keyboard access: a skip link first in tab order, targeting <main>.
    let skip = c.find(Locator::Css("a.skip")).await?;
    assert_eq!(skip.attr("href").await?.as_deref(), Some("#main"));
    assert!(c.find(Locator::Css("nav[aria-label]")).await.is_ok());
    let errors = browser.console_errors().await?;
    assert!(errors.is_empty(), "console errors: {errors:?}");

    // An inline script injected by an attacker would be blocked by the CSP: prove the policy is
    // live by asking the browser to run one through a new <script> element.
    c.execute(
        "const s = document.createElement('script'); s.textContent = 'window.__inline_ran = true'; \
         document.body.appendChild(s); return true;",
        vec![],
    )
    .await?;
    let ran = c
        .execute("return window.__inline_ran === true", vec![])
        .await?;
    assert_eq!(
        ran.as_bool(),
        Some(false),
        "inline script must not run under the CSP"
    );
    let violations = browser.console_errors().await?;
    assert!(
        violations
            .iter()
            .any(|m| m.contains("Content Security Policy")),
        "the blocked script is reported as a CSP violation: {violations:?}"
    );

    c.goto(&server.url("/?lang=ja")).await?;
    let html_lang = c
        .execute("return document.documentElement.lang", vec![])
        .await?;
    assert_eq!(html_lang.as_str(), Some("ja"));
    browser.close().await?;
    server.shutdown().await;
    Ok(())
}

/// Fills the sign-in form and submits it; returns the page's alert text, if any.
async fn sign_in_in_browser(
    c: &fantoccini::Client,
    server: &TestServer,
    email: &str,
    password: &str,
    code: Option<&str>,
) -> anyhow::Result<Option<String>> {
    c.goto(&server.url("/sign-in")).await?;
    c.find(Locator::Id("email")).await?.send_keys(email).await?;
    c.find(Locator::Id("password"))
        .await?
        .send_keys(password)
        .await?;
    if let Some(code) = code {
        c.find(Locator::Id("totp")).await?.send_keys(code).await?;
    }
    c.find(Locator::Id("sign-in-submit")).await?.click().await?;
    // The fresh form has neither element; the answer page has one of them.
    let answer = c
        .wait()
        .for_element(Locator::Css("#sign-in-error, #home-email, #mfa-banner"))
        .await?;
    if answer.attr("id").await?.as_deref() == Some("sign-in-error") {
        Ok(Some(answer.text().await?))
    } else {
        Ok(None)
    }
}

#[tokio::test]
async fn lockout_seen_from_the_browser_is_the_same_message_and_an_audited_lock()
-> anyhow::Result<()> {
    let Some(browser) = Browser::start().await? else {
        return Ok(());
    };
    let server = TestServer::start(TestDb::sqlite()?).await?;
    let person = latchkey_testkit::fixtures::person(&server.app, "pat@example.com", false).await?;
    let c = &browser.client;
    let mut messages = Vec::new();
    for _ in 0..3 {
        messages.push(sign_in_in_browser(c, &server, &person.email, "wrong-password", None).await?);
    }
    let locked = sign_in_in_browser(
        c,
        &server,
        &person.email,
        latchkey_testkit::fixtures::FIXTURE_PASSWORD,
        None,
    )
    .await?;
    assert!(messages.iter().all(|m| m.is_some()));
    assert_eq!(
        locked, messages[0],
        "locked looks exactly like a wrong password"
    );
    assert_eq!(c.current_url().await?.path(), "/sign-in");
    let mut tx = server.app.store.read().await?;
    let actions: Vec<String> = latchkey_store::repo::AuditRepo::audit_events(
        &mut tx,
        latchkey_domain::Scope::Platform,
        0,
        1_000,
    )
    .await?
    .into_iter()
    .map(|e| e.action)
    .collect();
    drop(tx);
    assert_eq!(
        actions.iter().filter(|a| *a == "authn_login_lock").count(),
        1
    );
    // Five minutes later the right password works and lands on the home page.
    server.db.clock.advance_ms(5 * 60_000 + 1_000);
    let ok = sign_in_in_browser(
        c,
        &server,
        &person.email,
        latchkey_testkit::fixtures::FIXTURE_PASSWORD,
        None,
    )
    .await?;
    assert_eq!(ok, None);
    assert_eq!(c.current_url().await?.path(), "/home");
    let shown = c.find(Locator::Id("home-email")).await?.text().await?;
    assert_eq!(shown, person.email);
    let errors = browser.console_errors().await?;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await?;
    server.shutdown().await;
    Ok(())
}
