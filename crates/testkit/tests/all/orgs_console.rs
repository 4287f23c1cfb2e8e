//! The organisation, people and invitation console pages over HTTP: status codes, escaping of
//! stored text, CSRF refusal without the form token, the public invitation page that spends
//! nothing on GET, English and Japanese.

use fantoccini::Locator;
use latchkey_domain::identity::totp::{totp_code, totp_step};
use latchkey_domain::identity::{MembershipStatus, Role};
use latchkey_domain::{OrgId, Scope};
use latchkey_server::config::{MailTransportKind, SmtpSecurity};
use latchkey_store::repo::MembershipRepo;
use latchkey_testkit::{ApiSession, Browser, SmtpListener, TestDb, TestServer};
use reqwest::{Response, StatusCode};

use crate::orgs_people::{
    PASSWORD, World, account, audit, enrol_totp, invitation_token, join, mail_count, seats,
    sign_in, world,
};

on_both_backends!(
    operator_pages_create_an_organisation_and_invite_its_first_admin,
    invitation_page_spends_nothing_on_get_and_joins_on_post,
    people_page_searches_pages_and_acts_only_with_the_form_token,
);

fn no_redirects() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?)
}

async fn page(w: &World, who: &ApiSession, path: &str) -> anyhow::Result<(StatusCode, String)> {
    let mut request = no_redirects()?.get(w.server.url(path));
    if let Some(cookie) = &who.cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await?;
    Ok((response.status(), response.text().await?))
}

/// Posts a console form as `who`, with the session's form token unless `csrf` is false.
async fn form(
    w: &World,
    who: &ApiSession,
    path: &str,
    fields: &[(&str, &str)],
    csrf: bool,
) -> anyhow::Result<Response> {
    let mut fields: Vec<(&str, &str)> = fields.to_vec();
    if csrf && let Some(token) = who.csrf.as_deref() {
        fields.push(("_csrf", token));
    }
    let mut request = no_redirects()?.post(w.server.url(path)).form(&fields);
    if let Some(cookie) = &who.cookie {
        request = request.header("cookie", cookie);
    }
    Ok(request.send().await?)
}

fn location(response: &Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn org_count(w: &World) -> anyhow::Result<usize> {
    Ok(w.server.app.organisation_summaries().await?.len())
}

async fn operator_pages_create_an_organisation_and_invite_its_first_admin(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db).await?;
    let (status, html) = page(&w, &w.operator, "/operator/orgs").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Acme Tower") && html.contains("Bravo Flats"));
    assert!(!html.contains("mia@a.example") && !html.contains("Mia Member"));
    let (status, html) = page(&w, &w.operator, "/operator/orgs?lang=ja").await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("組織を作成"), "Japanese page");

    // Not the operator: 403 page; not signed in: to the sign-in page.
    let (status, _) = page(&w, &w.admin_a, "/operator/orgs").await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = page(&w, &ApiSession::anonymous(&w.server), "/operator/orgs").await?;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let before = org_count(&w).await?;
    let fields = [
        ("name", "<script>alert(1)</script> & Co"),
        ("contact_email", "office@script.example"),
        ("seat_limit", "4"),
    ];
    let refused = form(&w, &w.operator, "/operator/orgs", &fields, false).await?;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "no form token");
    let forged = form(
        &w,
        &w.operator,
        "/operator/orgs",
        &[("_csrf", &"A".repeat(43)), fields[0], fields[1], fields[2]],
        false,
    )
    .await?;
    assert_eq!(
        forged.status(),
        StatusCode::FORBIDDEN,
        "a forged form token"
    );
    assert_eq!(org_count(&w).await?, before, "nothing created");

    let bad = form(
        &w,
        &w.operator,
        "/operator/orgs",
        &[
            ("name", "Kept <b>name</b>"),
            ("contact_email", "not-an-address"),
            ("seat_limit", "4"),
        ],
        true,
    )
    .await?;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await?;
    assert!(
        html.contains("contact_email must be an e-mail address"),
        "reason shown"
    );
    assert!(
        html.contains("Kept &lt;b&gt;name&lt;/b&gt;"),
        "typed values kept, escaped"
    );
    assert_eq!(org_count(&w).await?, before);

    let created = form(&w, &w.operator, "/operator/orgs", &fields, true).await?;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let show = location(&created);
    assert!(
        show.starts_with("/operator/orgs/") && show.ends_with("?notice=created"),
        "{show}"
    );
    let (status, html) = page(&w, &w.operator, &show).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
    assert!(
        !html.contains("<script>alert(1)"),
        "never rendered unescaped"
    );
    let org: OrgId = show
        .trim_start_matches("/operator/orgs/")
        .trim_end_matches("?notice=created")
        .parse()?;
    let base = format!("/operator/orgs/{org}");

    let too_low = form(
        &w,
        &w.operator,
        &format!("{base}/contract"),
        &[("seat_limit", "0")],
        true,
    )
    .await?;
    assert_eq!(too_low.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let changed = form(
        &w,
        &w.operator,
        &format!("{base}/contract"),
        &[("seat_limit", "6"), ("contact_email", "")],
        true,
    )
    .await?;
    assert_eq!(location(&changed), format!("{base}?notice=contract"));
    assert_eq!(
        w.server
            .app
            .organisation_summary(org)
            .await?
            .org
            .contract
            .seat_limit,
        6
    );

    let invite = [("name", "Cy Admin"), ("email", "cy@script.example")];
    assert_eq!(
        form(&w, &w.operator, &format!("{base}/invite"), &invite, false)
            .await?
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(mail_count(&w.server.app, org).await?, 0);
    let sent = form(&w, &w.operator, &format!("{base}/invite"), &invite, true).await?;
    assert_eq!(location(&sent), format!("{base}?notice=invited"));
    assert_eq!(mail_count(&w.server.app, org).await?, 1);
    let again = form(
        &w,
        &w.operator,
        &format!("{base}/invite"),
        &[("name", "Di"), ("email", "di@script.example")],
        true,
    )
    .await?;
    assert_eq!(again.status(), StatusCode::FORBIDDEN, "first admin only");
    assert!(again.text().await?.contains("already has an org admin"));

    let suspended = form(&w, &w.operator, &format!("{base}/suspend"), &[], true).await?;
    assert_eq!(location(&suspended), format!("{base}?notice=suspended"));
    let (_, html) = page(&w, &w.operator, &location(&suspended)).await?;
    assert!(html.contains("id=\"resume\""));
    let resumed = form(&w, &w.operator, &format!("{base}/resume"), &[], true).await?;
    assert_eq!(location(&resumed), format!("{base}?notice=resumed"));
    let (status, _) = page(
        &w,
        &w.operator,
        &format!("/operator/orgs/{}", OrgId::generate()),
    )
    .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = page(&w, &w.operator, "/operator/orgs/not-an-id").await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    w.server.shutdown().await;
    Ok(())
}

async fn invitation_page_spends_nothing_on_get_and_joins_on_post(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let app = w.server.app.clone();
    let sent = form(
        &w,
        &w.admin_a,
        &format!("/orgs/{}/people/invite", w.org_a),
        &[
            ("name", "Rio <i>New</i>"),
            ("email", "rio@a.example"),
            ("role", "member"),
        ],
        true,
    )
    .await?;
    assert_eq!(
        location(&sent),
        format!("/orgs/{}/people?notice=invited", w.org_a)
    );
    let token = invitation_token(&app, w.org_a, "rio@a.example").await?;
    let anonymous = ApiSession::anonymous(&w.server);
    let path = format!("/invite/{token}");
    for _ in 0..2 {
        let (status, html) = page(&w, &anonymous, &path).await?;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Rio &lt;i&gt;New&lt;/i&gt;") && html.contains("Acme Tower"));
        assert!(
            html.contains("name=\"password\""),
            "a new account sets a password"
        );
    }
    let (status, html) = page(&w, &anonymous, &format!("{path}?lang=ja")).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("パスワードを設定して参加"));

    let short = form(&w, &anonymous, &path, &[("password", "short")], false).await?;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.text().await?.contains("id=\"invite-error\""));
    let cross = no_redirects()?
        .post(w.server.url(&path))
        .header("origin", "https://evil.example")
        .form(&[("password", PASSWORD)])
        .send()
        .await?;
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    let joined = form(&w, &anonymous, &path, &[("password", PASSWORD)], false).await?;
    assert_eq!(joined.status(), StatusCode::OK);
    let (status, html) = page(&w, &anonymous, &path).await?;
    assert_eq!(status, StatusCode::NOT_FOUND, "used up");
    assert!(html.contains("Invalid or expired link"));
    let again = form(&w, &anonymous, &path, &[("password", PASSWORD)], false).await?;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert!(sign_in(&w.server, "rio@a.example", None).await.is_ok());
    for bad in ["short", "%3Cscript%3E", &"A".repeat(43)] {
        let (status, html) = page(&w, &anonymous, &format!("/invite/{bad}")).await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
        assert!(!html.contains("<script>"));
    }

    // An existing account (Max, of B) is offered "join", not a password.
    form(
        &w,
        &w.admin_a,
        &format!("/orgs/{}/people/invite", w.org_a),
        &[
            ("name", "Max"),
            ("email", "max@b.example"),
            ("role", "member"),
        ],
        true,
    )
    .await?;
    let token = invitation_token(&app, w.org_a, "max@b.example").await?;
    let (_, html) = page(&w, &anonymous, &format!("/invite/{token}")).await?;
    assert!(!html.contains("name=\"password\"") && html.contains("id=\"invite-accept\""));
    let joined = form(&w, &anonymous, &format!("/invite/{token}"), &[], false).await?;
    assert_eq!(joined.status(), StatusCode::OK);
    assert!(sign_in(&w.server, "max@b.example", None).await.is_ok());
    w.server.shutdown().await;
    Ok(())
}

async fn people_page_searches_pages_and_acts_only_with_the_form_token(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db).await?;
    let app = w.server.app.clone();
    for i in 0..30 {
        let id = account(
            &app,
            &format!("p{i:02}@a.example"),
            &format!("Person {i:02}"),
            false,
        )
        .await?;
        join(&app, w.org_a, id, Role::Member, MembershipStatus::Active).await?;
    }
    let evil = account(
        &app,
        "evil@a.example",
        "<img src=x onerror=alert(1)>",
        false,
    )
    .await?;
    join(&app, w.org_a, evil, Role::Member, MembershipStatus::Active).await?;
    let people = format!("/orgs/{}/people", w.org_a);
    let (status, html) = page(&w, &w.admin_a, &people).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;") && !html.contains("<img src=x"));
    assert!(html.contains("id=\"next-page\""), "33 people, 25 a page");
    let (_, html) = page(&w, &w.admin_a, &format!("{people}?page=2")).await?;
    assert!(html.contains("2 / 2"));
    let (_, html) = page(&w, &w.admin_a, &format!("{people}?q=PERSON%2029")).await?;
    assert!(
        html.contains("Person 29") && !html.contains("Person 28") && !html.contains("Mia Member")
    );
    let (status, html) = page(&w, &w.admin_a, &format!("{people}?q={}", "x".repeat(201))).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"form-error\""));
    let (status, html) = page(&w, &w.admin_a, &format!("{people}?lang=ja")).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("メンバーを招待"));

    // Other tenants' admins and the operator: 404; members: 403.
    assert_eq!(
        page(&w, &w.admin_b, &people).await?.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        page(&w, &w.operator, &people).await?.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        page(&w, &w.member_a, &people).await?.0,
        StatusCode::FORBIDDEN
    );

    let disable = format!("{people}/{}/disable", w.member_a_id);
    assert_eq!(
        form(&w, &w.admin_a, &disable, &[], false).await?.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        form(&w, &w.admin_b, &disable, &[], true).await?.status(),
        StatusCode::NOT_FOUND
    );
    let member_status = || async {
        let mut tx = app.store.read().await?;
        anyhow::Ok(
            tx.membership(w.org_a, w.member_a_id)
                .await?
                .map(|m| m.status),
        )
    };
    assert_eq!(
        member_status().await?,
        Some(MembershipStatus::Active),
        "nothing changed"
    );
    let done = form(&w, &w.admin_a, &disable, &[], true).await?;
    assert_eq!(location(&done), format!("{people}?notice=disabled"));
    assert_eq!(member_status().await?, Some(MembershipStatus::Disabled));
    let (_, html) = page(&w, &w.admin_a, &location(&done)).await?;
    assert!(html.contains("id=\"notice\""));
    let done = form(
        &w,
        &w.admin_a,
        &format!("{people}/{}/enable", w.member_a_id),
        &[],
        true,
    )
    .await?;
    assert_eq!(location(&done), format!("{people}?notice=enabled"));

    let role = format!("{people}/{}/role", w.member_a_id);
    assert_eq!(
        form(&w, &w.admin_a, &role, &[("role", "org_admin")], false)
            .await?
            .status(),
        StatusCode::FORBIDDEN
    );
    let done = form(&w, &w.admin_a, &role, &[("role", "org_admin")], true).await?;
    assert_eq!(location(&done), format!("{people}?notice=role"));
    let bad = form(&w, &w.admin_a, &role, &[("role", "<b>root</b>")], true).await?;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Removing: a confirmation page names the person; the form needs the token.
    let confirm = format!("{people}/{evil}/delete");
    let (status, html) = page(&w, &w.admin_a, &confirm).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;") && html.contains("evil@a.example"));
    assert_eq!(
        page(&w, &w.admin_b, &confirm).await?.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        form(&w, &w.admin_a, &confirm, &[], false).await?.status(),
        StatusCode::FORBIDDEN
    );
    let seats_before = seats(&app, w.org_a).await?;
    let done = form(&w, &w.admin_a, &confirm, &[], true).await?;
    assert_eq!(location(&done), format!("{people}?notice=deleted"));
    assert_eq!(seats(&app, w.org_a).await?, seats_before - 1);

    // The last active org admin cannot disable themselves: the page says why.
    let own = form(
        &w,
        &w.admin_a,
        &format!("{people}/{}/role", w.member_a_id),
        &[("role", "member")],
        true,
    )
    .await?;
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
    let own = form(
        &w,
        &w.admin_a,
        &format!("{people}/{}/disable", w.admin_a_id),
        &[],
        true,
    )
    .await?;
    assert_eq!(own.status(), StatusCode::CONFLICT);
    assert!(own.text().await?.contains("last active org admin"));
    // A stale sign-in is sent to re-authenticate, and nothing changes.
    w.server.db.clock.advance_ms(11 * 60 * 1000);
    let stale = form(
        &w,
        &w.admin_a,
        &format!("{people}/{}/role", w.member_a_id),
        &[("role", "org_admin")],
        true,
    )
    .await?;
    assert_eq!(stale.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&stale), format!("/step-up?next={people}"));
    let actions: Vec<String> = audit(&app, Scope::Tenant(w.org_a))
        .await?
        .into_iter()
        .map(|a| a.0)
        .collect();
    assert_eq!(
        actions,
        [
            "user_disabled",
            "user_enabled",
            "authz_role_change",
            "user_deleted",
            "authz_role_change"
        ]
    );
    w.server.shutdown().await;
    Ok(())
}

/// In Chromium: the operator signs in through the form, creates an organisation, invites its
/// first admin; the admin opens the link from the e-mail received over SMTP, sets a password and
/// signs in.
#[tokio::test]
async fn operator_creates_an_organisation_and_its_first_admin_joins_in_chromium()
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
    let operator = account(&app, "opal@example.com", "Opal Operator", true).await?;
    let secret = enrol_totp(&app, operator).await?;
    let c = &browser.client;
    let fill = |id: &'static str, text: String| async move {
        c.find(Locator::Id(id)).await?.send_keys(&text).await?;
        anyhow::Ok(())
    };

    c.goto(&server.url("/sign-in?next=/operator/orgs")).await?;
    fill("email", "opal@example.com".into()).await?;
    fill("password", PASSWORD.into()).await?;
    let code = totp_code(&secret, totp_step(app.clock.now_ms()), 6).unwrap();
    fill("totp", code).await?;
    c.find(Locator::Id("sign-in-submit")).await?.click().await?;
    // Sign-in hashes a password: wait for the page it leads to rather than assume it is there.
    c.wait().for_element(Locator::Id("no-orgs")).await?;
    assert!(c.current_url().await?.path().ends_with("/operator/orgs"));

    fill("name", "Harbour <Lofts>".into()).await?;
    fill("contact_email", "office@harbour.example".into()).await?;
    fill("seat_limit", "5".into()).await?;
    c.find(Locator::Id("create-org")).await?.click().await?;
    c.wait().for_element(Locator::Id("org-name")).await?;
    assert_eq!(
        c.find(Locator::Id("org-name")).await?.text().await?,
        "Harbour <Lofts>"
    );
    assert!(c.find(Locator::Id("notice")).await.is_ok());
    fill("invite-name", "Hana Admin".into()).await?;
    fill("invite-email", "hana@harbour.example".into()).await?;
    let mut invited = c.current_url().await?;
    invited.set_query(Some("notice=invited"));
    c.find(Locator::Id("invite-admin")).await?.click().await?;
    c.wait().for_url(invited).await?;
    assert!(
        c.find(Locator::Id("notice"))
            .await?
            .text()
            .await?
            .contains("invitation")
    );

    app.deliver_due_mail().await?;
    let received = smtp.received();
    let mail = received
        .iter()
        .find(|m| m.rcpt_to == ["hana@harbour.example"])
        .ok_or_else(|| anyhow::anyhow!("no invitation e-mail"))?;
    let body = mail.body();
    let at = body.find("http").unwrap();
    let link: String = body[at..]
        .chars()
        .take_while(|ch| !ch.is_whitespace())
        .collect();
    assert!(link.starts_with(&server.url("/invite/")), "{link}");
    assert_eq!(link.len(), server.url("/invite/").len() + 43, "{link}");
    c.goto(&link).await?;
    assert_eq!(
        c.find(Locator::Id("invite-org")).await?.text().await?,
        "Harbour <Lofts>"
    );
    // Not the shared test password: it contains "harbour", the organisation's name.
    let hana_password = "quiet-meadow-compass-42";
    fill("password", "harbour-lofts-2026".into()).await?;
    c.find(Locator::Id("invite-accept")).await?.click().await?;
    c.wait().for_element(Locator::Id("invite-error")).await?;
    let refused = c.find(Locator::Id("invite-error")).await?.text().await?;
    assert!(
        refused.contains("organisation"),
        "the reason is given: {refused}"
    );
    fill("password", hana_password.into()).await?;
    c.find(Locator::Id("invite-accept")).await?.click().await?;
    c.wait().for_element(Locator::Id("message")).await?;
    assert!(
        c.find(Locator::Id("message"))
            .await?
            .text()
            .await?
            .contains("Sign in")
    );

    c.find(Locator::Id("sign-out")).await?.click().await?;
    c.wait().for_element(Locator::Id("sign-in-submit")).await?;
    c.goto(&server.url("/sign-in")).await?;
    fill("email", "hana@harbour.example".into()).await?;
    fill("password", hana_password.into()).await?;
    c.find(Locator::Id("sign-in-submit")).await?.click().await?;
    c.wait().for_element(Locator::Id("my-orgs")).await?;
    let orgs = c.find(Locator::Id("my-orgs")).await?.text().await?;
    assert!(orgs.contains("Harbour <Lofts>"), "{orgs}");
    assert!(
        c.find(Locator::Id("mfa-banner")).await.is_ok(),
        "admins are told to set up MFA"
    );
    // The only "error" is the refused password's 422 page; no CSP violation, no script error.
    let errors = browser.console_errors().await?;
    assert!(
        errors.iter().all(|e| e.contains("status of 422")),
        "console errors: {errors:?}"
    );
    browser.close().await?;
    server.shutdown().await;
    Ok(())
}
