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
