//! Grants over HTTP on SQLite and PostgreSQL: schedules that open doors in the site's time zone,
//! the explanation endpoints, changes taking effect on the next request, delegation and its
//! cascade, the access review and bulk revocation, the authorization matrix for every grant
//! endpoint, scope of managers and owners, the audit trail, and bad input.

use latchkey_domain::Scope;
use latchkey_domain::identity::Role;
use latchkey_domain::{AccountId, OrgId};
use latchkey_store::repo::AuditRepo;
use latchkey_testkit::fixtures::{self, FIXTURE_PASSWORD, Person};
use latchkey_testkit::{ApiSession, TestDb, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    a_weekday_grant_opens_in_the_site_time_zone_and_explains_why,
    changes_take_effect_on_the_next_request,
    delegation_stays_within_the_parent_and_revocation_cascades,
    a_group_member_sees_and_shares_the_group_grant,
    access_review_filters_pages_and_bulk_revokes,
    authorization_matrix_for_every_grant_endpoint,
    managers_and_owners_grant_only_within_their_scope,
    every_grant_change_is_audited_with_before_and_after,
    bad_grant_input_is_refused_clearly_and_changes_nothing,
);

/// Organisation A: site HQ in Asia/Tokyo with Tower ─ Floor 3 ─ Room 301 and Tower ─ Floor 4;
/// lock `door_301` in Room 301 (owned by the device owner), lock `door_4` in Floor 4 (in device
/// group `dgroup`); group Staff with the member. The space manager manages Floor 3.
/// Organisation B: one site, space and lock, and an admin.
struct World {
    server: TestServer,
    org_a: OrgId,
    org_b: OrgId,
    anon: ApiSession,
    admin_a: ApiSession,
    admin_b: ApiSession,
    manager_a: ApiSession,
    owner_a: ApiSession,
    member_a: ApiSession,
    guest_a: ApiSession,
    admin_b_id: AccountId,
    member: Person,
    friend: Person,
    guest: Person,
    tower: String,
    floor_3: String,
    floor_4: String,
    door_301: String,
    door_4: String,
    dgroup: String,
    staff: String,
    space_b: String,
    door_b: String,
}

async fn ok(
    s: &ApiSession,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let (status, value) = s.call(method.clone(), path, body).await?;
    anyhow::ensure!(status.is_success(), "{method} {path}: {status} {value}");
    Ok(value)
}

async fn create(s: &ApiSession, path: &str, body: Value) -> anyhow::Result<String> {
    let value = ok(s, Method::POST, path, Some(body)).await?;
    Ok(value["id"].as_str().unwrap_or_default().to_owned())
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

/// Tuesday 2026-12-01 at `hour`:00 in Tokyo (UTC+9, no DST), as RFC 3339 UTC.
fn tokyo_tuesday(hour: i64) -> String {
    let utc_hour = hour - 9;
    if utc_hour >= 0 {
        format!("2026-12-01T{utc_hour:02}:00:00Z")
    } else {
        format!("2026-11-30T{:02}:00:00Z", utc_hour + 24)
    }
}

async fn world(db: TestDb) -> anyhow::Result<World> {
    // The clock starts before the schedules so that validity has begun.
    db.clock.set_ms(1_764_547_200_000); // 2025-12-01T00:00:00Z
    let server = TestServer::start(db).await?;
    let app = server.app.clone();
    let org_a = fixtures::organisation(&app, "Acme Tower", 50).await?;
    let org_b = fixtures::organisation(&app, "Bravo Flats", 50).await?;
    let admin_a = fixtures::admin_of(&app, org_a, "ada@a.example").await?;
    let admin_b = fixtures::admin_of(&app, org_b, "bea@b.example").await?;
    let manager = fixtures::person(&app, "manu@a.example", true).await?;
    fixtures::join(&app, org_a, manager.id, Role::SpaceManager).await?;
    let owner = fixtures::person(&app, "otto@a.example", false).await?;
    fixtures::join(&app, org_a, owner.id, Role::DeviceOwner).await?;
    let member = fixtures::member_of(&app, org_a, "mia@a.example").await?;
    let friend = fixtures::member_of(&app, org_a, "fritz@a.example").await?;
    let guest = fixtures::person(&app, "gus@a.example", false).await?;
    fixtures::join(&app, org_a, guest.id, Role::Guest).await?;
    let admin_a_s = signed_in(&server, &admin_a).await?;
    let admin_b_s = signed_in(&server, &admin_b).await?;
    let manager_s = signed_in(&server, &manager).await?;
    let owner_s = signed_in(&server, &owner).await?;
    let member_s = signed_in(&server, &member).await?;
    let guest_s = signed_in(&server, &guest).await?;

    let a = format!("/api/v1/orgs/{org_a}");
    let hq = create(
        &admin_a_s,
        &format!("{a}/sites"),
        json!({"name": "HQ", "time_zone": "Asia/Tokyo"}),
    )
    .await?;
    let space = |parent: Option<&str>, name: &str| json!({"site_id": hq, "parent_id": parent, "name": name, "kind": "floor"});
    let tower = create(&admin_a_s, &format!("{a}/spaces"), space(None, "Tower")).await?;
    let floor_3 = create(
        &admin_a_s,
        &format!("{a}/spaces"),
        space(Some(&tower), "Floor 3"),
    )
    .await?;
    let room = create(
        &admin_a_s,
        &format!("{a}/spaces"),
        space(Some(&floor_3), "Room 301"),
    )
    .await?;
    let floor_4 = create(
        &admin_a_s,
        &format!("{a}/spaces"),
        space(Some(&tower), "Floor 4"),
    )
    .await?;
    let door_301 = create(
        &admin_a_s,
        &format!("{a}/devices"),
        json!({"kind": "lock", "name": "Door 301", "space_id": room}),
    )
    .await?;
    let door_4 = create(
        &admin_a_s,
        &format!("{a}/devices"),
        json!({"kind": "lock", "name": "Door 4", "space_id": floor_4}),
    )
    .await?;
    let dgroup = create(
        &admin_a_s,
        &format!("{a}/device-groups"),
        json!({"name": "Fourth floor", "members": [door_4]}),
    )
    .await?;
    let staff = create(
        &admin_a_s,
        &format!("{a}/groups"),
        json!({"name": "Staff", "members": [member.id.to_string()]}),
    )
    .await?;
    ok(
        &admin_a_s,
        Method::PUT,
        &format!("{a}/members/{}/scopes", manager.id),
        Some(json!({"spaces": [floor_3]})),
    )
    .await?;
    ok(
        &admin_a_s,
        Method::PUT,
        &format!("{a}/members/{}/scopes", owner.id),
        Some(json!({"devices": [door_301]})),
    )
    .await?;

    let b = format!("/api/v1/orgs/{org_b}");
    let site_b = create(
        &admin_b_s,
        &format!("{b}/sites"),
        json!({"name": "Flats", "time_zone": "Europe/Berlin"}),
    )
    .await?;
    let space_b = create(
        &admin_b_s,
        &format!("{b}/spaces"),
        json!({"site_id": site_b, "name": "Block", "kind": "building"}),
    )
    .await?;
    let door_b = create(
        &admin_b_s,
        &format!("{b}/devices"),
        json!({"kind": "lock", "name": "Gate", "space_id": space_b}),
    )
    .await?;

    Ok(World {
        anon: ApiSession::anonymous(&server),
        server,
        org_a,
        org_b,
        admin_a: admin_a_s,
        admin_b: admin_b_s,
        manager_a: manager_s,
        owner_a: owner_s,
        member_a: member_s,
        guest_a: guest_s,
        admin_b_id: admin_b.id,
        member,
        friend,
        guest,
        tower,
        floor_3,
        floor_4,
        door_301,
        door_4,
        dgroup,
        staff,
        space_b,
        door_b,
    })
}

fn weekday_schedule() -> Value {
    json!({
        "valid_from": "2026-01-01T00:00:00Z",
        "weekly": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "18:00"}],
    })
}

fn grant_body(subject: (&str, &str), target: (&str, &str), rights: &[&str]) -> Value {
    json!({
        "subject": {"kind": subject.0, "id": subject.1},
        "target": {"kind": target.0, "id": target.1},
        "rights": rights,
        "schedule": weekday_schedule(),
    })
}

fn people_of(who: &Value) -> Vec<String> {
    who["people"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|x| x["person_id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl World {
    fn a(&self, rest: &str) -> String {
        format!("/api/v1/orgs/{}{rest}", self.org_a)
    }

    async fn who(&self, s: &ApiSession, lock: &str, at: &str) -> anyhow::Result<Vec<String>> {
        let who = ok(
            s,
            Method::GET,
            &self.a(&format!("/locks/{lock}/who-can-open?at={at}")),
            None,
        )
        .await?;
        Ok(people_of(&who))
    }

    async fn staff_grant(&self) -> anyhow::Result<String> {
        create(
            &self.admin_a,
            &self.a("/grants"),
            grant_body(("group", &self.staff), ("space", &self.tower), &["unlock"]),
        )
        .await
    }
}

async fn a_weekday_grant_opens_in_the_site_time_zone_and_explains_why(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db).await?;
    let grant = w.staff_grant().await?;
    let member = w.member.id.to_string();
    // Tuesday 10:00 in Tokyo: the member opens Door 301 through Staff and the Tower.
    let who = ok(
        &w.admin_a,
        Method::GET,
        &w.a(&format!(
            "/locks/{}/who-can-open?at={}",
            w.door_301,
            tokyo_tuesday(10)
        )),
        None,
    )
    .await?;
    assert_eq!(people_of(&who), vec![member.clone()]);
    let because = &who["people"][0]["because"][0];
    assert_eq!(because["grant_id"], grant.as_str());
    assert_eq!(because["subject"], json!({"kind": "group", "id": w.staff}));
    assert_eq!(because["target"], json!({"kind": "space", "id": w.tower}));
    // 20:00 the same day: nobody, and the decision says why.
    assert!(
        w.who(&w.admin_a, &w.door_301, &tokyo_tuesday(20))
            .await?
            .is_empty()
    );
    let denied = ok(
        &w.admin_a,
        Method::GET,
        &w.a(&format!(
            "/access/decision?person_id={member}&lock_id={}&at={}",
            w.door_301,
            tokyo_tuesday(20)
        )),
        None,
    )
    .await?;
    assert_eq!(denied["decision"], "denied");
    assert_eq!(denied["reason"], "outside_window");
    assert_eq!(denied["near_misses"][0]["refusal"], "outside_window");
    let allowed = ok(
        &w.admin_a,
        Method::GET,
        &w.a(&format!(
            "/access/decision?person_id={member}&lock_id={}&at={}",
            w.door_301,
            tokyo_tuesday(10)
        )),
        None,
    )
    .await?;
    assert_eq!(allowed["decision"], "allowed");
    // What can the member open: both doors of the Tower, and they may ask about themselves.
    let what = ok(
        &w.member_a,
        Method::GET,
        &w.a(&format!(
            "/members/{member}/what-can-open?at={}",
            tokyo_tuesday(10)
        )),
        None,
    )
    .await?;
    let mut locks: Vec<&str> = what["locks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lock_id"].as_str().unwrap())
        .collect();
    locks.sort_unstable();
    let mut expected = [w.door_301.as_str(), w.door_4.as_str()];
    expected.sort_unstable();
    assert_eq!(locks, expected);
    // The exact windows of a week: Monday to Friday 09:00–18:00 Tokyo = 00:00–09:00Z.
    let windows = ok(&w.member_a, Method::GET, &w.a(&format!("/members/{member}/access-windows?lock_id={}&from=2026-11-30T00:00:00Z&to=2026-12-07T00:00:00Z", w.door_301)), None).await?;
    let got: Vec<(String, String)> = windows["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["start"].as_str().unwrap().to_owned(),
                x["end"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        "2026-11-30",
        "2026-12-01",
        "2026-12-02",
        "2026-12-03",
        "2026-12-04",
    ]
    .iter()
    .map(|d| (format!("{d}T00:00:00Z"), format!("{d}T09:00:00Z")))
    .collect();
    assert_eq!(got, want);
    w.server.shutdown().await;
    Ok(())
}

async fn changes_take_effect_on_the_next_request(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let grant = w.staff_grant().await?;
    let member = w.member.id.to_string();
    let at = tokyo_tuesday(10);
    assert_eq!(
        w.who(&w.admin_a, &w.door_301, &at).await?,
        vec![member.clone()]
    );
    // Disabling the lock: nobody, at once.
    ok(
        &w.admin_a,
        Method::PATCH,
        &w.a(&format!("/devices/{}", w.door_301)),
        Some(json!({"status": "disabled"})),
    )
    .await?;
    assert!(w.who(&w.admin_a, &w.door_301, &at).await?.is_empty());
    let decision = ok(
        &w.admin_a,
        Method::GET,
        &w.a(&format!(
            "/access/decision?person_id={member}&lock_id={}&at={at}",
            w.door_301
        )),
        None,
    )
    .await?;
    assert_eq!(decision["reason"], "device_disabled");
    ok(
        &w.admin_a,
        Method::PATCH,
        &w.a(&format!("/devices/{}", w.door_301)),
        Some(json!({"status": "enabled"})),
    )
    .await?;
    assert_eq!(
        w.who(&w.admin_a, &w.door_301, &at).await?,
        vec![member.clone()]
    );
    // The preview says the member loses Door 301 and Door 4 if taken out of Staff.
    let preview = ok(
        &w.admin_a,
        Method::POST,
        &w.a("/access/preview"),
        Some(json!({"remove_member": {"group_id": w.staff, "person_id": member}, "at": at})),
    )
    .await?;
    assert_eq!(preview["lose"].as_array().unwrap().len(), 2, "{preview}");
    assert!(preview["keep"].as_array().unwrap().is_empty());
    // Taking the member out of the group: at once.
    ok(
        &w.admin_a,
        Method::DELETE,
        &w.a(&format!("/groups/{}/members/{member}", w.staff)),
        None,
    )
    .await?;
    assert!(w.who(&w.admin_a, &w.door_301, &at).await?.is_empty());
    ok(
        &w.admin_a,
        Method::POST,
        &w.a(&format!("/groups/{}/members", w.staff)),
        Some(json!({"account_id": member})),
    )
    .await?;
    assert_eq!(
        w.who(&w.admin_a, &w.door_301, &at).await?,
        vec![member.clone()]
    );
    // Moving Room 301's lock out of the Tower's subtree is not possible (one site), but revoking is.
    let revoked = ok(
        &w.admin_a,
        Method::POST,
        &w.a(&format!("/grants/{grant}/revocation")),
        None,
    )
    .await?;
    assert_eq!(revoked["revoked"], json!([grant]));
    assert!(w.who(&w.admin_a, &w.door_301, &at).await?.is_empty());
    let decision = ok(
        &w.admin_a,
        Method::GET,
        &w.a(&format!(
            "/access/decision?person_id={member}&lock_id={}&at={at}",
            w.door_301
        )),
        None,
    )
    .await?;
    assert_eq!(decision["reason"], "revoked");
    w.server.shutdown().await;
    Ok(())
}

async fn delegation_stays_within_the_parent_and_revocation_cascades(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db).await?;
    let member = w.member.id.to_string();
    let friend = w.friend.id.to_string();
    // The member may open the Tower on weekdays and share one level down, for at most 7 days.
    let mut body = grant_body(
        ("person", &member),
        ("space", &w.tower),
        &["unlock", "share"],
    );
    body["reshare_depth"] = json!(1);
    body["max_share_duration_secs"] = json!(7 * 86_400);
    let parent = create(&w.admin_a, &w.a("/grants"), body).await?;
    let share = |target: &str, from: &str, until: &str, start: &str| {
        json!({
            "person_id": friend,
            "target": {"kind": "lock", "id": target},
            "schedule": {"valid_from": from, "valid_until": until,
                "weekly": [{"days": ["tue"], "start": start, "end": "12:00"}]},
        })
    };
    let shares = w.a(&format!("/grants/{parent}/shares"));
    // Within the parent: Door 301, Tuesdays 10–12, for two days.
    let child = create(
        &w.member_a,
        &shares,
        share(
            &w.door_301,
            "2026-11-30T00:00:00Z",
            "2026-12-02T00:00:00Z",
            "10:00",
        ),
    )
    .await?;
    // At 11:00 both may open Door 301; at 09:00 only the member (the share starts at 10:00).
    assert_eq!(
        w.who(&w.admin_a, &w.door_301, &tokyo_tuesday(11))
            .await?
            .len(),
        2
    );
    assert_eq!(
        w.who(&w.admin_a, &w.door_301, &tokyo_tuesday(9)).await?,
        vec![member.clone()]
    );
    // Wider than the parent: each refused with the rule, nothing created.
    for (body, rule) in [
        // Longer than the 7 days the parent allows for shares.
        (
            share(
                &w.door_301,
                "2026-11-30T00:00:00Z",
                "2026-12-30T00:00:00Z",
                "10:00",
            ),
            "days",
        ),
        // Starts before the parent's 09:00.
        (
            share(
                &w.door_301,
                "2026-11-30T00:00:00Z",
                "2026-12-02T00:00:00Z",
                "07:00",
            ),
            "window",
        ),
        // Another organisation's lock is not within the parent's target.
        (
            share(
                &w.door_b,
                "2026-11-30T00:00:00Z",
                "2026-12-02T00:00:00Z",
                "10:00",
            ),
            "target",
        ),
    ] {
        let (status, problem) = w.member_a.call(Method::POST, &shares, Some(body)).await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{rule}: {problem}"
        );
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{problem}"
        );
    }
    let tree = ok(
        &w.admin_a,
        Method::GET,
        &w.a(&format!("/grants/{parent}/delegations")),
        None,
    )
    .await?;
    assert_eq!(
        tree["children"].as_array().unwrap().len(),
        1,
        "refused shares created nothing"
    );
    // The friend's share cannot be re-shared (depth 0), and guests cannot share at all.
    let (status, problem) = ok_status(&w.server, &w.friend, &w.a(&format!("/grants/{child}/shares")), json!({"person_id": member, "schedule": {"valid_from": "2026-11-30T00:00:00Z", "valid_until": "2026-12-01T00:00:00Z"}})).await?;
    assert!(
        matches!(status, StatusCode::UNPROCESSABLE_ENTITY),
        "{status} {problem}"
    );
    let guest_parent = create(&w.admin_a, &w.a("/grants"), {
        let mut b = grant_body(
            ("person", &w.guest.id.to_string()),
            ("space", &w.tower),
            &["unlock", "share"],
        );
        b["reshare_depth"] = json!(1);
        b
    })
    .await?;
    let (status, _) = w
        .guest_a
        .call(
            Method::POST,
            &w.a(&format!("/grants/{guest_parent}/shares")),
            Some(share(
                &w.door_301,
                "2026-11-30T00:00:00Z",
                "2026-12-02T00:00:00Z",
                "10:00",
            )),
        )
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The delegation tree shows the share under the parent.
    let tree = ok(
        &w.admin_a,
        Method::GET,
        &w.a(&format!("/grants/{parent}/delegations")),
        None,
    )
    .await?;
    assert_eq!(tree["grant"]["id"], parent.as_str());
    assert_eq!(tree["children"][0]["grant"]["id"], child.as_str());
    assert_eq!(tree["children"][0]["grant"]["shared_by"], member.as_str());
    // Revoking the parent revokes the share with it.
    let revoked = ok(
        &w.admin_a,
        Method::POST,
        &w.a(&format!("/grants/{parent}/revocation")),
        None,
    )
    .await?;
    assert_eq!(revoked["revoked"], json!([parent, child]));
    let who = w.who(&w.admin_a, &w.door_301, &tokyo_tuesday(11)).await?;
    assert_eq!(
        who,
        [w.guest.id.to_string()],
        "only the guest's own grant is left"
    );
    let child_now = ok(
        &w.admin_a,
        Method::GET,
        &w.a(&format!("/grants/{child}")),
        None,
    )
    .await?;
    assert!(child_now["revoked_at"].is_string());
    w.server.shutdown().await;
    Ok(())
}

async fn a_group_member_sees_and_shares_the_group_grant(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let friend = w.friend.id.to_string();
    let mut body = grant_body(
        ("group", &w.staff),
        ("space", &w.tower),
        &["unlock", "share"],
    );
    body["reshare_depth"] = json!(1);
    let staff_grant = create(&w.admin_a, &w.a("/grants"), body).await?;
    // The member holds it through Staff: it is in their review, and they may share it.
    let mine = ok(&w.member_a, Method::GET, &w.a("/grants"), None).await?;
    assert_eq!(mine["total"], 1, "{mine}");
    assert_eq!(mine["grants"][0]["id"], staff_grant.as_str());
    let (status, shared) = w
        .member_a
        .call(
            Method::POST,
            &w.a(&format!("/grants/{staff_grant}/shares")),
            Some(json!({"person_id": friend, "schedule": weekday_schedule()})),
        )
        .await?;
    assert_eq!(status, StatusCode::CREATED, "{shared}");
    assert_eq!(
        shared["target"],
        json!({"kind": "space", "id": w.tower}),
        "the parent's target by default"
    );
    assert!(
        w.who(&w.admin_a, &w.door_4, &tokyo_tuesday(10))
            .await?
            .contains(&friend)
    );
    // Someone outside Staff neither sees nor shares it.
    let (status, _) = w
        .guest_a
        .call(Method::GET, &w.a(&format!("/grants/{staff_grant}")), None)
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    w.server.shutdown().await;
    Ok(())
}

/// Signs the person in and posts, returning status and body.
async fn ok_status(
    server: &TestServer,
    person: &Person,
    path: &str,
    body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    let session = signed_in(server, person).await?;
    session.call(Method::POST, path, Some(body)).await
}

async fn access_review_filters_pages_and_bulk_revokes(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let member = w.member.id.to_string();
    let staff_grant = w.staff_grant().await?;
    let mut ids = vec![staff_grant.clone()];
    for lock in [&w.door_301, &w.door_4] {
        ids.push(
            create(
                &w.admin_a,
                &w.a("/grants"),
                grant_body(("person", &member), ("lock", lock), &["unlock"]),
            )
            .await?,
        );
    }
    let mut expiring = grant_body(
        ("person", &w.friend.id.to_string()),
        ("space", &w.floor_4),
        &["unlock"],
    );
    expiring["schedule"]["valid_until"] = json!("2026-01-05T00:00:00Z");
    ids.push(create(&w.admin_a, &w.a("/grants"), expiring).await?);
    let list = |query: &str| {
        let path = w.a(&format!("/grants{query}"));
        let admin = &w.admin_a;
        async move { ok(admin, Method::GET, &path, None).await }
    };
    assert_eq!(list("").await?["count"], 4);
    assert_eq!(list(&format!("?person_id={member}")).await?["count"], 2);
    assert_eq!(list(&format!("?group_id={}", w.staff)).await?["count"], 1);
    assert_eq!(list(&format!("?lock_id={}", w.door_4)).await?["count"], 1);
    assert_eq!(list("?delegated=true").await?["count"], 0);
    // The clock is at 2025-12-01 and one grant ends on 2026-01-05: not within 30 days, within 40.
    assert_eq!(list("?expiring_within_days=30").await?["count"], 0);
    assert_eq!(list("?expiring_within_days=40").await?["count"], 1);
    // Pages of 3 then 1, by cursor.
    let first = list("?limit=3").await?;
    assert_eq!(first["count"], 3);
    assert_eq!(first["total"], 4, "the total counts every page");
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = list(&format!("?limit=3&cursor={cursor}")).await?;
    assert_eq!(second["count"], 1);
    assert!(second["next_cursor"].is_null());
    // A manager sees only grants in their scope (the one on Door 301), and cannot bulk-revoke.
    let managed = ok(&w.manager_a, Method::GET, &w.a("/grants"), None).await?;
    assert_eq!(managed["count"], 1, "{managed}");
    assert_eq!(managed["total"], 1, "{managed}");
    let (status, _) = w
        .manager_a
        .call(
            Method::POST,
            &w.a("/grants/bulk-revocation"),
            Some(json!({"grant_ids": ids})),
        )
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // An unknown id revokes nothing.
    let (status, _) = w
        .admin_a
        .call(
            Method::POST,
            &w.a("/grants/bulk-revocation"),
            Some(json!({"grant_ids": [ids[0], uuid::Uuid::now_v7().to_string()]})),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(list("").await?["count"], 4);
    let revoked = ok(
        &w.admin_a,
        Method::POST,
        &w.a("/grants/bulk-revocation"),
        Some(json!({"grant_ids": ids})),
    )
    .await?;
    assert_eq!(revoked["revoked"].as_array().unwrap().len(), 4);
    assert_eq!(list("").await?["count"], 0);
    assert_eq!(list("?include_revoked=true").await?["count"], 4);
    w.server.shutdown().await;
    Ok(())
}

async fn authorization_matrix_for_every_grant_endpoint(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let member = w.member.id.to_string();
    // Grants of A: one inside the manager's subtree, one outside; one of B.
    let inside = create(
        &w.admin_a,
        &w.a("/grants"),
        grant_body(("person", &member), ("lock", &w.door_301), &["unlock"]),
    )
    .await?;
    let outside = create(
        &w.admin_a,
        &w.a("/grants"),
        grant_body(("person", &member), ("lock", &w.door_4), &["unlock"]),
    )
    .await?;
    let b = format!("/api/v1/orgs/{}", w.org_b);
    let grant_b = create(
        &w.admin_b,
        &format!("{b}/grants"),
        grant_body(
            ("person", &w.admin_b_id.to_string()),
            ("lock", &w.door_b),
            &["unlock"],
        ),
    )
    .await?;
    let at = tokyo_tuesday(10);
    let a = |rest: &str| w.a(rest);
    let in_a = |g: &str| a(&format!("/grants/{g}"));
    use StatusCode as S;
    let (anon, mem, mgr, adm, adb) = (&w.anon, &w.member_a, &w.manager_a, &w.admin_a, &w.admin_b);
    // (caller, method, path, body, expected)
    let cases: Vec<(&ApiSession, Method, String, Option<Value>, S)> = vec![
        (anon, Method::GET, a("/grants"), None, S::UNAUTHORIZED),
        (mem, Method::GET, a("/grants"), None, S::OK),
        (adb, Method::GET, a("/grants"), None, S::NOT_FOUND),
        (anon, Method::GET, in_a(&inside), None, S::UNAUTHORIZED),
        (mem, Method::GET, in_a(&inside), None, S::OK), // their own grant
        (mgr, Method::GET, in_a(&inside), None, S::OK),
        (mgr, Method::GET, in_a(&outside), None, S::NOT_FOUND),
        (adm, Method::GET, in_a(&outside), None, S::OK),
        (adb, Method::GET, in_a(&inside), None, S::NOT_FOUND),
        (
            adm,
            Method::GET,
            format!("/api/v1/orgs/{}/grants/{grant_b}", w.org_a),
            None,
            S::NOT_FOUND,
        ),
        (
            adm,
            Method::GET,
            format!("{b}/grants/{grant_b}"),
            None,
            S::NOT_FOUND,
        ),
        (
            anon,
            Method::POST,
            a("/grants"),
            Some(grant_body(
                ("person", &member),
                ("lock", &w.door_301),
                &["unlock"],
            )),
            S::UNAUTHORIZED,
        ),
        (
            mem,
            Method::POST,
            a("/grants"),
            Some(grant_body(
                ("person", &member),
                ("lock", &w.door_301),
                &["unlock"],
            )),
            S::FORBIDDEN,
        ),
        (
            mgr,
            Method::POST,
            a("/grants"),
            Some(grant_body(
                ("person", &member),
                ("lock", &w.door_4),
                &["unlock"],
            )),
            S::NOT_FOUND,
        ),
        (
            adb,
            Method::POST,
            a("/grants"),
            Some(grant_body(
                ("person", &member),
                ("lock", &w.door_301),
                &["unlock"],
            )),
            S::NOT_FOUND,
        ),
        (
            adm,
            Method::POST,
            a("/grants"),
            Some(grant_body(
                ("person", &member),
                ("lock", &w.door_b),
                &["unlock"],
            )),
            S::NOT_FOUND,
        ),
        (
            adm,
            Method::POST,
            a("/grants"),
            Some(grant_body(
                ("person", &member),
                ("space", &w.space_b),
                &["unlock"],
            )),
            S::NOT_FOUND,
        ),
        (
            anon,
            Method::GET,
            a(&format!("/grants/{inside}/delegations")),
            None,
            S::UNAUTHORIZED,
        ),
        (
            mgr,
            Method::GET,
            a(&format!("/grants/{outside}/delegations")),
            None,
            S::NOT_FOUND,
        ),
        (
            adm,
            Method::GET,
            a(&format!("/grants/{inside}/delegations")),
            None,
            S::OK,
        ),
        (
            anon,
            Method::GET,
            a(&format!("/locks/{}/who-can-open?at={at}", w.door_301)),
            None,
            S::UNAUTHORIZED,
        ),
        (
            mem,
            Method::GET,
            a(&format!("/locks/{}/who-can-open?at={at}", w.door_301)),
            None,
            S::FORBIDDEN,
        ),
        (
            mgr,
            Method::GET,
            a(&format!("/locks/{}/who-can-open?at={at}", w.door_301)),
            None,
            S::OK,
        ),
        (
            mgr,
            Method::GET,
            a(&format!("/locks/{}/who-can-open?at={at}", w.door_4)),
            None,
            S::NOT_FOUND,
        ),
        (
            adb,
            Method::GET,
            a(&format!("/locks/{}/who-can-open?at={at}", w.door_301)),
            None,
            S::NOT_FOUND,
        ),
        (
            adm,
            Method::GET,
            a(&format!("/locks/{}/who-can-open?at={at}", w.door_b)),
            None,
            S::NOT_FOUND,
        ),
        (
            mem,
            Method::GET,
            a(&format!("/members/{member}/what-can-open")),
            None,
            S::OK,
        ),
        (
            mem,
            Method::GET,
            a(&format!("/members/{}/what-can-open", w.friend.id)),
            None,
            S::FORBIDDEN,
        ),
        (
            adb,
            Method::GET,
            a(&format!("/members/{member}/what-can-open")),
            None,
            S::NOT_FOUND,
        ),
        (
            anon,
            Method::GET,
            a(&format!(
                "/access/decision?person_id={member}&lock_id={}",
                w.door_301
            )),
            None,
            S::UNAUTHORIZED,
        ),
        (
            mgr,
            Method::GET,
            a(&format!(
                "/access/decision?person_id={member}&lock_id={}",
                w.door_4
            )),
            None,
            S::NOT_FOUND,
        ),
        (
            mem,
            Method::GET,
            a(&format!(
                "/members/{member}/access-windows?lock_id={}&from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z",
                w.door_301
            )),
            None,
            S::OK,
        ),
        (
            mem,
            Method::GET,
            a(&format!(
                "/members/{}/access-windows?lock_id={}&from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z",
                w.friend.id, w.door_301
            )),
            None,
            S::FORBIDDEN,
        ),
        (
            mem,
            Method::POST,
            a("/access/preview"),
            Some(json!({"remove_grant": inside})),
            S::FORBIDDEN,
        ),
        (
            mgr,
            Method::POST,
            a("/access/preview"),
            Some(json!({"remove_grant": outside})),
            S::NOT_FOUND,
        ),
        (
            mgr,
            Method::POST,
            a("/access/preview"),
            Some(json!({"remove_grant": inside})),
            S::OK,
        ),
        (
            adb,
            Method::POST,
            a("/access/preview"),
            Some(json!({"remove_grant": inside})),
            S::NOT_FOUND,
        ),
        (
            mem,
            Method::POST,
            a("/grants/bulk-revocation"),
            Some(json!({"grant_ids": [inside]})),
            S::FORBIDDEN,
        ),
        (
            adb,
            Method::POST,
            a("/grants/bulk-revocation"),
            Some(json!({"grant_ids": [inside]})),
            S::NOT_FOUND,
        ),
        (
            anon,
            Method::POST,
            a(&format!("/grants/{inside}/revocation")),
            None,
            S::UNAUTHORIZED,
        ),
        (
            mem,
            Method::POST,
            a(&format!("/grants/{inside}/revocation")),
            None,
            S::FORBIDDEN,
        ), // given, not shared
        (
            mgr,
            Method::POST,
            a(&format!("/grants/{outside}/revocation")),
            None,
            S::NOT_FOUND,
        ),
        (
            adb,
            Method::POST,
            a(&format!("/grants/{inside}/revocation")),
            None,
            S::NOT_FOUND,
        ),
        (
            mgr,
            Method::POST,
            a(&format!("/grants/{inside}/revocation")),
            None,
            S::OK,
        ),
        (
            mgr,
            Method::POST,
            a(&format!("/grants/{inside}/revocation")),
            None,
            S::CONFLICT,
        ),
        (
            anon,
            Method::POST,
            a(&format!("/grants/{outside}/shares")),
            Some(json!({"person_id": member, "schedule": weekday_schedule()})),
            S::UNAUTHORIZED,
        ),
        (
            adb,
            Method::POST,
            a(&format!("/grants/{outside}/shares")),
            Some(json!({"person_id": member, "schedule": weekday_schedule()})),
            S::NOT_FOUND,
        ),
    ];
    for (caller, method, path, body, expected) in cases {
        let (status, value) = caller.call(method.clone(), &path, body).await?;
        assert_eq!(status, expected, "{method} {path}: {value}");
    }
    w.server.shutdown().await;
    Ok(())
}

async fn managers_and_owners_grant_only_within_their_scope(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let member = w.member.id.to_string();
    let grants = w.a("/grants");
    let call = |s: &ApiSession, body: Value| {
        let grants = grants.clone();
        let s = s.clone();
        async move {
            s.call(Method::POST, &grants, Some(body))
                .await
                .map(|(st, _)| st)
        }
    };
    use StatusCode as S;
    // The manager: Floor 3 and what is below it, without manage, never device groups.
    assert_eq!(
        call(
            &w.manager_a,
            grant_body(("person", &member), ("space", &w.floor_3), &["unlock"])
        )
        .await?,
        S::CREATED
    );
    assert_eq!(
        call(
            &w.manager_a,
            grant_body(
                ("person", &member),
                ("lock", &w.door_301),
                &["unlock", "share"]
            )
        )
        .await?,
        S::CREATED
    );
    assert_eq!(
        call(
            &w.manager_a,
            grant_body(("person", &member), ("space", &w.tower), &["unlock"])
        )
        .await?,
        S::NOT_FOUND
    );
    assert_eq!(
        call(
            &w.manager_a,
            grant_body(("person", &member), ("space", &w.floor_4), &["unlock"])
        )
        .await?,
        S::NOT_FOUND
    );
    assert_eq!(
        call(
            &w.manager_a,
            grant_body(("person", &member), ("lock", &w.door_301), &["manage"])
        )
        .await?,
        S::FORBIDDEN
    );
    assert_eq!(
        call(
            &w.manager_a,
            grant_body(
                ("person", &member),
                ("device_group", &w.dgroup),
                &["unlock"]
            )
        )
        .await?,
        S::FORBIDDEN
    );
    // The owner: their lock only.
    assert_eq!(
        call(
            &w.owner_a,
            grant_body(("person", &member), ("lock", &w.door_301), &["unlock"])
        )
        .await?,
        S::CREATED
    );
    assert_eq!(
        call(
            &w.owner_a,
            grant_body(("person", &member), ("lock", &w.door_4), &["unlock"])
        )
        .await?,
        S::NOT_FOUND
    );
    assert_eq!(
        call(
            &w.owner_a,
            grant_body(("person", &member), ("space", &w.floor_3), &["unlock"])
        )
        .await?,
        S::NOT_FOUND
    );
    // Members and guests make no grants.
    assert_eq!(
        call(
            &w.member_a,
            grant_body(("person", &member), ("lock", &w.door_301), &["unlock"])
        )
        .await?,
        S::FORBIDDEN
    );
    assert_eq!(
        call(
            &w.guest_a,
            grant_body(("person", &member), ("lock", &w.door_301), &["unlock"])
        )
        .await?,
        S::FORBIDDEN
    );
    // The owner sees the grants naming their lock (the manager's and their own); the manager
    // sees those in Floor 3 (their space grant and both lock grants).
    let owner_view = ok(&w.owner_a, Method::GET, &grants, None).await?;
    assert_eq!(owner_view["count"], 2, "{owner_view}");
    let manager_view = ok(&w.manager_a, Method::GET, &grants, None).await?;
    assert_eq!(manager_view["count"], 3, "{manager_view}");
    w.server.shutdown().await;
    Ok(())
}

async fn every_grant_change_is_audited_with_before_and_after(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let member = w.member.id.to_string();
    let mut body = grant_body(
        ("person", &member),
        ("space", &w.tower),
        &["unlock", "share"],
    );
    body["reshare_depth"] = json!(1);
    let parent = create(&w.admin_a, &w.a("/grants"), body).await?;
    let child = create(&w.member_a, &w.a(&format!("/grants/{parent}/shares")), json!({
        "person_id": w.friend.id.to_string(),
        "schedule": {"valid_from": "2026-12-01T00:00:00Z", "valid_until": "2026-12-02T00:00:00Z",
            "weekly": [{"days": ["tue"], "start": "10:00", "end": "11:00"}]},
    }))
    .await?;
    ok(
        &w.admin_a,
        Method::POST,
        &w.a(&format!("/grants/{parent}/revocation")),
        None,
    )
    .await?;
    let events = {
        let mut tx = w.server.app.store.read().await?;
        tx.audit_events(Scope::Tenant(w.org_a), 0, 100_000).await?
    };
    let changes: Vec<(String, String, Value)> = events
        .iter()
        .filter(|e| e.action == "authz_change")
        .map(|e| {
            (
                e.target.clone(),
                e.actor.clone(),
                serde_json::from_str(&e.details).unwrap(),
            )
        })
        .collect();
    let kinds: Vec<(&str, &str)> = changes
        .iter()
        .map(|(t, _, d)| (t.as_str(), d["change"].as_str().unwrap()))
        .collect();
    let (p, c) = (format!("grant:{parent}"), format!("grant:{child}"));
    assert_eq!(
        kinds,
        [
            (p.as_str(), "grant_created"),
            (c.as_str(), "grant_shared"),
            (p.as_str(), "grant_revoked"),
            (c.as_str(), "grant_revoked_with_parent"),
        ]
    );
    assert!(changes[0].2["before"].is_null());
    assert_eq!(changes[0].2["after"]["rights"], json!(["unlock", "share"]));
    assert_eq!(
        changes[1].1,
        format!("user:{member}"),
        "the holder who shared is the actor"
    );
    assert!(changes[2].2["before"]["revoked_at_ms"].is_null());
    assert!(changes[2].2["after"]["revoked_at_ms"].is_i64());
    w.server.shutdown().await;
    Ok(())
}

async fn bad_grant_input_is_refused_clearly_and_changes_nothing(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let member = w.member.id.to_string();
    let grants = w.a("/grants");
    let base = grant_body(("person", &member), ("space", &w.tower), &["unlock"]);
    // The body with one field set (added if absent), e.g. `/schedule/valid_until`.
    let with = |pointer: &str, value: Value| {
        let mut body = base.clone();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        body.pointer_mut(parent).unwrap()[key] = value;
        body
    };
    let many_windows: Vec<Value> = (0..10_000)
        .map(|i| json!({"days": ["mon"], "start": format!("{:02}:{:02}", (i / 60) % 24, i % 60), "end": "23:59"}))
        .collect();
    let cases = [
        (
            with("/schedule/valid_until", json!("2025-01-01T00:00:00Z")),
            "valid_until",
        ),
        (
            with("/schedule/valid_from", json!("next tuesday")),
            "valid_from",
        ),
        (
            with(
                "/schedule/weekly",
                json!([{"days": ["funday"], "start": "09:00", "end": "10:00"}]),
            ),
            "days",
        ),
        (
            with(
                "/schedule/weekly",
                json!([{"days": ["mon"], "start": "25:00", "end": "10:00"}]),
            ),
            "start",
        ),
        (
            with("/schedule/weekly", Value::Array(many_windows)),
            "weekly",
        ),
        (
            with("/schedule/closed_dates", json!(["2026-02-30"])),
            "closed_dates",
        ),
        (with("/rights", json!([])), "rights"),
        (with("/rights", json!(["fly"])), "rights"),
        (
            with("/subject", json!({"kind": "robot", "id": member})),
            "subject",
        ),
        (
            with("/target", json!({"kind": "space", "id": "not-an-id"})),
            "target",
        ),
        (with("/note", json!("line\nbreak")), "note"),
    ];
    for (body, field) in cases {
        let (status, problem) = w.admin_a.call(Method::POST, &grants, Some(body)).await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {problem}"
        );
        let mentioned = problem.to_string().contains(field);
        assert!(mentioned, "the problem names {field}: {problem}");
    }
    // Malformed JSON and unknown fields: 4xx, nothing created.
    let (status, _) = w
        .admin_a
        .call(Method::POST, &grants, Some(json!({"subject": 1})))
        .await?;
    assert!(status.is_client_error());
    let mut unknown = base.clone();
    unknown["colour"] = json!("red");
    let (status, _) = w.admin_a.call(Method::POST, &grants, Some(unknown)).await?;
    assert!(status.is_client_error());
    // Unknown subject or target ids are 404.
    let ghost = uuid::Uuid::now_v7().to_string();
    let (status, _) = w
        .admin_a
        .call(
            Method::POST,
            &grants,
            Some(with("/subject/id", json!(ghost))),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = w
        .admin_a
        .call(
            Method::POST,
            &grants,
            Some(with("/target/id", json!(ghost))),
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Explanation inputs: reversed or too long ranges, bad instants.
    let windows = |from: &str, to: &str| {
        w.a(&format!(
            "/members/{member}/access-windows?lock_id={}&from={from}&to={to}",
            w.door_301
        ))
    };
    for (from, to) in [
        ("2026-12-02T00:00:00Z", "2026-12-01T00:00:00Z"),
        ("2026-01-01T00:00:00Z", "2028-01-01T00:00:00Z"),
        ("yesterday", "2026-12-01T00:00:00Z"),
    ] {
        let (status, problem) = w
            .admin_a
            .call(Method::GET, &windows(from, to), None)
            .await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{from}..{to}: {problem}"
        );
    }
    let (status, _) = w
        .admin_a
        .call(Method::POST, &w.a("/access/preview"), Some(json!({})))
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing was created by any of it.
    let list = ok(&w.admin_a, Method::GET, &grants, None).await?;
    assert_eq!(list["count"], 0);
    w.server.shutdown().await;
    Ok(())
}
