//! The whole first-day journey in real Chromium, with real mail: the operator opens the setup
//! link printed at start-up, enrols TOTP, creates an organisation and invites its first admin;
//! the invitation travels over SMTP to the test listener; the admin opens the link from that
//! e-mail, sets a password, enrols TOTP, signs in with a code and reaches the people page.

use fantoccini::{Client, Locator};
use latchkey_domain::Clock as _;
use latchkey_domain::identity::base32;
use latchkey_domain::identity::totp::{totp_code, totp_step};
use latchkey_server::config::{MailTransportKind, SmtpSecurity};
use latchkey_testkit::{Browser, SmtpListener, TestDb, TestServer};

const OPERATOR_PASSWORD: &str = "quartz-meadow-falcon-9";
const ADMIN_PASSWORD: &str = "quiet-orchard-compass-42";

async fn fill(c: &Client, id: &str, text: &str) -> anyhow::Result<()> {
    c.wait()
        .for_element(Locator::Id(id))
        .await?
        .send_keys(text)
        .await?;
    Ok(())
}

async fn click(c: &Client, id: &str) -> anyhow::Result<()> {
    c.wait().for_element(Locator::Id(id)).await?.click().await?;
    Ok(())
}

async fn text(c: &Client, id: &str) -> anyhow::Result<String> {
    Ok(c.wait().for_element(Locator::Id(id)).await?.text().await?)
}

/// On `/account/mfa`: starts enrolment, reads the secret off the page, confirms with a code, and
/// checks that ten recovery codes are shown. Returns the secret.
async fn enrol_totp(c: &Client, server: &TestServer) -> anyhow::Result<Vec<u8>> {
    click(c, "mfa-start").await?;
    let secret = base32::decode(text(c, "totp-secret").await?.trim())
        .map_err(|e| anyhow::anyhow!("the secret on screen is not base32: {e:?}"))?;
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6)
        .ok_or_else(|| anyhow::anyhow!("no code"))?;
    fill(c, "code", &code).await?;
    click(c, "mfa-confirm").await?;
    c.wait().for_element(Locator::Id("recovery-codes")).await?;
    let codes = c.find_all(Locator::Css("#recovery-codes code")).await?;
    assert_eq!(codes.len(), 10, "ten recovery codes, shown once");
    Ok(secret)
}

#[tokio::test]
async fn operator_bootstrap_to_a_signed_in_org_admin_in_chromium_with_real_mail()
-> anyhow::Result<()> {
    let Some(browser) = Browser::start().await? else {
        return Ok(());
    };
    let smtp = SmtpListener::start().await?;
    let server = TestServer::start_with(TestDb::sqlite()?, |config| {
        config.mail.transport = MailTransportKind::Smtp;
        config.mail.smtp_host = Some(smtp.addr.ip().to_string());
        config.mail.smtp_port = Some(smtp.addr.port());
        config.mail.smtp_security = SmtpSecurity::None;
        config.mail.from = "Latchkey <no-reply@latchkey.example>".into();
    })
    .await?;
    let app = server.app.clone();
    let c = &browser.client;

    // 1. The setup link `serve` prints while no operator exists.
    let token = app
        .issue_operator_setup_if_needed()
        .await?
        .ok_or_else(|| anyhow::anyhow!("an operator already exists"))?;
    c.goto(&server.url(&format!("/setup/{token}"))).await?;
    fill(c, "email", "opal@platform.example").await?;
    fill(c, "name", "Opal Operator").await?;
    fill(c, "password", OPERATOR_PASSWORD).await?;
    click(c, "setup-submit").await?;

    // 2. Straight on to two-step verification; admin pages wait until it is on.
    c.wait()
        .for_url(url::Url::parse(&server.url("/account/mfa"))?)
        .await?;
    enrol_totp(c, &server).await?;

    // 3. An organisation and its first admin's invitation.
    c.goto(&server.url("/operator/orgs")).await?;
    fill(c, "name", "Harbour Lofts").await?;
    fill(c, "contact_email", "office@lofts.example").await?;
    fill(c, "seat_limit", "5").await?;
    click(c, "create-org").await?;
    assert_eq!(text(c, "org-name").await?, "Harbour Lofts");
    fill(c, "invite-name", "Hana Admin").await?;
    fill(c, "invite-email", "hana@lofts.example").await?;
    click(c, "invite-admin").await?;
    // The page already shows the creation notice: wait for the invitation's.
    c.wait()
        .for_element(Locator::XPath(
            "//*[@id='notice' and contains(., 'invitation')]",
        ))
        .await?;
    click(c, "sign-out").await?;
    c.wait().for_element(Locator::Id("sign-in-submit")).await?;

    // 4. The invitation over SMTP; the link is taken from the delivered message.
    let report = app.deliver_due_mail().await?;
    assert!(report.sent >= 1, "{report:?}");
    let received = smtp.received();
    let mail = received
        .iter()
        .find(|m| m.rcpt_to.iter().any(|r| r.contains("hana@lofts.example")))
        .ok_or_else(|| anyhow::anyhow!("no invitation mail: {received:?}"))?;
    let body = mail.body();
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/invite/"))
        .ok_or_else(|| anyhow::anyhow!("no link in {body}"))?
        .to_owned();
    assert!(link.starts_with(&server.base), "{link}");
    assert!(!body.contains(OPERATOR_PASSWORD));

    // 5. The admin accepts, signs in, is sent to set up TOTP, and signs in again with a code.
    c.goto(&link).await?;
    assert_eq!(text(c, "invite-org").await?, "Harbour Lofts");
    fill(c, "password", ADMIN_PASSWORD).await?;
    click(c, "invite-accept").await?;
    assert!(text(c, "message").await?.contains("Sign in"));
    c.goto(&server.url("/sign-in")).await?;
    fill(c, "email", "hana@lofts.example").await?;
    fill(c, "password", ADMIN_PASSWORD).await?;
    click(c, "sign-in-submit").await?;
    c.wait().for_element(Locator::Id("mfa-banner")).await?;
    c.goto(&server.url("/account/mfa")).await?;
    let secret = enrol_totp(c, &server).await?;
    click(c, "sign-out").await?;
    server.db.clock.advance_ms(30_000); // each code is accepted once
    c.goto(&server.url("/sign-in")).await?;
    fill(c, "email", "hana@lofts.example").await?;
    fill(c, "password", ADMIN_PASSWORD).await?;
    let code = totp_code(&secret, totp_step(server.db.clock.now_ms()), 6)
        .ok_or_else(|| anyhow::anyhow!("no code"))?;
    fill(c, "totp", &code).await?;
    click(c, "sign-in-submit").await?;
    let orgs = text(c, "my-orgs").await?;
    assert!(orgs.contains("Harbour Lofts"), "{orgs}");
    assert!(
        c.find(Locator::Id("mfa-banner")).await.is_err(),
        "no banner once enrolled"
    );
    c.find(Locator::LinkText("People")).await?.click().await?;
    let people = c
        .wait()
        .for_element(Locator::Css("main"))
        .await?
        .text()
        .await?;
    assert!(people.contains("hana@lofts.example"), "{people}");

    let errors = browser.console_errors().await?;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await?;
    server.shutdown().await;
    Ok(())
}
