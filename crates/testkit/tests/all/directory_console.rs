//! The directory and access console pages: the issue's scenario end to end in Chromium (a site
//! in Asia/Tokyo, a building and a room, a lock, a group with a member, a weekday grant, and
//! "who can open" at Tuesday 10:00 and 20:00 local), one Chromium walk through the other page
//! areas (refusals next to the field, keyboard, Japanese, bulk revocation, delegation tree),
//! and over plain HTTP the pages' authorization (the services': 403 for too low a role, 404 for
//! another tenant's ids), CSRF refusal and kept input on both backends.

use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use latchkey_domain::OrgId;
use latchkey_testkit::fixtures::{self, FIXTURE_PASSWORD, Person};
use latchkey_testkit::{ApiSession, Browser, TestDb, TestServer};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    console_pages_follow_the_services_authorization,
    console_forms_refuse_next_to_the_field_and_keep_what_was_typed,
    profile_and_scope_pages_set_what_a_manager_reaches,
);

// ---------------------------------------------------------------------------------------------
// A world arranged through the REST API (the same services the pages call).

/// Organisation A: site HQ (Asia/Tokyo) with Tower ─ Room 301, lock Door 301 in the room, group
/// Staff with the member, a weekday grant for Staff on Tower (unlock + share) and one grant the
/// member shared from it with the friend. Organisation B: an admin.
struct World {
    server: TestServer,
    org_a: OrgId,
    admin: Person,
    member: Person,
    friend: Person,
    admin_a: ApiSession,
    admin_b: ApiSession,
    member_a: ApiSession,
    site: String,
    tower: String,
    room: String,
    door: String,
    staff: String,
    grant: String,
    shared: String,
}

async fn signed_in(server: &TestServer, person: &Person) -> anyhow::Result<ApiSession> {
    ApiSession::sign_in(
        server,
        &person.email,
        FIXTURE_PASSWORD,
        person.code(&server.app).as_deref(),
    )
    .await
}

async fn create(s: &ApiSession, path: &str, body: Value) -> anyhow::Result<String> {
    let (status, value) = s.call(Method::POST, path, Some(body)).await?;
    anyhow::ensure!(status.is_success(), "POST {path}: {status} {value}");
    Ok(value["id"].as_str().unwrap_or_default().to_owned())
}

async fn world(db: TestDb) -> anyhow::Result<World> {
    let server = TestServer::start(db).await?;
    let app = server.app.clone();
    let org_a = fixtures::organisation(&app, "Acme Tower", 50).await?;
    let org_b = fixtures::organisation(&app, "Bravo Flats", 50).await?;
    let admin = fixtures::admin_of(&app, org_a, "ada@a.example").await?;
    let admin_b = fixtures::admin_of(&app, org_b, "bea@b.example").await?;
    let member = fixtures::member_of(&app, org_a, "mia@a.example").await?;
    let friend = fixtures::member_of(&app, org_a, "fritz@a.example").await?;
    let admin_a = signed_in(&server, &admin).await?;
    let admin_b_s = signed_in(&server, &admin_b).await?;
    let member_a = signed_in(&server, &member).await?;
    let a = format!("/api/v1/orgs/{org_a}");
    let site = create(
        &admin_a,
        &format!("{a}/sites"),
        json!({"name": "HQ", "time_zone": "Asia/Tokyo"}),
    )
    .await?;
    let tower = create(
        &admin_a,
        &format!("{a}/spaces"),
        json!({"site_id": site, "name": "Tower", "kind": "building"}),
    )
    .await?;
    let room = create(
        &admin_a,
        &format!("{a}/spaces"),
        json!({"site_id": site, "parent_id": tower, "name": "Room 301", "kind": "room"}),
    )
    .await?;
    let door = create(
        &admin_a,
        &format!("{a}/devices"),
        json!({"kind": "lock", "name": "Door 301", "space_id": room}),
    )
    .await?;
    let staff = create(
        &admin_a,
        &format!("{a}/groups"),
        json!({"name": "Staff", "members": [member.id.to_string()]}),
    )
    .await?;
    let grant = create(
        &admin_a,
        &format!("{a}/grants"),
        json!({
            "subject": {"kind": "group", "id": staff},
            "target": {"kind": "space", "id": tower},
            "rights": ["unlock", "share"],
            "reshare_depth": 1,
            "schedule": {"valid_from": "2026-11-29T00:00:00Z",
                "weekly": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}]},
        }),
    )
    .await?;
    let shared = create(
        &member_a,
        &format!("{a}/grants/{grant}/shares"),
        json!({
            "person_id": friend.id.to_string(),
            "target": {"kind": "lock", "id": door},
            "schedule": {"valid_from": "2026-11-30T00:00:00Z", "valid_until": "2026-12-05T00:00:00Z",
                "weekly": [{"days": ["tue"], "start": "10:00", "end": "12:00"}]},
        }),
    )
    .await?;
    Ok(World {
        server,
        org_a,
        admin,
        member,
        friend,
        admin_a,
        admin_b: admin_b_s,
        member_a,
        site,
        tower,
        room,
        door,
        staff,
        grant,
        shared,
    })
}

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

async fn form_owned(
    w: &World,
    who: &ApiSession,
    path: &str,
    fields: Vec<(String, String)>,
) -> anyhow::Result<Response> {
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    form(w, who, path, &fields, true).await
}

fn location(response: &Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn space_count(w: &World) -> anyhow::Result<usize> {
    let (_, value) = w
        .admin_a
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{}/spaces", w.org_a),
            None,
        )
        .await?;
    Ok(value["items"].as_array().map_or(0, Vec::len))
}

// ---------------------------------------------------------------------------------------------
// Over HTTP

async fn console_pages_follow_the_services_authorization(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let o = w.org_a;
    let admin_pages = [
        format!("/orgs/{o}/sites"),
        format!("/orgs/{o}/sites/{}", w.site),
        format!("/orgs/{o}/spaces/{}", w.tower),
        format!("/orgs/{o}/spaces/{}/delete", w.room),
        format!("/orgs/{o}/groups"),
        format!("/orgs/{o}/groups/{}", w.staff),
        format!(
            "/orgs/{o}/groups/{}/members/{}/remove",
            w.staff, w.member.id
        ),
        format!("/orgs/{o}/devices"),
        format!("/orgs/{o}/devices/{}", w.door),
        format!("/orgs/{o}/grants/new"),
        format!("/orgs/{o}/locks/{}/access", w.door),
        format!("/orgs/{o}/people/{}/access", w.friend.id),
    ];
    for path in &admin_pages {
        let (status, html) = page(&w, &w.admin_a, path).await?;
        assert_eq!(status, StatusCode::OK, "admin of A: {path}");
        assert!(
            html.contains("id=\"nav-sites\""),
            "nav offers the directory: {path}"
        );
        // A member of A: the role does not reach directory administration (403 page).
        let (status, _) = page(&w, &w.member_a, path).await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "member of A: {path}");
        // An admin of B: A's objects do not exist for them (404 page, never 403).
        let (status, _) = page(&w, &w.admin_b, path).await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "admin of B: {path}");
        // Signed out: to the sign-in page.
        let (status, _) = page(&w, &ApiSession::anonymous(&w.server), path).await?;
        assert_eq!(status, StatusCode::SEE_OTHER, "anonymous: {path}");
    }
    // Members see their own access and their own grants, and nothing of the directory in the nav.
    let (status, html) = page(&w, &w.member_a, &format!("/orgs/{o}/my-access")).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("id=\"what-heading\"") && html.contains("id=\"nothing\""),
        "{html}"
    );
    assert!(!html.contains("id=\"nav-sites\"") && html.contains("id=\"nav-grants\""));
    let (status, _) = page(
        &w,
        &w.member_a,
        &format!("/orgs/{o}/people/{}/access", w.member.id),
    )
    .await?;
    assert_eq!(status, StatusCode::OK, "about themselves");
    let (status, html) = page(&w, &w.member_a, &format!("/orgs/{o}/grants")).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&w.shared),
        "the member's shared grant is listed"
    );
    let (status, _) = page(&w, &w.member_a, &format!("/orgs/{o}/grants/{}", w.shared)).await?;
    assert_eq!(status, StatusCode::OK, "the member shared it");
    // A grant given to the member's group: they see it (and what they shared from it), B's
    // admin does not.
    let revoke_page = format!("/orgs/{o}/grants/{}/revoke", w.grant);
    assert_eq!(page(&w, &w.admin_a, &revoke_page).await?.0, StatusCode::OK);
    let (status, html) = page(&w, &w.member_a, &format!("/orgs/{o}/grants/{}", w.grant)).await?;
    assert_eq!(status, StatusCode::OK, "a holder through the group");
    assert!(html.contains(&w.shared), "with the share in its tree");
    let (status, html) = page(
        &w,
        &w.member_a,
        &format!("/orgs/{o}/grants/{}/revoke", w.shared),
    )
    .await?;
    assert_eq!(
        status,
        StatusCode::OK,
        "the member may revoke what they shared"
    );
    assert!(html.contains("id=\"confirm-revoke\""));
    assert_eq!(
        page(&w, &w.admin_b, &revoke_page).await?.0,
        StatusCode::NOT_FOUND
    );
    // The admin of B asks for A's pages: 404 everywhere, including the grant and the review.
    let (status, _) = page(&w, &w.admin_b, &format!("/orgs/{o}/grants/{}", w.grant)).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = page(&w, &w.admin_b, &format!("/orgs/{o}/grants")).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Malformed ids are the 404 page too.
    let (status, _) = page(&w, &w.admin_a, &format!("/orgs/{o}/spaces/not-an-id")).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Forms: another tenant's admin changes nothing (404), a member is refused (403), a form
    // without the session's token is refused (403); nothing changed.
    let before = space_count(&w).await?;
    let add_space = format!("/orgs/{o}/sites/{}", w.site);
    let fields = [("name", "Annex"), ("kind", "building"), ("parent_id", "")];
    assert_eq!(
        form(&w, &w.admin_b, &add_space, &fields, true)
            .await?
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        form(&w, &w.member_a, &add_space, &fields, true)
            .await?
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        form(&w, &w.admin_a, &add_space, &fields, false)
            .await?
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(space_count(&w).await?, before, "nothing created");
    let revoke = format!("/orgs/{o}/grants/{}/revoke", w.grant);
    assert_eq!(
        form(&w, &w.admin_b, &revoke, &[], true).await?.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        form(&w, &w.member_a, &revoke, &[], true).await?.status(),
        StatusCode::FORBIDDEN,
        "a holder cannot revoke what they were given"
    );
    let bulk = format!("/orgs/{o}/grants/revoke");
    let bulk_fields = [("grant", w.grant.as_str()), ("confirm", "yes")];
    assert_eq!(
        form(&w, &w.member_a, &bulk, &bulk_fields, true)
            .await?
            .status(),
        StatusCode::FORBIDDEN,
        "bulk revocation is for org admins"
    );
    let (_, html) = page(&w, &w.admin_a, &format!("/orgs/{o}/grants/{}", w.grant)).await?;
    assert!(html.contains("id=\"revoke-grant\""), "still in force");
    let created = form(&w, &w.admin_a, &add_space, &fields, true).await?;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&created),
        format!("/orgs/{o}/sites/{}?notice=space_created", w.site)
    );
    assert_eq!(space_count(&w).await?, before + 1);

    // Tuesday 10:30 in Tokyo: confirmation pages say who stops opening what, right now.
    w.server.db.clock.set_ms(1_796_088_600_000); // 2026-12-01T01:30:00Z
    let admin = signed_in(&w.server, &w.admin).await?;
    let (status, html) = page(&w, &admin, &format!("/orgs/{o}/grants/{}/revoke", w.grant)).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("2026-12-01 10:30 Asia/Tokyo"), "{html}");
    assert!(
        html.contains("id=\"impact-lose-count\">2<"),
        "the member and the friend's share"
    );
    assert!(
        html.contains("mia@a.example) — Door 301") && html.contains("fritz@a.example) — Door 301")
    );
    let remove = format!(
        "/orgs/{o}/groups/{}/members/{}/remove",
        w.staff, w.member.id
    );
    let (status, html) = page(&w, &admin, &remove).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("id=\"impact-lose-count\">2<") && html.contains("mia@a.example) — Door 301")
    );
    // The friend's share lapses too: the member who shared it no longer holds the parent.
    assert!(html.contains("fritz@a.example) — Door 301"));
    let removed = form(&w, &admin, &remove, &[], true).await?;
    assert_eq!(
        location(&removed),
        format!("/orgs/{o}/groups/{}?notice=member_removed", w.staff)
    );
    let (_, html) = page(&w, &admin, &format!("/orgs/{o}/locks/{}/access", w.door)).await?;
    assert!(
        !html.contains(&format!("data-person=\"{}\"", w.member.id)),
        "next request"
    );
    w.server.shutdown().await;
    Ok(())
}

/// Fields a refusal case adds to the grant editor's form.
type Extra = &'static [(&'static str, &'static str)];

async fn console_forms_refuse_next_to_the_field_and_keep_what_was_typed(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db).await?;
    let o = w.org_a;
    // A cycle: Tower under its own room.
    let moved = form(
        &w,
        &w.admin_a,
        &format!("/orgs/{o}/spaces/{}", w.tower),
        &[("action", "move"), ("parent_id", w.room.as_str())],
        true,
    )
    .await?;
    assert_eq!(moved.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = moved.text().await?;
    assert!(
        html.contains("id=\"move-parent-error\""),
        "next to the field"
    );
    // Deleting a space that holds a device: refused with the reason, nothing deleted.
    let before = space_count(&w).await?;
    let deleted = form(
        &w,
        &w.admin_a,
        &format!("/orgs/{o}/spaces/{}/delete", w.room),
        &[],
        true,
    )
    .await?;
    assert_eq!(deleted.status(), StatusCode::CONFLICT);
    let html = deleted.text().await?;
    assert!(
        html.contains("1 device(s)") && html.contains(&w.door),
        "the reason"
    );
    assert!(
        html.contains("<li>Door 301</li>"),
        "what is inside, by name"
    );
    assert_eq!(space_count(&w).await?, before);
    // A bad time zone, kept as typed and escaped.
    let site = form(
        &w,
        &w.admin_a,
        &format!("/orgs/{o}/sites"),
        &[("name", "Kept <b>site</b>"), ("time_zone", "Mars/Olympus")],
        true,
    )
    .await?;
    assert_eq!(site.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = site.text().await?;
    assert!(html.contains("id=\"site-time-zone-error\""));
    assert!(html.contains("Kept &lt;b&gt;site&lt;/b&gt;") && html.contains("Mars/Olympus"));
    // The grant editor: end before start, a bad end time, an unparseable date — each next to
    // its field, every typed value kept, no grant made.
    let editor = format!("/orgs/{o}/grants/new");
    let subject = format!("group:{}", w.staff);
    let target = format!("space:{}", w.tower);
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut f: Vec<(String, String)> = vec![
            ("site".into(), w.site.clone()),
            ("subject".into(), subject.clone()),
            ("target".into(), target.clone()),
            ("rights".into(), "unlock".into()),
            ("windows".into(), "1".into()),
            ("w0_day".into(), "mon".into()),
            ("w0_day".into(), "wed".into()),
            ("w0_start".into(), "09:00".into()),
            ("w0_end".into(), "18:00".into()),
            ("note".into(), "kept note".into()),
        ];
        f.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        f
    };
    let grants_before = w
        .admin_a
        .call(Method::GET, &format!("/api/v1/orgs/{o}/grants"), None)
        .await?
        .1["grants"]
        .as_array()
        .map_or(0, Vec::len);
    let cases: [(Extra, &str, &str); 3] = [
        (
            &[("from_date", "2026-12-10"), ("until_date", "2026-12-01")],
            "g-until-error",
            "after",
        ),
        (&[("from_date", "2026-12-32")], "g-from-error", "YYYY-MM-DD"),
        (&[("from_date", "2026-12-01")], "g-weekly-error", "HH:MM"),
    ];
    for (i, (extra, error_id, says)) in cases.iter().enumerate() {
        let mut fields = base(extra);
        if i == 2 {
            fields.retain(|(k, _)| k != "w0_end");
            fields.push(("w0_end".into(), "25:00".into()));
        }
        let refused = form_owned(&w, &w.admin_a, &editor, fields).await?;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "case {i}"
        );
        let html = refused.text().await?;
        let at = html
            .find(&format!("id=\"{error_id}\""))
            .unwrap_or_else(|| panic!("case {i}: {html}"));
        assert!(
            html[at..].split("</p>").next().unwrap().contains(says),
            "case {i}"
        );
        assert!(
            html.contains("value=\"kept note\""),
            "case {i}: typed note kept"
        );
        assert!(
            html.contains("id=\"w0-wed\" checked"),
            "case {i}: ticked days kept"
        );
        assert!(
            html.contains(&format!("value=\"{subject}\" selected")),
            "case {i}"
        );
    }
    // Too many windows: the service's cap, next to the windows, nothing created.
    let mut many = base(&[]);
    many.retain(|(k, _)| !k.starts_with("w") && k != "windows");
    many.push(("windows".into(), "301".into()));
    for i in 0..301 {
        many.push((format!("w{i}_day"), "mon".into()));
        many.push((format!("w{i}_start"), "09:00".into()));
        many.push((format!("w{i}_end"), "10:00".into()));
    }
    let refused = form_owned(&w, &w.admin_a, &editor, many).await?;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await?;
    let at = html
        .find("id=\"g-weekly-error\"")
        .expect("next to the windows");
    assert!(html[at..].contains("at most 300 weekly windows"));
    // "Add a window" keeps everything and adds a row; nothing is created.
    let more = form_owned(&w, &w.admin_a, &editor, base(&[("action", "more")])).await?;
    assert_eq!(more.status(), StatusCode::OK);
    let html = more.text().await?;
    assert!(html.contains("id=\"w1-start\"") && html.contains("value=\"kept note\""));
    let grants_after = w
        .admin_a
        .call(Method::GET, &format!("/api/v1/orgs/{o}/grants"), None)
        .await?
        .1["grants"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(grants_after, grants_before, "no grant made");
    // Who can open: an unparseable instant is explained next to the field.
    let (status, html) = page(
        &w,
        &w.admin_a,
        &format!(
            "/orgs/{o}/locks/{}/access?date=2026-02-30&time=10:00",
            w.door
        ),
    )
    .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"at-error\"") && html.contains("2026-02-30"));
    // A valid one answers in the site's zone, with the friend's shared grant on Tuesday 11:00.
    let (status, html) = page(
        &w,
        &w.admin_a,
        &format!(
            "/orgs/{o}/locks/{}/access?date=2026-12-01&time=11:00",
            w.door
        ),
    )
    .await?;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("2026-12-01 11:00 Asia/Tokyo"));
    assert!(html.contains(&format!("data-person=\"{}\"", w.member.id)));
    assert!(html.contains(&format!("data-person=\"{}\"", w.friend.id)));
    assert!(!html.contains(&format!("data-person=\"{}\"", w.admin.id)));
    w.server.shutdown().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// In Chromium

async fn fill(c: &Client, id: &str, text: &str) -> anyhow::Result<()> {
    let field = c.find(Locator::Id(id)).await?;
    field.clear().await?;
    field.send_keys(text).await?;
    Ok(())
}

async fn choose(c: &Client, id: &str, label: &str) -> anyhow::Result<()> {
    c.find(Locator::Id(id))
        .await?
        .select_by_label(label)
        .await?;
    Ok(())
}

async fn click(c: &Client, id: &str) -> anyhow::Result<()> {
    c.find(Locator::Id(id)).await?.click().await?;
    Ok(())
}

async fn text_of(c: &Client, id: &str) -> anyhow::Result<String> {
    Ok(c.find(Locator::Id(id)).await?.text().await?)
}

/// Waits for an element (pages load after a click; never read state right after it).
async fn wait_for(c: &Client, locator: Locator<'_>) -> anyhow::Result<Element> {
    Ok(c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(locator)
        .await?)
}

/// Presses Tab from the top of the page until `id` has the focus: the form is reachable with
/// the keyboard alone.
async fn tab_to(c: &Client, id: &str) -> anyhow::Result<()> {
    c.find(Locator::Css("body")).await?.click().await?;
    for _ in 0..80 {
        c.active_element().await?.send_keys("\u{E004}").await?;
        if c.active_element().await?.attr("id").await?.as_deref() == Some(id) {
            return Ok(());
        }
    }
    anyhow::bail!("#{id} is not reachable with Tab")
}

async fn sign_in_browser(
    c: &Client,
    server: &TestServer,
    person: &Person,
    next: &str,
    ready: &str,
) -> anyhow::Result<()> {
    c.goto(&server.url(&format!("/sign-in?next={next}")))
        .await?;
    fill(c, "email", &person.email).await?;
    fill(c, "password", FIXTURE_PASSWORD).await?;
    if let Some(code) = person.code(&server.app) {
        fill(c, "totp", &code).await?;
    }
    click(c, "sign-in-submit").await?;
    wait_for(c, Locator::Id(ready)).await?;
    Ok(())
}

/// Only the refused forms' 422 and 409 pages may appear in the console log: no CSP violation,
/// no script error.
async fn assert_clean_console(browser: &Browser) -> anyhow::Result<()> {
    let errors = browser.console_errors().await?;
    assert!(
        errors
            .iter()
            .all(|e| e.contains("status of 422") || e.contains("status of 409")),
        "console errors: {errors:?}"
    );
    Ok(())
}

/// The issue's scenario through the console pages only; the accounts come from fixtures.
#[tokio::test]
async fn the_issue_scenario_through_the_console_in_chromium() -> anyhow::Result<()> {
    let Some(browser) = Browser::start().await? else {
        return Ok(());
    };
    let server = TestServer::start(TestDb::sqlite()?).await?;
    let app = server.app.clone();
    let org = fixtures::organisation(&app, "Acme Tower", 20).await?;
    let admin = fixtures::admin_of(&app, org, "ada@a.example").await?;
    let member = fixtures::member_of(&app, org, "mia@a.example").await?;
    let c = &browser.client;

    sign_in_browser(
        c,
        &server,
        &admin,
        &format!("/orgs/{org}/sites"),
        "no-sites",
    )
    .await?;
    // A site in Tokyo, created with the keyboard alone (Tab to the field, Enter submits).
    tab_to(c, "site-name").await?;
    c.active_element().await?.send_keys("Tokyo Office").await?;
    c.active_element().await?.send_keys("\u{E004}").await?;
    c.active_element()
        .await?
        .send_keys("Asia/Tokyo\u{E007}")
        .await?;
    wait_for(c, Locator::Id("no-spaces")).await?;
    assert_eq!(text_of(c, "site-zone").await?, "Asia/Tokyo");

    // A building, then a room inside it.
    fill(c, "space-name", "Tower").await?;
    fill(c, "space-kind", "building").await?;
    click(c, "create-space").await?;
    wait_for(c, Locator::Id("space-tree")).await?;
    fill(c, "space-name", "Room 301").await?;
    fill(c, "space-kind", "room").await?;
    choose(c, "space-parent", "Tower").await?;
    click(c, "create-space").await?;
    let room = wait_for(
        c,
        Locator::XPath("//ul[@id='space-tree']/li/ul/li/a[text()='Room 301']"),
    )
    .await?;

    // Moving the building into its own room is refused next to the field.
    c.find(Locator::LinkText("Tower")).await?.click().await?;
    wait_for(c, Locator::Id("move-parent")).await?;
    choose(c, "move-parent", "Tower › Room 301").await?;
    click(c, "move-space").await?;
    let refusal = wait_for(c, Locator::Id("move-parent-error"))
        .await?
        .text()
        .await?;
    assert!(!refusal.is_empty(), "the service says why");
    let _ = room;

    // A lock in the room, from the room's page ("add a device here").
    c.find(Locator::LinkText("Room 301")).await?.click().await?;
    wait_for(c, Locator::Id("space-empty")).await?;
    c.find(Locator::LinkText("Add a device here"))
        .await?
        .click()
        .await?;
    wait_for(c, Locator::Id("create-device")).await?;
    fill(c, "device-name", "Room 301 door").await?;
    choose(c, "device-kind", "Lock").await?;
    let space_label = "Tokyo Office › Tower › Room 301";
    let selected = c
        .find(Locator::Css("#device-space option:checked"))
        .await?
        .text()
        .await?;
    assert_eq!(selected, space_label, "the form starts placed in the room");
    click(c, "create-device").await?;
    wait_for(c, Locator::Id("who-can-open")).await?;
    let lock_page = c.current_url().await?;

    // A group with the member.
    click(c, "nav-groups").await?;
    wait_for(c, Locator::Id("no-groups")).await?;
    fill(c, "group-name", "Staff").await?;
    click(c, "create-group").await?;
    wait_for(c, Locator::Id("no-members")).await?;
    choose(c, "member-account", "Fixture Person (mia@a.example)").await?;
    click(c, "add-member").await?;
    wait_for(c, Locator::Id("members")).await?;
    assert!(text_of(c, "members").await?.contains("mia@a.example"));

    // The grant: Staff, the building with its subtree, weekdays 09:00–18:00 Tokyo time.
    click(c, "nav-grants").await?;
    wait_for(c, Locator::Id("new-grant")).await?;
    click(c, "new-grant").await?;
    wait_for(c, Locator::Id("g-subject")).await?;
    assert_eq!(
        text_of(c, "g-zone").await?,
        "Asia/Tokyo",
        "the zone is named"
    );
    choose(c, "g-subject", "Group: Staff").await?;
    choose(c, "g-target", "Space: Tower (whole subtree)").await?;
    for day in ["mon", "tue", "wed", "thu", "fri"] {
        click(c, &format!("w0-{day}")).await?;
    }
    fill(c, "w0-start", "09:00").await?;
    fill(c, "w0-end", "18:60").await?;
    click(c, "create-grant").await?;
    let refusal = wait_for(c, Locator::Id("g-weekly-error"))
        .await?
        .text()
        .await?;
    assert!(refusal.contains("HH:MM"), "{refusal}");
    assert_eq!(
        c.find(Locator::Id("w0-start"))
            .await?
            .prop("value")
            .await?
            .as_deref(),
        Some("09:00"),
        "typed values kept"
    );
    assert!(c.find(Locator::Id("w0-tue")).await?.is_selected().await?);
    fill(c, "w0-end", "18:00").await?;
    click(c, "create-grant").await?;
    wait_for(c, Locator::Id("grant-summary")).await?;
    assert_eq!(
        text_of(c, "grant-summary").await?,
        "Staff · Tower (whole subtree) · unlock · Mon–Fri 09:00–18:00 Asia/Tokyo"
    );

    // Who can open the room's door on Tuesday 2026-12-01 at 10:00 Tokyo time: the member, via
    // the group and the building.
    c.goto(lock_page.as_str()).await?;
    click(c, "who-can-open").await?;
    wait_for(c, Locator::Id("at-date")).await?;
    fill(c, "at-date", "2026-12-01").await?;
    fill(c, "at-time", "10:00").await?;
    click(c, "at-submit").await?;
    let listed = wait_for(
        c,
        Locator::Css(&format!("#who-can-open li[data-person='{}']", member.id)),
    )
    .await?
    .text()
    .await?;
    assert!(listed.contains("via group Staff"), "{listed}");
    assert!(listed.contains("via space Tower"), "{listed}");
    assert_eq!(text_of(c, "at-text").await?, "2026-12-01 10:00 Asia/Tokyo");

    // At 20:00 nobody; "why not" for the member says the time is outside the window.
    fill(c, "at-time", "20:00").await?;
    click(c, "at-submit").await?;
    wait_for(c, Locator::Id("nobody")).await?;
    choose(c, "why-person", "Fixture Person (mia@a.example)").await?;
    click(c, "why-submit").await?;
    let verdict = wait_for(c, Locator::Id("verdict-text"))
        .await?
        .text()
        .await?;
    assert!(verdict.contains("may not open"), "{verdict}");
    assert!(
        verdict.contains("outside the schedule's windows"),
        "{verdict}"
    );
    assert!(verdict.contains("2026-12-01 20:00 Asia/Tokyo"), "{verdict}");
    assert!(text_of(c, "near-misses").await?.contains("Staff"));

    assert_clean_console(&browser).await?;
    browser.close().await?;
    server.shutdown().await;
    Ok(())
}

/// The other page areas in one browser: groups, devices, the review with bulk revocation, a
/// grant's delegation tree, "what can P open", space deletion refused, and a Japanese page.
#[tokio::test]
async fn directory_and_access_pages_in_chromium() -> anyhow::Result<()> {
    let Some(browser) = Browser::start().await? else {
        return Ok(());
    };
    let w = world(TestDb::sqlite()?).await?;
    let o = w.org_a;
    // The API sign-ins used this step's codes: the browser signs in with the next one.
    w.server.db.clock.advance_ms(30_000);
    let c = &browser.client;
    sign_in_browser(
        c,
        &w.server,
        &w.admin,
        &format!("/orgs/{o}/groups"),
        "groups",
    )
    .await?;

    // Groups: a blank name is refused next to the field (the form is reachable by keyboard).
    tab_to(c, "group-name").await?;
    c.active_element().await?.send_keys("   \u{E007}").await?;
    let refusal = wait_for(c, Locator::Id("group-name-error"))
        .await?
        .text()
        .await?;
    assert!(refusal.contains("name"), "{refusal}");
    c.find(Locator::LinkText("Staff")).await?.click().await?;
    wait_for(c, Locator::Id("members")).await?;
    choose(c, "member-account", "Fixture Person (fritz@a.example)").await?;
    click(c, "add-member").await?;
    wait_for(c, Locator::Id("notice")).await?;
    assert!(text_of(c, "members").await?.contains("fritz@a.example"));

    // Devices: a lock without a place is refused next to the place; typed name kept.
    click(c, "nav-devices").await?;
    wait_for(c, Locator::Id("devices")).await?;
    fill(c, "device-name", "Loose lock").await?;
    choose(c, "device-kind", "Lock").await?;
    choose(c, "device-space", "(not placed)").await?;
    click(c, "create-device").await?;
    let refusal = wait_for(c, Locator::Id("device-space-error"))
        .await?
        .text()
        .await?;
    assert!(refusal.contains("space"), "{refusal}");
    assert_eq!(
        c.find(Locator::Id("device-name"))
            .await?
            .prop("value")
            .await?
            .as_deref(),
        Some("Loose lock")
    );
    // Filters: only hubs → none.
    choose(c, "filter-kind", "Hub").await?;
    click(c, "filter-devices").await?;
    wait_for(c, Locator::Id("no-devices")).await?;

    // A space that holds a device cannot be deleted: the confirm page says why.
    c.goto(&w.server.url(&format!("/orgs/{o}/spaces/{}", w.room)))
        .await?;
    click(c, "delete-space").await?;
    click(c, "confirm-delete").await?;
    let refusal = wait_for(c, Locator::Id("form-error")).await?.text().await?;
    assert!(refusal.contains("1 device(s)"), "{refusal}");
    assert!(text_of(c, "delete-inside").await?.contains("Door 301"));

    // The grant in words with its delegation tree (the member's share below it).
    c.goto(&w.server.url(&format!("/orgs/{o}/grants/{}", w.grant)))
        .await?;
    let tree = wait_for(c, Locator::Id("delegation-tree"))
        .await?
        .text()
        .await?;
    assert!(tree.contains("Door 301"), "{tree}");
    c.find(Locator::Css(&format!(
        "#delegation-tree ul a[href$='{}']",
        w.shared
    )))
    .await?;
    click(c, "revoke-grant").await?;
    let shared = wait_for(c, Locator::Id("revoke-shared"))
        .await?
        .text()
        .await?;
    assert!(shared.starts_with('1'), "says the share goes too: {shared}");

    // What can the friend open on Tuesday 11:00 Tokyo: the door, through the share.
    c.goto(&w.server.url(&format!(
        "/orgs/{o}/people/{}/access?date=2026-12-01&time=11:00",
        w.friend.id
    )))
    .await?;
    let what = wait_for(c, Locator::Id("what-can-open"))
        .await?
        .text()
        .await?;
    assert!(
        what.contains("Door 301") && what.contains("shared by a holder"),
        "{what}"
    );

    // The review: filter by group, select the grant, confirm with the count, revoke.
    click(c, "nav-grants").await?;
    wait_for(c, Locator::Id("grants")).await?;
    choose(c, "f-group", "Group: Staff").await?;
    click(c, "filter-grants").await?;
    wait_for(c, Locator::Css(&format!("#pick-{}", w.grant))).await?;
    assert_eq!(text_of(c, "grant-count").await?, "1");
    click(c, &format!("pick-{}", w.grant)).await?;
    click(c, "bulk-revoke").await?;
    let count = wait_for(c, Locator::Id("revoke-count"))
        .await?
        .text()
        .await?;
    assert!(count.starts_with("2 "), "the grant and its share: {count}");
    click(c, "confirm-revoke").await?;
    wait_for(c, Locator::Id("notice")).await?;
    assert!(
        c.find(Locator::Css(&format!("#pick-{}", w.grant)))
            .await
            .is_err()
    );
    c.goto(&w.server.url(&format!(
        "/orgs/{o}/locks/{}/access?date=2026-12-01&time=11:00",
        w.door
    )))
    .await?;
    wait_for(c, Locator::Id("nobody")).await?;

    // A person's profile from the people page; a device switched off from its page.
    c.goto(&w.server.url(&format!("/orgs/{o}/people"))).await?;
    c.find(Locator::Css(&format!(
        "a[href$='/people/{}/profile']",
        w.member.id
    )))
    .await?
    .click()
    .await?;
    wait_for(c, Locator::Id("p-employee-number")).await?;
    fill(c, "p-employee-number", "E-42").await?;
    fill(c, "p-labels", "lobby").await?;
    click(c, "save-profile").await?;
    wait_for(c, Locator::Id("notice")).await?;
    assert_eq!(
        c.find(Locator::Id("p-employee-number"))
            .await?
            .prop("value")
            .await?
            .as_deref(),
        Some("E-42")
    );
    c.goto(&w.server.url(&format!("/orgs/{o}/devices/{}", w.door)))
        .await?;
    choose(c, "device-status", "Disabled (opens for nobody)").await?;
    click(c, "save-device").await?;
    wait_for(c, Locator::Id("notice")).await?;
    assert!(text_of(c, "device-kind-fixed").await? == "Lock");

    // Japanese.
    c.goto(&w.server.url(&format!("/orgs/{o}/sites/{}?lang=ja", w.site)))
        .await?;
    wait_for(c, Locator::Id("space-tree")).await?;
    assert!(c.source().await?.contains("スペースを追加"));
    let _ = (&w.tower, &w.staff, &w.member_a);

    assert_clean_console(&browser).await?;
    browser.close().await?;
    w.server.shutdown().await;
    Ok(())
}

async fn profile_and_scope_pages_set_what_a_manager_reaches(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let o = w.org_a;
    let app = w.server.app.clone();
    let manager = fixtures::person(&app, "manu@a.example", true).await?;
    fixtures::join(
        &app,
        o,
        manager.id,
        latchkey_domain::identity::Role::SpaceManager,
    )
    .await?;
    let manager_s = signed_in(&w.server, &manager).await?;

    // The profile: admins only; a duplicate employee number is refused and the typed one kept.
    let profile = format!("/orgs/{o}/people/{}/profile", w.member.id);
    assert_eq!(page(&w, &w.admin_a, &profile).await?.0, StatusCode::OK);
    assert_eq!(
        page(&w, &w.member_a, &profile).await?.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        page(&w, &w.admin_b, &profile).await?.0,
        StatusCode::NOT_FOUND
    );
    let saved = form(
        &w,
        &w.admin_a,
        &profile,
        &[
            ("display_name", "Mia M."),
            ("employee_number", "E-1"),
            ("labels", "night, lobby"),
        ],
        true,
    )
    .await?;
    assert_eq!(
        location(&saved),
        format!("{profile}?notice=profile_changed")
    );
    let (_, html) = page(&w, &w.admin_a, &profile).await?;
    assert!(html.contains("value=\"E-1\"") && html.contains("value=\"lobby, night\""));
    let friend_profile = format!("/orgs/{o}/people/{}/profile", w.friend.id);
    let duplicate = form(
        &w,
        &w.admin_a,
        &friend_profile,
        &[
            ("display_name", "Fritz typed"),
            ("employee_number", "E-1"),
            ("labels", ""),
        ],
        true,
    )
    .await?;
    assert!(
        duplicate.status().is_client_error(),
        "{}",
        duplicate.status()
    );
    let html = duplicate.text().await?;
    assert!(html.contains("employee"), "the reason is shown");
    assert!(html.contains("value=\"Fritz typed\""), "typed values kept");

    // Before a scope the manager reaches no space; after one (Room 301) exactly that subtree.
    let room = format!("/orgs/{o}/spaces/{}", w.room);
    let tower = format!("/orgs/{o}/spaces/{}", w.tower);
    assert_eq!(page(&w, &manager_s, &room).await?.0, StatusCode::NOT_FOUND);
    let scopes = format!("/orgs/{o}/people/{}/scopes", manager.id);
    let (_, html) = page(
        &w,
        &w.admin_a,
        &format!("/orgs/{o}/people/{}/profile", manager.id),
    )
    .await?;
    assert!(html.contains(&format!("id=\"scope-{}\"", w.room)));
    assert_eq!(
        form(
            &w,
            &w.member_a,
            &scopes,
            &[("kind", "spaces"), ("scope", &w.room)],
            true
        )
        .await?
        .status(),
        StatusCode::FORBIDDEN
    );
    let set = form(
        &w,
        &w.admin_a,
        &scopes,
        &[("kind", "spaces"), ("scope", &w.room)],
        true,
    )
    .await?;
    assert_eq!(set.status(), StatusCode::SEE_OTHER, "{}", set.text().await?);
    assert_eq!(
        page(&w, &manager_s, &room).await?.0,
        StatusCode::OK,
        "next request"
    );
    assert_eq!(page(&w, &manager_s, &tower).await?.0, StatusCode::NOT_FOUND);
    let lock = format!("/orgs/{o}/locks/{}/access", w.door);
    assert_eq!(page(&w, &manager_s, &lock).await?.0, StatusCode::OK);
    assert_eq!(
        page(&w, &manager_s, &format!("/orgs/{o}/groups")).await?.0,
        StatusCode::FORBIDDEN
    );
    let (status, html) = page(&w, &manager_s, &format!("/orgs/{o}/sites/{}", w.site)).await?;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Room 301") && !html.contains(">Tower<"),
        "only the subtree"
    );
    assert!(!html.contains("id=\"create-space\""), "no admin forms");
    // Devices: only those in the subtree.
    let (_, html) = page(&w, &manager_s, &format!("/orgs/{o}/devices")).await?;
    assert!(html.contains("Door 301"));
    // The grant editor offers the manager the organisation's people and groups to name, though
    // the people and group pages stay closed to them.
    let (status, html) = page(
        &w,
        &manager_s,
        &format!("/orgs/{o}/grants/new?site={}", w.site),
    )
    .await?;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&w.member.id.to_string()),
        "the member is offered as a subject"
    );
    assert!(html.contains(&w.staff), "the group is offered as a subject");
    assert!(
        html.contains(&w.member.email),
        "people are told apart by address"
    );
    w.server.shutdown().await;
    Ok(())
}
