//! The directory over HTTP on SQLite and PostgreSQL: sites (and holidays), spaces, groups,
//! devices, device groups, people's profiles and role scopes, search — the authorization matrix
//! for every endpoint, the scope of space managers, device owners and guests, the audit trail,
//! bad input, paging and labels; and the store conformance of the new repositories.

use std::sync::Arc;

use latchkey_domain::directory::{
    Device, DeviceGroup, DeviceKind, DeviceStatus, Group, Holiday, LabelKind, Space,
};
use latchkey_domain::identity::{MembershipStatus, Role};
use latchkey_domain::tenancy::{NewOrganisation, Site};
use latchkey_domain::{
    AccountId, Clock as _, DeviceGroupId, DeviceId, ErrorCode, GroupId, OrgId, Scope, SiteId,
    SpaceId,
};
use latchkey_server::tenancy::organisations::ContractChange;
use latchkey_server::{Actor, App};
use latchkey_store::StoreError;
use latchkey_store::repo::{
    AuditRepo, DeviceGroupRepo, DeviceRegistryRepo, GroupRepo, LabelRepo, MemberProfile,
    MemberProfileRepo, MembershipRepo, RoleScopeRepo, SiteRepo, SpaceRepo,
};
use latchkey_testkit::{ApiSession, TestDb, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::orgs_people::{account, enrol_totp, join, sign_in};

on_both_backends!(
    directory_repos_round_trip_and_stay_in_their_tenant,
    authorization_matrix_for_every_directory_endpoint,
    space_manager_reaches_only_their_subtree_and_scope_changes_apply_at_once,
    device_owner_reaches_only_their_devices,
    guests_get_nothing_administrative_and_expire_like_disabled_members,
    every_directory_change_is_audited_with_before_and_after,
    bad_directory_input_is_refused_clearly_and_changes_nothing,
    lists_page_by_cursor_and_filter_by_label_and_search_finds_names_and_labels,
    concurrent_crossing_moves_never_make_a_cycle,
    removing_a_person_takes_them_out_of_groups_and_scopes,
);

/// Two organisations with a directory each. In A: site `hq` (tree top ─ managed ─ inner, and
/// top ─ beside) and site `annex`; lock `dev_in` in inner (owned by the device owner), lock
/// `dev_out` beside; a group with the member, a device group with `dev_in`. The space manager
/// manages the subtree under `managed`. In B: one of each.
struct World {
    server: TestServer,
    org_a: OrgId,
    org_b: OrgId,
    anon: ApiSession,
    member_a: ApiSession,
    manager_a: ApiSession,
    owner_a: ApiSession,
    admin_a: ApiSession,
    admin_b: ApiSession,
    member_a_id: AccountId,
    admin_a_id: AccountId,
    manager_a_id: AccountId,
    owner_a_id: AccountId,
    admin_b_id: AccountId,
    member_b_id: AccountId,
    site_a: String,
    annex: String,
    site_b: String,
    top: String,
    managed: String,
    inner: String,
    beside: String,
    space_b: String,
    dev_in: String,
    dev_out: String,
    dev_b: String,
    group_a: String,
    group_b: String,
    dgroup_a: String,
    dgroup_b: String,
}

async fn org(app: &Arc<App>, name: &str) -> anyhow::Result<OrgId> {
    let input = NewOrganisation::parse(name, "contracts@example.com", 100)?;
    Ok(app
        .create_organisation(&Actor::operator_cli(), input)
        .await?
        .id)
}

async fn ok(
    session: &ApiSession,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let (status, value) = session.call(method.clone(), path, body).await?;
    anyhow::ensure!(status.is_success(), "{method} {path}: {status} {value}");
    Ok(value)
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

async fn create(session: &ApiSession, path: &str, body: Value) -> anyhow::Result<String> {
    Ok(id(&ok(session, Method::POST, path, Some(body)).await?))
}

async fn world(db: TestDb) -> anyhow::Result<World> {
    let server = TestServer::start(db).await?;
    let app = server.app.clone();
    let org_a = org(&app, "Acme Tower").await?;
    let org_b = org(&app, "Bravo Flats").await?;
    let admin_a_id = account(&app, "ada@a.example", "Ada Admin", false).await?;
    let member_a_id = account(&app, "mia@a.example", "Mia Member", false).await?;
    let manager_a_id = account(&app, "manu@a.example", "Manu Manager", false).await?;
    let owner_a_id = account(&app, "otto@a.example", "Otto Owner", false).await?;
    let admin_b_id = account(&app, "bea@b.example", "Bea Admin", false).await?;
    let member_b_id = account(&app, "max@b.example", "Max Member", false).await?;
    let active = MembershipStatus::Active;
    join(&app, org_a, admin_a_id, Role::OrgAdmin, active).await?;
    join(&app, org_a, member_a_id, Role::Member, active).await?;
    join(&app, org_a, manager_a_id, Role::SpaceManager, active).await?;
    join(&app, org_a, owner_a_id, Role::DeviceOwner, active).await?;
    join(&app, org_b, admin_b_id, Role::OrgAdmin, active).await?;
    join(&app, org_b, member_b_id, Role::Member, active).await?;
    let secret_a = enrol_totp(&app, admin_a_id).await?;
    let secret_b = enrol_totp(&app, admin_b_id).await?;
    let secret_m = enrol_totp(&app, manager_a_id).await?;
    let admin_a = sign_in(&server, "ada@a.example", Some(&secret_a)).await?;
    let admin_b = sign_in(&server, "bea@b.example", Some(&secret_b)).await?;
    let manager_a = sign_in(&server, "manu@a.example", Some(&secret_m)).await?;
    let member_a = sign_in(&server, "mia@a.example", None).await?;
    let owner_a = sign_in(&server, "otto@a.example", None).await?;
    let anon = ApiSession::anonymous(&server);

    let a = format!("/api/v1/orgs/{org_a}");
    let site_a = create(
        &admin_a,
        &format!("{a}/sites"),
        json!({ "name": "HQ", "time_zone": "Europe/Berlin" }),
    )
    .await?;
    let annex = create(
        &admin_a,
        &format!("{a}/sites"),
        json!({ "name": "Annex", "time_zone": "Europe/Berlin" }),
    )
    .await?;
    let space = |site: &str, parent: Option<&str>, name: &str| json!({ "site_id": site, "parent_id": parent, "name": name, "kind": "room" });
    let top = create(
        &admin_a,
        &format!("{a}/spaces"),
        space(&site_a, None, "Tower"),
    )
    .await?;
    let managed = create(
        &admin_a,
        &format!("{a}/spaces"),
        space(&site_a, Some(&top), "Floor 3"),
    )
    .await?;
    let inner = create(
        &admin_a,
        &format!("{a}/spaces"),
        space(&site_a, Some(&managed), "Room 301"),
    )
    .await?;
    let beside = create(
        &admin_a,
        &format!("{a}/spaces"),
        space(&site_a, Some(&top), "Floor 4"),
    )
    .await?;
    let lock = |space: &str, name: &str| json!({ "kind": "lock", "name": name, "space_id": space });
    let dev_in = create(&admin_a, &format!("{a}/devices"), lock(&inner, "Door 301")).await?;
    let dev_out = create(&admin_a, &format!("{a}/devices"), lock(&beside, "Door 401")).await?;
    let group_a = create(
        &admin_a,
        &format!("{a}/groups"),
        json!({ "name": "Cleaners", "members": [member_a_id] }),
    )
    .await?;
    let dgroup_a = create(
        &admin_a,
        &format!("{a}/device-groups"),
        json!({ "name": "Third floor", "members": [dev_in] }),
    )
    .await?;
    ok(
        &admin_a,
        Method::PUT,
        &format!("{a}/members/{manager_a_id}/scopes"),
        Some(json!({ "spaces": [managed] })),
    )
    .await?;
    ok(
        &admin_a,
        Method::PUT,
        &format!("{a}/members/{owner_a_id}/scopes"),
        Some(json!({ "devices": [dev_in] })),
    )
    .await?;

    let b = format!("/api/v1/orgs/{org_b}");
    let site_b = create(
        &admin_b,
        &format!("{b}/sites"),
        json!({ "name": "Flats", "time_zone": "Asia/Tokyo" }),
    )
    .await?;
    let space_b = create(
        &admin_b,
        &format!("{b}/spaces"),
        space(&site_b, None, "Block B"),
    )
    .await?;
    let dev_b = create(&admin_b, &format!("{b}/devices"), lock(&space_b, "Gate")).await?;
    let group_b = create(
        &admin_b,
        &format!("{b}/groups"),
        json!({ "name": "Tenants", "members": [member_b_id] }),
    )
    .await?;
    let dgroup_b = create(
        &admin_b,
        &format!("{b}/device-groups"),
        json!({ "name": "Gates" }),
    )
    .await?;
    Ok(World {
        server,
        org_a,
        org_b,
        anon,
        member_a,
        manager_a,
        owner_a,
        admin_a,
        admin_b,
        member_a_id,
        admin_a_id,
        manager_a_id,
        owner_a_id,
        admin_b_id,
        member_b_id,
        site_a,
        annex,
        site_b,
        top,
        managed,
        inner,
        beside,
        space_b,
        dev_in,
        dev_out,
        dev_b,
        group_a,
        group_b,
        dgroup_a,
        dgroup_b,
    })
}

fn a(w: &World) -> String {
    format!("/api/v1/orgs/{}", w.org_a)
}

fn b(w: &World) -> String {
    format!("/api/v1/orgs/{}", w.org_b)
}

/// The authorization-relevant audit events of a tenant: (change, target, details).
async fn admin_events(app: &Arc<App>, org: OrgId) -> anyhow::Result<Vec<(String, String, Value)>> {
    let mut tx = app.store.read().await?;
    Ok(tx
        .audit_events(Scope::Tenant(org), 0, 100_000)
        .await?
        .into_iter()
        .filter(|e| e.action == "authz_admin")
        .map(|e| {
            let details: Value = serde_json::from_str(&e.details).unwrap();
            (
                details["change"].as_str().unwrap().to_owned(),
                e.target,
                details,
            )
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Store conformance

async fn directory_repos_round_trip_and_stay_in_their_tenant(db: TestDb) -> anyhow::Result<()> {
    let server = TestServer::start(db).await?;
    let app = server.app.clone();
    let (ta, tb) = (org(&app, "Alpha").await?, org(&app, "Beta").await?);
    let person = account(&app, "pat@a.example", "Pat", false).await?;
    let other = account(&app, "oli@a.example", "Oli", false).await?;
    join(
        &app,
        ta,
        person,
        Role::SpaceManager,
        MembershipStatus::Active,
    )
    .await?;
    join(&app, ta, other, Role::Member, MembershipStatus::Active).await?;
    let store = &app.store;

    let site = Site {
        id: SiteId::generate(),
        org_id: ta,
        name: "HQ".into(),
        time_zone: "Europe/Berlin".into(),
        address: Some("Unter den Linden 1\nBerlin".into()),
        labels: vec!["berlin".into(), "hq".into()],
        created_at_ms: 10,
        version: 1,
    };
    let space = Space {
        id: SpaceId::generate(),
        site_id: site.id,
        parent_id: None,
        name: "Tower".into(),
        kind: "building".into(),
        labels: vec!["tower".into()],
        created_at_ms: 11,
        version: 1,
    };
    let device = Device {
        id: DeviceId::generate(),
        kind: DeviceKind::Lock,
        name: "Front door".into(),
        model: Some("LK-1".into()),
        space_id: Some(space.id),
        status: DeviceStatus::Enabled,
        labels: vec!["entrance".into()],
        created_at_ms: 12,
        version: 1,
    };
    let group = Group {
        id: GroupId::generate(),
        name: "Staff".into(),
        description: Some("Everyone".into()),
        labels: vec!["all".into()],
        members: vec![person],
        created_at_ms: 13,
        version: 1,
    };
    let dgroup = DeviceGroup {
        id: DeviceGroupId::generate(),
        name: "Doors".into(),
        description: None,
        labels: vec![],
        members: vec![device.id],
        created_at_ms: 14,
        version: 1,
    };
    let holidays = vec![Holiday {
        date: "2026-12-25".into(),
        name: "Christmas".into(),
    }];
    let mut tx = store.write().await?;
    tx.insert_site(ta, &site).await?;
    tx.insert_space(ta, &space).await?;
    tx.insert_device(ta, &device).await?;
    tx.insert_group(ta, &group).await?;
    tx.insert_device_group(ta, &dgroup).await?;
    tx.replace_holidays(ta, site.id, &holidays).await?;
    tx.set_managed_spaces(ta, person, &[space.id]).await?;
    tx.set_owned_devices(ta, other, &[device.id]).await?;
    tx.set_member_profile(
        ta,
        person,
        &MemberProfile {
            display_name: Some("Pat P.".into()),
            employee_number: Some("E-1".into()),
            labels: vec!["night-shift".into()],
        },
    )
    .await?;
    tx.commit().await?;

    let mut tx = store.read().await?;
    assert_eq!(tx.site(ta, site.id).await?, Some(site.clone()));
    assert_eq!(tx.space(ta, space.id).await?, Some(space.clone()));
    assert_eq!(tx.spaces(ta).await?, vec![space.clone()]);
    assert_eq!(tx.device(ta, device.id).await?, Some(device.clone()));
    assert_eq!(tx.devices(ta).await?, vec![device.clone()]);
    assert_eq!(tx.group(ta, group.id).await?, Some(group.clone()));
    assert_eq!(tx.device_group(ta, dgroup.id).await?, Some(dgroup.clone()));
    assert_eq!(tx.holidays(ta, site.id).await?, holidays);
    assert_eq!(tx.managed_spaces(ta, person).await?, vec![space.id]);
    assert_eq!(tx.owned_devices(ta, other).await?, vec![device.id]);
    assert_eq!(tx.devices_in_space(ta, space.id).await?, vec![device.id]);
    let profile = tx.member_profile(ta, person).await?.unwrap();
    assert_eq!(profile.employee_number.as_deref(), Some("E-1"));
    assert_eq!(profile.labels, vec!["night-shift".to_owned()]);
    // Another tenant sees none of it.
    assert_eq!(tx.site(tb, site.id).await?, None);
    assert_eq!(tx.space(tb, space.id).await?, None);
    assert_eq!(tx.device(tb, device.id).await?, None);
    assert_eq!(tx.group(tb, group.id).await?, None);
    assert_eq!(tx.device_group(tb, dgroup.id).await?, None);
    assert!(tx.spaces(tb).await?.is_empty() && tx.devices(tb).await?.is_empty());
    assert!(tx.labels_by_object(tb, LabelKind::Site).await?.is_empty());
    assert!(tx.holidays(tb, site.id).await?.is_empty());
    drop(tx);

    // Versions: an update from a stale copy is refused with stale_version.
    let mut tx = store.write().await?;
    let moved = Space {
        name: "Tower A".into(),
        labels: vec![],
        ..space.clone()
    };
    assert_eq!(tx.update_space(ta, &moved).await?, 2);
    match tx.update_space(ta, &moved).await.unwrap_err() {
        StoreError::Domain(d) => assert_eq!(d.code, ErrorCode::StaleVersion),
        other => panic!("expected stale_version, got {other}"),
    }
    drop(tx);
    let mut tx = store.write().await?;
    for stale in [
        tx.update_site(
            ta,
            &Site {
                version: 9,
                ..site.clone()
            },
        )
        .await,
        tx.update_device(
            ta,
            &Device {
                version: 9,
                ..device.clone()
            },
        )
        .await,
        tx.update_group(
            ta,
            &Group {
                version: 9,
                ..group.clone()
            },
        )
        .await,
        tx.update_device_group(
            ta,
            &DeviceGroup {
                version: 9,
                ..dgroup.clone()
            },
        )
        .await,
    ] {
        match stale.unwrap_err() {
            StoreError::Domain(d) => assert_eq!(d.code, ErrorCode::StaleVersion),
            other => panic!("expected stale_version, got {other}"),
        }
    }
    drop(tx);

    // The employee number is unique per organisation (blind index).
    let mut tx = store.write().await?;
    let clash = tx
        .set_member_profile(
            ta,
            other,
            &MemberProfile {
                employee_number: Some(" e-1 ".into()),
                ..MemberProfile::default()
            },
        )
        .await
        .unwrap_err();
    match clash {
        StoreError::Domain(d) => assert_eq!(d.code, ErrorCode::Conflict),
        other => panic!("expected a conflict, got {other}"),
    }
    drop(tx);

    // Deleting a device drops its owners and device-group memberships; labels go too.
    let mut tx = store.write().await?;
    tx.delete_device(ta, device.id).await?;
    tx.delete_group(ta, group.id).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    assert!(tx.owned_devices(ta, other).await?.is_empty());
    assert!(
        tx.device_group(ta, dgroup.id)
            .await?
            .unwrap()
            .members
            .is_empty()
    );
    assert!(
        tx.labels_of(ta, LabelKind::Device, &device.id.to_string())
            .await?
            .is_empty()
    );
    assert_eq!(tx.group(ta, group.id).await?, None);
    assert!(
        tx.membership(ta, person).await?.is_some(),
        "a person outlives their group"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Authorization matrix

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// An object of A inside the space manager's subtree (the device owner's device).
    In,
    /// An object of A outside it.
    Out,
    /// An object of B.
    B,
}

const CALLERS: [&str; 6] = [
    "anonymous",
    "member A",
    "manager A",
    "owner A",
    "admin A",
    "admin B",
];

/// One endpoint: how to call it on a target, and the expected status for each caller (rows in
/// `CALLERS` order) on In, Out and B (0: target not used — the endpoint is not spatial).
struct Row {
    name: &'static str,
    method: Method,
    call: fn(&World, Target) -> (String, Option<Value>),
    expect: [[u16; 3]; 6],
}

fn org_of(w: &World, t: Target) -> String {
    if t == Target::B { b(w) } else { a(w) }
}

fn site_of(w: &World, t: Target) -> &str {
    match t {
        Target::In => &w.site_a,
        Target::Out => &w.annex,
        Target::B => &w.site_b,
    }
}

fn space_of(w: &World, t: Target) -> &str {
    match t {
        Target::In => &w.inner,
        Target::Out => &w.beside,
        Target::B => &w.space_b,
    }
}

fn device_of(w: &World, t: Target) -> &str {
    match t {
        Target::In => &w.dev_in,
        Target::Out => &w.dev_out,
        Target::B => &w.dev_b,
    }
}

fn group_of(w: &World, t: Target) -> &str {
    if t == Target::B {
        &w.group_b
    } else {
        &w.group_a
    }
}

fn dgroup_of(w: &World, t: Target) -> &str {
    if t == Target::B {
        &w.dgroup_b
    } else {
        &w.dgroup_a
    }
}

fn person_of(w: &World, t: Target) -> AccountId {
    if t == Target::B {
        w.member_b_id
    } else {
        w.member_a_id
    }
}

const U: u16 = 401;

fn rows() -> Vec<Row> {
    // Patterns, per caller [anonymous, member A, manager A, owner A, admin A, admin B] on [In, Out, B].
    const ADMIN_ONLY_LIST: [[u16; 3]; 6] = [
        [U, 0, U],
        [403, 0, 404],
        [403, 0, 404],
        [403, 0, 404],
        [200, 0, 404],
        [404, 0, 200],
    ];
    const SCOPED_LIST: [[u16; 3]; 6] = [
        [U, 0, U],
        [403, 0, 404],
        [200, 0, 404],
        [200, 0, 404],
        [200, 0, 404],
        [404, 0, 200],
    ];
    let admin_only = |ok: u16| -> [[u16; 3]; 6] {
        [
            [U, 0, U],
            [403, 0, 404],
            [403, 0, 404],
            [403, 0, 404],
            [ok, 0, 404],
            [404, 0, ok],
        ]
    };
    vec![
        Row {
            name: "list sites",
            method: Method::GET,
            expect: SCOPED_LIST,
            call: |w, t| (format!("{}/sites", org_of(w, t)), None),
        },
        Row {
            name: "create site",
            method: Method::POST,
            expect: [
                [U, 0, U],
                [403, 0, 404],
                [403, 0, 404],
                [403, 0, 404],
                [201, 0, 404],
                [404, 0, 201],
            ],
            call: |w, t| {
                (
                    format!("{}/sites", org_of(w, t)),
                    Some(json!({ "name": "New", "time_zone": "UTC" })),
                )
            },
        },
        Row {
            name: "show site",
            method: Method::GET,
            expect: [
                [U, U, U],
                [403, 403, 404],
                [200, 404, 404],
                [404, 404, 404],
                [200, 200, 404],
                [404, 404, 200],
            ],
            call: |w, t| (format!("{}/sites/{}", org_of(w, t), site_of(w, t)), None),
        },
        Row {
            name: "change site",
            method: Method::PATCH,
            expect: [
                [U, U, U],
                [403, 403, 404],
                [403, 404, 404],
                [404, 404, 404],
                [200, 200, 404],
                [404, 404, 200],
            ],
            call: |w, t| {
                (
                    format!("{}/sites/{}", org_of(w, t), site_of(w, t)),
                    Some(json!({})),
                )
            },
        },
        Row {
            name: "delete site (stale If-Match)",
            method: Method::DELETE,
            expect: [
                [U, U, U],
                [403, 403, 404],
                [403, 404, 404],
                [404, 404, 404],
                [412, 412, 404],
                [404, 404, 412],
            ],
            call: |w, t| (format!("{}/sites/{}", org_of(w, t), site_of(w, t)), None),
        },
        Row {
            name: "show holidays",
            method: Method::GET,
            expect: [
                [U, U, U],
                [403, 403, 404],
                [200, 404, 404],
                [404, 404, 404],
                [200, 200, 404],
                [404, 404, 200],
            ],
            call: |w, t| {
                (
                    format!("{}/sites/{}/holidays", org_of(w, t), site_of(w, t)),
                    None,
                )
            },
        },
        Row {
            name: "replace holidays",
            method: Method::PUT,
            expect: [
                [U, U, U],
                [403, 403, 404],
                [403, 404, 404],
                [404, 404, 404],
                [200, 200, 404],
                [404, 404, 200],
            ],
            call: |w, t| {
                (
                    format!("{}/sites/{}/holidays", org_of(w, t), site_of(w, t)),
                    Some(json!({ "holidays": [{ "date": "2026-12-25", "name": "Christmas" }] })),
                )
            },
        },
        Row {
            name: "list spaces",
            method: Method::GET,
            expect: SCOPED_LIST,
            call: |w, t| (format!("{}/spaces", org_of(w, t)), None),
        },
        Row {
            name: "create space",
            method: Method::POST,
            expect: [
                [U, U, U],
                [403, 403, 404],
                [403, 403, 404],
                [403, 403, 404],
                [201, 201, 404],
                [404, 404, 201],
            ],
            call: |w, t| {
                (
                    format!("{}/spaces", org_of(w, t)),
                    Some(json!({
                "site_id": if t == Target::B { &w.site_b } else { &w.site_a },
                "parent_id": space_of(w, t), "name": "Cupboard", "kind": "room" })),
                )
            },
        },
        Row {
            name: "show space",
            method: Method::GET,
            expect: [
                [U, U, U],
                [403, 403, 404],
                [200, 404, 404],
                [404, 404, 404],
                [200, 200, 404],
                [404, 404, 200],
            ],
            call: |w, t| (format!("{}/spaces/{}", org_of(w, t), space_of(w, t)), None),
        },
        Row {
            name: "change space",
            method: Method::PATCH,
            expect: [
                [U, U, U],
                [403, 403, 404],
                [403, 404, 404],
                [404, 404, 404],
                [200, 200, 404],
                [404, 404, 200],
            ],
            call: |w, t| {
                (
                    format!("{}/spaces/{}", org_of(w, t), space_of(w, t)),
                    Some(json!({})),
                )
            },
        },
        Row {
            name: "delete space (stale If-Match)",
            method: Method::DELETE,
            expect: [
                [U, U, U],
                [403, 403, 404],
                [403, 404, 404],
                [404, 404, 404],
                [412, 412, 404],
                [404, 404, 412],
            ],
            call: |w, t| (format!("{}/spaces/{}", org_of(w, t), space_of(w, t)), None),
        },
        Row {
            name: "list devices",
            method: Method::GET,
            expect: SCOPED_LIST,
            call: |w, t| (format!("{}/devices", org_of(w, t)), None),
        },
        Row {
            name: "create device",
            method: Method::POST,
            expect: [
                [U, U, U],
                [403, 403, 404],
                [201, 422, 404],
                [403, 403, 404],
                [201, 201, 404],
                [404, 404, 201],
            ],
            call: |w, t| {
                (
                    format!("{}/devices", org_of(w, t)),
                    Some(json!({ "kind": "lock", "name": "Extra", "space_id": space_of(w, t) })),
                )
            },
        },
        Row {
            name: "show device",
            method: Method::GET,
            expect: [
                [U, U, U],
                [403, 403, 404],
                [200, 404, 404],
                [200, 404, 404],
                [200, 200, 404],
                [404, 404, 200],
            ],
            call: |w, t| {
                (
                    format!("{}/devices/{}", org_of(w, t), device_of(w, t)),
                    None,
                )
            },
        },
        Row {
            name: "change device",
            method: Method::PATCH,
            expect: [
                [U, U, U],
                [403, 403, 404],
                [200, 404, 404],
                [200, 404, 404],
                [200, 200, 404],
                [404, 404, 200],
            ],
            call: |w, t| {
                (
                    format!("{}/devices/{}", org_of(w, t), device_of(w, t)),
                    Some(json!({})),
                )
            },
        },
        Row {
            name: "delete device (stale If-Match)",
            method: Method::DELETE,
            expect: [
                [U, U, U],
                [403, 403, 404],
                [412, 404, 404],
                [403, 404, 404],
                [412, 412, 404],
                [404, 404, 412],
            ],
            call: |w, t| {
                (
                    format!("{}/devices/{}", org_of(w, t), device_of(w, t)),
                    None,
                )
            },
        },
        Row {
            name: "list groups",
            method: Method::GET,
            expect: ADMIN_ONLY_LIST,
            call: |w, t| (format!("{}/groups", org_of(w, t)), None),
        },
        Row {
            name: "create group",
            method: Method::POST,
            expect: admin_only(201),
            call: |w, t| {
                (
                    format!("{}/groups", org_of(w, t)),
                    Some(json!({ "name": "Visitors" })),
                )
            },
        },
        Row {
            name: "show group",
            method: Method::GET,
            expect: admin_only(200),
            call: |w, t| (format!("{}/groups/{}", org_of(w, t), group_of(w, t)), None),
        },
        Row {
            name: "change group",
            method: Method::PATCH,
            expect: admin_only(200),
            call: |w, t| {
                (
                    format!("{}/groups/{}", org_of(w, t), group_of(w, t)),
                    Some(json!({})),
                )
            },
        },
        Row {
            name: "delete group (stale If-Match)",
            method: Method::DELETE,
            expect: admin_only(412),
            call: |w, t| (format!("{}/groups/{}", org_of(w, t), group_of(w, t)), None),
        },
        Row {
            name: "list group members",
            method: Method::GET,
            expect: admin_only(200),
            call: |w, t| {
                (
                    format!("{}/groups/{}/members", org_of(w, t), group_of(w, t)),
                    None,
                )
            },
        },
        Row {
            name: "add group member",
            method: Method::POST,
            expect: admin_only(201),
            call: |w, t| {
                (
                    format!("{}/groups/{}/members", org_of(w, t), group_of(w, t)),
                    Some(json!({
                "account_id": if t == Target::B { w.admin_b_id } else { w.manager_a_id } })),
                )
            },
        },
        Row {
            name: "remove group member",
            method: Method::DELETE,
            expect: admin_only(204),
            call: |w, t| {
                (
                    format!(
                        "{}/groups/{}/members/{}",
                        org_of(w, t),
                        group_of(w, t),
                        if t == Target::B {
                            w.admin_b_id
                        } else {
                            w.manager_a_id
                        }
                    ),
                    None,
                )
            },
        },
        Row {
            name: "list device groups",
            method: Method::GET,
            expect: ADMIN_ONLY_LIST,
            call: |w, t| (format!("{}/device-groups", org_of(w, t)), None),
        },
        Row {
            name: "create device group",
            method: Method::POST,
            expect: admin_only(201),
            call: |w, t| {
                (
                    format!("{}/device-groups", org_of(w, t)),
                    Some(json!({ "name": "Lifts" })),
                )
            },
        },
        Row {
            name: "show device group",
            method: Method::GET,
            expect: admin_only(200),
            call: |w, t| {
                (
                    format!("{}/device-groups/{}", org_of(w, t), dgroup_of(w, t)),
                    None,
                )
            },
        },
        Row {
            name: "change device group",
            method: Method::PATCH,
            expect: admin_only(200),
            call: |w, t| {
                (
                    format!("{}/device-groups/{}", org_of(w, t), dgroup_of(w, t)),
                    Some(json!({})),
                )
            },
        },
        Row {
            name: "delete device group (stale If-Match)",
            method: Method::DELETE,
            expect: admin_only(412),
            call: |w, t| {
                (
                    format!("{}/device-groups/{}", org_of(w, t), dgroup_of(w, t)),
                    None,
                )
            },
        },
        Row {
            name: "list device group members",
            method: Method::GET,
            expect: admin_only(200),
            call: |w, t| {
                (
                    format!("{}/device-groups/{}/members", org_of(w, t), dgroup_of(w, t)),
                    None,
                )
            },
        },
        Row {
            name: "add device group member",
            method: Method::POST,
            expect: admin_only(201),
            call: |w, t| {
                (
                    format!("{}/device-groups/{}/members", org_of(w, t), dgroup_of(w, t)),
                    Some(json!({
                "device_id": if t == Target::B { &w.dev_b } else { &w.dev_out } })),
                )
            },
        },
        Row {
            name: "remove device group member",
            method: Method::DELETE,
            expect: admin_only(204),
            call: |w, t| {
                (
                    format!(
                        "{}/device-groups/{}/members/{}",
                        org_of(w, t),
                        dgroup_of(w, t),
                        if t == Target::B { &w.dev_b } else { &w.dev_out }
                    ),
                    None,
                )
            },
        },
        Row {
            name: "show profile",
            method: Method::GET,
            expect: admin_only(200),
            call: |w, t| {
                (
                    format!("{}/members/{}/profile", org_of(w, t), person_of(w, t)),
                    None,
                )
            },
        },
        Row {
            name: "change profile",
            method: Method::PATCH,
            expect: admin_only(200),
            call: |w, t| {
                (
                    format!("{}/members/{}/profile", org_of(w, t), person_of(w, t)),
                    Some(json!({})),
                )
            },
        },
        Row {
            name: "show scopes",
            method: Method::GET,
            expect: admin_only(200),
            call: |w, t| {
                (
                    format!("{}/members/{}/scopes", org_of(w, t), person_of(w, t)),
                    None,
                )
            },
        },
        Row {
            name: "replace scopes",
            method: Method::PUT,
            expect: admin_only(200),
            call: |w, t| {
                (
                    format!("{}/members/{}/scopes", org_of(w, t), person_of(w, t)),
                    Some(json!({})),
                )
            },
        },
        Row {
            name: "search",
            method: Method::GET,
            expect: SCOPED_LIST,
            call: |w, t| (format!("{}/search?q=o", org_of(w, t)), None),
        },
    ]
}

async fn authorization_matrix_for_every_directory_endpoint(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let callers = [
        &w.anon,
        &w.member_a,
        &w.manager_a,
        &w.owner_a,
        &w.admin_a,
        &w.admin_b,
    ];
    let mut failures = Vec::new();
    let mut checked = 0;
    for row in rows() {
        for (ci, caller) in callers.iter().enumerate() {
            for (ti, target) in [Target::In, Target::Out, Target::B].into_iter().enumerate() {
                let expected = row.expect[ci][ti];
                if expected == 0 {
                    continue;
                }
                let (path, body) = (row.call)(&w, target);
                let mut request = caller.request(row.method.clone(), &path);
                if row.method == Method::DELETE && !path.contains("/members/") {
                    request = request.header("if-match", "\"999999\"");
                }
                if let Some(body) = body {
                    request = request.json(&body);
                }
                let response = request.send().await?;
                let got = response.status().as_u16();
                checked += 1;
                if got != expected {
                    let text = response.text().await.unwrap_or_default();
                    failures.push(format!(
                        "{} as {} on {target:?}: expected {expected}, got {got} {text}",
                        row.name, CALLERS[ci]
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 300, "only {checked} cells checked");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Scope

fn ids(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v["items"].as_array().unwrap().iter().map(id).collect();
    out.sort();
    out
}

fn sorted(mut v: Vec<&String>) -> Vec<String> {
    v.sort();
    v.into_iter().cloned().collect()
}

async fn space_manager_reaches_only_their_subtree_and_scope_changes_apply_at_once(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db).await?;
    let a = a(&w);
    let m = &w.manager_a;
    // Reads: exactly the subtree under `managed`, its devices, its site.
    let spaces = ok(m, Method::GET, &format!("{a}/spaces"), None).await?;
    assert_eq!(ids(&spaces), sorted(vec![&w.managed, &w.inner]));
    let devices = ok(m, Method::GET, &format!("{a}/devices"), None).await?;
    assert_eq!(ids(&devices), vec![w.dev_in.clone()]);
    let sites = ok(m, Method::GET, &format!("{a}/sites"), None).await?;
    assert_eq!(ids(&sites), vec![w.site_a.clone()]);
    let found = ok(m, Method::GET, &format!("{a}/search?q=door"), None).await?;
    let names: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["Door 301"], "search stays in scope");
    for path in [
        format!("{a}/spaces/{}", w.top),
        format!("{a}/spaces/{}", w.beside),
        format!("{a}/devices/{}", w.dev_out),
    ] {
        assert_eq!(
            m.call(Method::GET, &path, None).await?.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // Changes: devices inside, never out (moving one out is refused and changes nothing).
    let moved = m
        .call(
            Method::PATCH,
            &format!("{a}/devices/{}", w.dev_in),
            Some(json!({ "space_id": w.beside })),
        )
        .await?;
    assert_eq!(moved.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", moved.1);
    assert_eq!(moved.1["errors"][0]["field"], "space_id");
    let still = ok(
        &w.admin_a,
        Method::GET,
        &format!("{a}/devices/{}", w.dev_in),
        None,
    )
    .await?;
    assert_eq!(still["space_id"], json!(w.inner));
    ok(
        m,
        Method::PATCH,
        &format!("{a}/devices/{}", w.dev_in),
        Some(json!({ "space_id": w.managed, "name": "Door 3" })),
    )
    .await?;
    let hub = m
        .call(
            Method::POST,
            &format!("{a}/devices"),
            Some(json!({ "kind": "hub", "name": "Hub" })),
        )
        .await?;
    assert_eq!(
        hub.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a manager's hub must sit in their spaces"
    );
    // Spaces are read-only for a manager.
    let rename = m
        .call(
            Method::PATCH,
            &format!("{a}/spaces/{}", w.inner),
            Some(json!({ "name": "X" })),
        )
        .await?;
    assert_eq!(rename.0, StatusCode::FORBIDDEN);
    // The admin moves the scope to `beside`: the very next request sees the new reach.
    ok(
        &w.admin_a,
        Method::PUT,
        &format!("{a}/members/{}/scopes", w.manager_a_id),
        Some(json!({ "spaces": [w.beside] })),
    )
    .await?;
    let spaces = ok(m, Method::GET, &format!("{a}/spaces"), None).await?;
    assert_eq!(ids(&spaces), vec![w.beside.clone()]);
    assert_eq!(
        m.call(Method::GET, &format!("{a}/devices/{}", w.dev_in), None)
            .await?
            .0,
        StatusCode::NOT_FOUND
    );
    ok(m, Method::GET, &format!("{a}/devices/{}", w.dev_out), None).await?;
    // Moving a space carries its devices into (or out of) the manager's reach at once.
    ok(
        &w.admin_a,
        Method::PATCH,
        &format!("{a}/spaces/{}", w.managed),
        Some(json!({ "parent_id": w.beside })),
    )
    .await?;
    let devices = ok(m, Method::GET, &format!("{a}/devices"), None).await?;
    assert_eq!(ids(&devices), sorted(vec![&w.dev_in, &w.dev_out]));
    // Losing the role drops the scope: nothing administrative left.
    let (server, admin) = (&w.server, &w.admin_a);
    let _ = server;
    ok(
        admin,
        Method::PUT,
        &format!("{a}/members/{}/role", w.manager_a_id),
        Some(json!({ "role": "member" })),
    )
    .await?;
    assert_eq!(
        m.call(Method::GET, &format!("{a}/spaces"), None).await?.0,
        StatusCode::FORBIDDEN
    );
    let scopes = ok(
        admin,
        Method::GET,
        &format!("{a}/members/{}/scopes", w.manager_a_id),
        None,
    )
    .await?;
    assert_eq!(scopes["spaces"], json!([]));
    Ok(())
}

async fn device_owner_reaches_only_their_devices(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let a = a(&w);
    let o = &w.owner_a;
    let devices = ok(o, Method::GET, &format!("{a}/devices"), None).await?;
    assert_eq!(ids(&devices), vec![w.dev_in.clone()]);
    assert!(ids(&ok(o, Method::GET, &format!("{a}/spaces"), None).await?).is_empty());
    assert!(ids(&ok(o, Method::GET, &format!("{a}/sites"), None).await?).is_empty());
    let renamed = ok(
        o,
        Method::PATCH,
        &format!("{a}/devices/{}", w.dev_in),
        Some(json!({ "name": "My door", "status": "disabled", "labels": ["Home"] })),
    )
    .await?;
    assert_eq!(
        (renamed["name"].as_str(), renamed["status"].as_str()),
        (Some("My door"), Some("disabled"))
    );
    assert_eq!(renamed["labels"], json!(["home"]));
    let before = ok(
        &w.admin_a,
        Method::GET,
        &format!("{a}/devices/{}", w.dev_in),
        None,
    )
    .await?;
    for (method, body) in [
        (Method::PATCH, Some(json!({ "space_id": w.beside }))),
        (Method::DELETE, None),
    ] {
        let (status, _) = o
            .call(method.clone(), &format!("{a}/devices/{}", w.dev_in), body)
            .await?;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method}");
    }
    assert_eq!(
        ok(
            &w.admin_a,
            Method::GET,
            &format!("{a}/devices/{}", w.dev_in),
            None
        )
        .await?,
        before
    );
    let create = o
        .call(
            Method::POST,
            &format!("{a}/devices"),
            Some(json!({ "kind": "lock", "name": "x", "space_id": w.inner })),
        )
        .await?;
    assert_eq!(create.0, StatusCode::FORBIDDEN);
    for path in [
        format!("{a}/devices/{}", w.dev_out),
        format!("{a}/spaces/{}", w.inner),
        format!("{a}/sites/{}", w.site_a),
    ] {
        assert_eq!(
            o.call(Method::GET, &path, None).await?.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        o.call(Method::GET, &format!("{a}/groups"), None).await?.0,
        StatusCode::FORBIDDEN
    );
    // Ownership handed to another device: the next request sees only that one.
    ok(
        &w.admin_a,
        Method::PUT,
        &format!("{a}/members/{}/scopes", w.owner_a_id),
        Some(json!({ "devices": [w.dev_out] })),
    )
    .await?;
    assert_eq!(
        ids(&ok(o, Method::GET, &format!("{a}/devices"), None).await?),
        vec![w.dev_out.clone()]
    );
    // Scopes only fit their role.
    let wrong = w
        .admin_a
        .call(
            Method::PUT,
            &format!("{a}/members/{}/scopes", w.owner_a_id),
            Some(json!({ "spaces": [w.inner] })),
        )
        .await?;
    assert_eq!(wrong.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.1["errors"][0]["field"], "spaces");
    // Changing a scope is a role grant: it needs a recent sign-in (step-up).
    w.server.db.clock.advance_ms(11 * 60_000);
    let stale = w
        .admin_a
        .call(
            Method::PUT,
            &format!("{a}/members/{}/scopes", w.owner_a_id),
            Some(json!({ "devices": [] })),
        )
        .await?;
    assert_eq!(
        (stale.0, stale.1["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("step_up_required"))
    );
    assert_eq!(
        ids(&ok(o, Method::GET, &format!("{a}/devices"), None).await?),
        vec![w.dev_out.clone()]
    );
    // A read-only API token of an org admin reads the directory but changes nothing.
    let token = ok(
        &w.admin_a,
        Method::POST,
        &format!("{a}/api-tokens"),
        Some(json!({ "name": "reader", "scope": "read", "expires_in_days": 30 })),
    )
    .await?;
    let reader = ApiSession::with_token(&w.server, token["token"].as_str().unwrap());
    ok(&reader, Method::GET, &format!("{a}/spaces"), None).await?;
    let refused = reader
        .call(
            Method::PATCH,
            &format!("{a}/spaces/{}", w.inner),
            Some(json!({ "name": "R" })),
        )
        .await?;
    assert_eq!(refused.0, StatusCode::FORBIDDEN);
    Ok(())
}

async fn guests_get_nothing_administrative_and_expire_like_disabled_members(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db).await?;
    let a = a(&w);
    let path = format!("{a}/members/{}/role", w.member_a_id);
    // A guest is time-limited: no end, or an end in the past, is refused.
    let no_end = w
        .admin_a
        .call(Method::PUT, &path, Some(json!({ "role": "guest" })))
        .await?;
    assert_eq!(no_end.0, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_end.1["errors"][0]["field"], "expires_at");
    let past = w
        .admin_a
        .call(
            Method::PUT,
            &path,
            Some(json!({ "role": "guest", "expires_at": "2020-01-01T00:00:00Z" })),
        )
        .await?;
    assert_eq!(past.0, StatusCode::UNPROCESSABLE_ENTITY);
    // Ten minutes: inside the sessions' idle timeouts, so only the guest's end can refuse them.
    let end_ms = w.server.db.clock.now_ms() + 600_000;
    let end = latchkey_domain::time::rfc3339_utc(end_ms);
    let guest = ok(
        &w.admin_a,
        Method::PUT,
        &path,
        Some(json!({ "role": "guest", "expires_at": end })),
    )
    .await?;
    assert_eq!(guest["role"], "guest");
    let profile = ok(
        &w.admin_a,
        Method::GET,
        &format!("{a}/members/{}/profile", w.member_a_id),
        None,
    )
    .await?;
    assert_eq!(profile["expires_at"], json!(end));
    // Nothing administrative while valid…
    for p in [
        format!("{a}/spaces"),
        format!("{a}/devices"),
        format!("{a}/sites/{}", w.site_a),
        format!("{a}/members"),
    ] {
        assert_eq!(
            w.member_a.call(Method::GET, &p, None).await?.0,
            StatusCode::FORBIDDEN,
            "{p}"
        );
    }
    // …but their own things still work (API tokens are a member-level thing).
    assert_eq!(
        w.member_a
            .call(Method::GET, &format!("{a}/api-tokens"), None)
            .await?
            .0
            .as_u16()
            / 100,
        2
    );
    // Past the end, the guest is refused exactly like a disabled member: the organisation is
    // not theirs any more (404), and it leaves their list of organisations.
    w.server.db.clock.advance_ms(600_001);
    let me = ok(&w.member_a, Method::GET, "/api/v1/me", None).await?;
    let orgs = me["organisations"].as_array().cloned().unwrap_or_default();
    assert!(
        orgs.iter()
            .all(|o| o["org_id"] != json!(w.org_a.to_string())),
        "{me}"
    );
    let expired = w
        .member_a
        .call(Method::GET, &format!("{a}/spaces"), None)
        .await?;
    assert_eq!(expired.0, StatusCode::NOT_FOUND);
    let disabled_id = w.owner_a_id;
    ok(
        &w.admin_a,
        Method::POST,
        &format!("{a}/members/{disabled_id}/disable"),
        None,
    )
    .await?;
    // Disabling ends their sessions; signed in afresh, the organisation answers them as it
    // answers the expired guest.
    let again = sign_in(&w.server, "otto@a.example", None).await?;
    let disabled = again
        .call(Method::GET, &format!("{a}/devices"), None)
        .await?;
    assert_eq!(
        disabled.0, expired.0,
        "an expired guest and a disabled member are answered alike"
    );
    assert_eq!(
        w.member_a
            .call(Method::GET, &format!("{a}/api-tokens"), None)
            .await?
            .0,
        StatusCode::NOT_FOUND
    );
    // Like a disabled member, an expired guest holds no seat…
    let now_ms = w.server.db.clock.now_ms();
    let seats = |app: Arc<App>| async move {
        anyhow::Ok(
            app.store
                .read()
                .await?
                .seats_in_use(w.org_a, now_ms)
                .await?,
        )
    };
    let in_use = seats(w.server.app.clone()).await?;
    let memberships = w
        .server
        .app
        .store
        .read()
        .await?
        .memberships(w.org_a)
        .await?;
    let holding = memberships
        .iter()
        .filter(|m| m.status == MembershipStatus::Active || m.status == MembershipStatus::Invited)
        .count();
    assert_eq!(
        in_use,
        i64::try_from(holding)? - 1,
        "the expired guest is active but not counted"
    );
    // …so with the contract full, giving them time again is refused like an invitation…
    let contract = |limit: i64| ContractChange {
        seat_limit: Some(limit),
        contact_email: None,
    };
    w.server
        .app
        .change_contract(&Actor::operator_cli(), w.org_a, contract(in_use))
        .await?;
    let later = latchkey_domain::time::rfc3339_utc(now_ms + 600_000);
    let revive = json!({ "role": "guest", "expires_at": later });
    // A role change needs a recent sign-in, and the clock has moved past the first one.
    let secret = enrol_totp(&w.server.app, w.admin_a_id).await?;
    let admin = sign_in(&w.server, "ada@a.example", Some(&secret)).await?;
    let (status, problem) = admin.call(Method::PUT, &path, Some(revive.clone())).await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("seats"),
        "{problem}"
    );
    assert_eq!(
        seats(w.server.app.clone()).await?,
        in_use,
        "nothing changed"
    );
    // …and allowed once a seat is free, when the guest takes it again.
    w.server
        .app
        .change_contract(&Actor::operator_cli(), w.org_a, contract(in_use + 1))
        .await?;
    ok(&admin, Method::PUT, &path, Some(revive)).await?;
    assert_eq!(seats(w.server.app.clone()).await?, in_use + 1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Audit

async fn every_directory_change_is_audited_with_before_and_after(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let a = a(&w);
    let app = w.server.app.clone();
    let start = admin_events(&app, w.org_a).await?.len();
    let adm = &w.admin_a;
    ok(
        adm,
        Method::PATCH,
        &format!("{a}/sites/{}", w.site_a),
        Some(json!({ "address": "Main St 1" })),
    )
    .await?;
    ok(
        adm,
        Method::PUT,
        &format!("{a}/sites/{}/holidays", w.site_a),
        Some(json!({ "holidays": [{ "date": "2026-12-24", "name": "Eve" }] })),
    )
    .await?;
    ok(
        adm,
        Method::PATCH,
        &format!("{a}/spaces/{}", w.inner),
        Some(json!({ "parent_id": w.beside })),
    )
    .await?;
    ok(
        adm,
        Method::PATCH,
        &format!("{a}/spaces/{}", w.inner),
        Some(json!({ "name": "Room 401" })),
    )
    .await?;
    ok(
        adm,
        Method::PATCH,
        &format!("{a}/devices/{}", w.dev_out),
        Some(json!({ "labels": ["lobby"] })),
    )
    .await?;
    ok(
        adm,
        Method::POST,
        &format!("{a}/groups/{}/members", w.group_a),
        Some(json!({ "account_id": w.owner_a_id })),
    )
    .await?;
    ok(
        adm,
        Method::DELETE,
        &format!("{a}/groups/{}/members/{}", w.group_a, w.owner_a_id),
        None,
    )
    .await?;
    ok(
        adm,
        Method::POST,
        &format!("{a}/device-groups/{}/members", w.dgroup_a),
        Some(json!({ "device_id": w.dev_out })),
    )
    .await?;
    ok(
        adm,
        Method::PATCH,
        &format!("{a}/members/{}/profile", w.member_a_id),
        Some(json!({ "employee_number": "E-77", "labels": ["day"] })),
    )
    .await?;
    ok(
        adm,
        Method::PUT,
        &format!("{a}/members/{}/scopes", w.manager_a_id),
        Some(json!({ "spaces": [w.top] })),
    )
    .await?;
    let extra = create(
        adm,
        &format!("{a}/spaces"),
        json!({ "site_id": w.annex, "name": "Shed", "kind": "building" }),
    )
    .await?;
    ok(adm, Method::DELETE, &format!("{a}/spaces/{extra}"), None).await?;
    ok(
        adm,
        Method::DELETE,
        &format!("{a}/devices/{}", w.dev_out),
        None,
    )
    .await?;
    ok(
        adm,
        Method::DELETE,
        &format!("{a}/groups/{}", w.group_a),
        None,
    )
    .await?;
    ok(
        adm,
        Method::DELETE,
        &format!("{a}/device-groups/{}", w.dgroup_a),
        None,
    )
    .await?;
    // A manager's change is audited the same way.
    ok(
        &w.manager_a,
        Method::PATCH,
        &format!("{a}/devices/{}", w.dev_in),
        Some(json!({ "name": "Door X" })),
    )
    .await?;

    let events = admin_events(&app, w.org_a).await?;
    let new: Vec<_> = events.get(start..).unwrap().to_vec();
    let changes: Vec<&str> = new.iter().map(|(c, _, _)| c.as_str()).collect();
    assert_eq!(
        changes,
        vec![
            "site_changed",
            "site_holidays_changed",
            "space_moved",
            "space_changed",
            "device_changed",
            "group_member_added",
            "group_member_removed",
            "device_group_member_added",
            "person_profile_changed",
            "role_scope_changed",
            "space_created",
            "space_deleted",
            "device_deleted",
            "group_deleted",
            "device_group_deleted",
            "device_changed",
        ],
    );
    let mut tx = app.store.read().await?;
    let last = tx
        .audit_events(Scope::Tenant(w.org_a), 0, 100_000)
        .await?
        .pop()
        .unwrap();
    assert_eq!(
        last.actor,
        format!("user:{}", w.manager_a_id),
        "the manager is the actor"
    );
    drop(tx);
    for (change, target, details) in &new {
        assert_eq!(
            details["target"].as_str(),
            Some(target.as_str()),
            "{change}"
        );
        assert!(
            details.get("before").is_some() && details.get("after").is_some(),
            "{change}: {details}"
        );
    }
    let find = |c: &str| new.iter().find(|(x, _, _)| x == c).unwrap().2.clone();
    let moved = find("space_moved");
    assert_eq!(moved["before"]["parent_id"], json!(w.managed));
    assert_eq!(moved["after"]["parent_id"], json!(w.beside));
    assert_eq!(find("site_changed")["after"]["address"], "Main St 1");
    assert_eq!(
        find("site_holidays_changed")["after"][0]["date"],
        "2026-12-24"
    );
    assert_eq!(find("device_deleted")["after"], Value::Null);
    assert_eq!(find("space_created")["before"], Value::Null);
    assert_eq!(
        find("group_member_added")["after"]["members"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        find("role_scope_changed")["after"]["spaces"],
        json!([w.top])
    );
    // Every kind of directory change is in the trail, the world's set-up included.
    let extra_site = create(
        adm,
        &format!("{a}/sites"),
        json!({ "name": "Depot", "time_zone": "UTC" }),
    )
    .await?;
    ok(
        adm,
        Method::DELETE,
        &format!("{a}/sites/{extra_site}"),
        None,
    )
    .await?;
    ok(
        adm,
        Method::PATCH,
        &format!("{a}/devices/{}", w.dev_in),
        Some(json!({ "space_id": w.managed })),
    )
    .await?;
    let g = create(adm, &format!("{a}/groups"), json!({ "name": "Temp" })).await?;
    ok(
        adm,
        Method::PATCH,
        &format!("{a}/groups/{g}"),
        Some(json!({ "description": "for a week" })),
    )
    .await?;
    let dg = create(
        adm,
        &format!("{a}/device-groups"),
        json!({ "name": "Temp", "members": [w.dev_in] }),
    )
    .await?;
    ok(
        adm,
        Method::PATCH,
        &format!("{a}/device-groups/{dg}"),
        Some(json!({ "labels": ["t"] })),
    )
    .await?;
    ok(
        adm,
        Method::DELETE,
        &format!("{a}/device-groups/{dg}/members/{}", w.dev_in),
        None,
    )
    .await?;
    let mut kinds: Vec<String> = admin_events(&app, w.org_a)
        .await?
        .into_iter()
        .map(|(c, _, _)| c)
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(
        kinds,
        [
            "device_changed",
            "device_created",
            "device_deleted",
            "device_group_changed",
            "device_group_created",
            "device_group_deleted",
            "device_group_member_added",
            "device_group_member_removed",
            "device_moved",
            "group_changed",
            "group_created",
            "group_deleted",
            "group_member_added",
            "group_member_removed",
            "person_profile_changed",
            "role_scope_changed",
            "site_changed",
            "site_created",
            "site_deleted",
            "site_holidays_changed",
            "space_changed",
            "space_created",
            "space_deleted",
            "space_moved",
        ]
    );
    // No personal data in the trail: the profile change says which fields are set, not what.
    let profile = find("person_profile_changed");
    assert_eq!(profile["after"]["employee_number_set"], true);
    assert!(!profile.to_string().contains("E-77"), "{profile}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Bad input

/// Everything of A as the store holds it, plus the audit count: equal before and after a
/// refused request means nothing changed.
async fn snapshot(w: &World) -> anyhow::Result<String> {
    let mut tx = w.server.app.store.read().await?;
    let org = w.org_a;
    let text = format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        tx.sites(org).await?,
        tx.spaces(org).await?,
        tx.devices(org).await?,
        tx.groups(org).await?,
        tx.device_groups(org).await?,
        tx.member_profiles(org)
            .await?
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>(),
    );
    let audit = tx.audit_events(Scope::Tenant(org), 0, 100_000).await?.len();
    Ok(format!("{text}|{audit}"))
}

/// (what, method, path, body, expected status, field named in `errors`).
type BadCase = (
    &'static str,
    Method,
    String,
    Option<Value>,
    u16,
    Option<&'static str>,
);

async fn bad_directory_input_is_refused_clearly_and_changes_nothing(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db).await?;
    let a = a(&w);
    ok(
        &w.admin_a,
        Method::PATCH,
        &format!("{a}/members/{}/profile", w.manager_a_id),
        Some(json!({ "employee_number": "E-1" })),
    )
    .await?;
    let before = snapshot(&w).await?;
    let long = "x".repeat(201);
    let space_path = format!("{a}/spaces/{}", w.managed);
    let cases: Vec<BadCase> = vec![
        (
            "cycle: under itself",
            Method::PATCH,
            space_path.clone(),
            Some(json!({ "parent_id": w.managed })),
            422,
            Some("parent_id"),
        ),
        (
            "cycle: under a descendant",
            Method::PATCH,
            space_path.clone(),
            Some(json!({ "parent_id": w.inner })),
            422,
            Some("parent_id"),
        ),
        (
            "move across sites",
            Method::PATCH,
            space_path.clone(),
            Some(
                json!({ "parent_id": create(&w.admin_a, &format!("{a}/spaces"), json!({ "site_id": w.annex, "name": "Annex top", "kind": "building" })).await? }),
            ),
            422,
            Some("parent_id"),
        ),
        (
            "parent that does not exist",
            Method::PATCH,
            space_path.clone(),
            Some(json!({ "parent_id": SpaceId::generate() })),
            422,
            Some("parent_id"),
        ),
        (
            "delete a space that holds devices",
            Method::DELETE,
            format!("{a}/spaces/{}", w.inner),
            None,
            409,
            None,
        ),
        (
            "delete a space that holds spaces",
            Method::DELETE,
            format!("{a}/spaces/{}", w.top),
            None,
            409,
            None,
        ),
        (
            "delete a site that holds spaces",
            Method::DELETE,
            format!("{a}/sites/{}", w.site_a),
            None,
            409,
            None,
        ),
        (
            "unknown time zone on create",
            Method::POST,
            format!("{a}/sites"),
            Some(json!({ "name": "Mars", "time_zone": "Mars/Olympus" })),
            422,
            Some("time_zone"),
        ),
        (
            "unknown time zone on change",
            Method::PATCH,
            format!("{a}/sites/{}", w.site_a),
            Some(json!({ "time_zone": "Europe/Atlantis" })),
            422,
            Some("time_zone"),
        ),
        (
            "stale body version",
            Method::PATCH,
            space_path.clone(),
            Some(json!({ "version": 99, "name": "Stale" })),
            412,
            None,
        ),
        (
            "over-long name",
            Method::PATCH,
            space_path.clone(),
            Some(json!({ "name": long })),
            422,
            Some("name"),
        ),
        (
            "over-long site name",
            Method::POST,
            format!("{a}/sites"),
            Some(json!({ "name": long, "time_zone": "UTC" })),
            422,
            Some("name"),
        ),
        (
            "unknown field",
            Method::PATCH,
            space_path.clone(),
            Some(json!({ "colour": "red" })),
            422,
            None,
        ),
        (
            "wrong type",
            Method::PATCH,
            space_path.clone(),
            Some(json!({ "name": 7 })),
            422,
            None,
        ),
        (
            "lock without a space",
            Method::POST,
            format!("{a}/devices"),
            Some(json!({ "kind": "lock", "name": "Loose" })),
            422,
            Some("space_id"),
        ),
        (
            "unknown device kind",
            Method::POST,
            format!("{a}/devices"),
            Some(json!({ "kind": "door", "name": "D", "space_id": w.inner })),
            422,
            Some("kind"),
        ),
        (
            "space of another tenant",
            Method::POST,
            format!("{a}/devices"),
            Some(json!({ "kind": "lock", "name": "D", "space_id": w.space_b })),
            422,
            Some("space_id"),
        ),
        (
            "holiday that is no date",
            Method::PUT,
            format!("{a}/sites/{}/holidays", w.site_a),
            Some(json!({ "holidays": [{ "date": "2026-02-30", "name": "Never" }] })),
            422,
            Some("date"),
        ),
        (
            "holiday twice",
            Method::PUT,
            format!("{a}/sites/{}/holidays", w.site_a),
            Some(
                json!({ "holidays": [{ "date": "2026-12-25", "name": "A" }, { "date": "2026-12-25", "name": "B" }] }),
            ),
            422,
            Some("date"),
        ),
        (
            "group member from another tenant",
            Method::POST,
            format!("{a}/groups/{}/members", w.group_a),
            Some(json!({ "account_id": w.member_b_id })),
            422,
            Some("account_id"),
        ),
        (
            "group member already in",
            Method::POST,
            format!("{a}/groups/{}/members", w.group_a),
            Some(json!({ "account_id": w.member_a_id })),
            409,
            None,
        ),
        (
            "duplicate employee number",
            Method::PATCH,
            format!("{a}/members/{}/profile", w.member_a_id),
            Some(json!({ "employee_number": "e-1" })),
            409,
            Some("employee_number"),
        ),
        (
            "label with a line break",
            Method::PATCH,
            space_path.clone(),
            Some(json!({ "labels": ["a\nb"] })),
            422,
            Some("labels"),
        ),
        (
            "too many labels",
            Method::PATCH,
            space_path.clone(),
            Some(json!({ "labels": (0..33).map(|i| format!("l{i}")).collect::<Vec<_>>() })),
            422,
            Some("labels"),
        ),
        (
            "bad cursor",
            Method::GET,
            format!("{a}/spaces?cursor=nope"),
            None,
            422,
            Some("cursor"),
        ),
        (
            "limit too large",
            Method::GET,
            format!("{a}/devices?limit=201"),
            None,
            422,
            Some("limit"),
        ),
        (
            "unknown query parameter",
            Method::GET,
            format!("{a}/spaces?colour=red"),
            None,
            400,
            None,
        ),
        (
            "search without a question",
            Method::GET,
            format!("{a}/search"),
            None,
            422,
            Some("q"),
        ),
        (
            "scope: unknown space",
            Method::PUT,
            format!("{a}/members/{}/scopes", w.manager_a_id),
            Some(json!({ "spaces": [SpaceId::generate()] })),
            422,
            Some("spaces"),
        ),
    ];
    // The cross-site case created a space: take the snapshot after it.
    let before_cases = snapshot(&w).await?;
    assert_ne!(before, before_cases);
    for (name, method, path, body, expected, field) in &cases {
        let (status, problem) = w.admin_a.call(method.clone(), path, body.clone()).await?;
        assert_eq!(status.as_u16(), *expected, "{name}: {problem}");
        assert!(
            problem["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}: {problem}"
        );
        if let Some(field) = field {
            assert_eq!(
                problem["errors"][0]["field"].as_str(),
                Some(*field),
                "{name}: {problem}"
            );
        }
        assert_eq!(
            snapshot(&w).await?,
            before_cases,
            "{name} changed something"
        );
    }
    // The refusal of a full space names what is in it.
    let (_, problem) = w
        .admin_a
        .call(Method::DELETE, &format!("{a}/spaces/{}", w.inner), None)
        .await?;
    assert!(
        problem["detail"].as_str().unwrap().contains(&w.dev_in),
        "{problem}"
    );
    // Stale If-Match, malformed If-Match, malformed JSON and the wrong content type.
    for (header, expected) in [("\"7\"", 412), ("W/\"7\"", 412), ("seven", 400)] {
        let response = w
            .admin_a
            .request(Method::PATCH, &space_path)
            .header("if-match", header)
            .json(&json!({ "name": "Y" }))
            .send()
            .await?;
        assert_eq!(response.status().as_u16(), expected, "If-Match {header}");
    }
    let response = w
        .admin_a
        .request(Method::PATCH, &space_path)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = w
        .admin_a
        .request(Method::PATCH, &space_path)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(snapshot(&w).await?, before_cases);
    // A JSON merge patch may say so in its content type (RFC 7396).
    let response = w
        .admin_a
        .request(Method::PATCH, &space_path)
        .header("content-type", "application/merge-patch+json")
        .body("{\"kind\": \"floor\"}")
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    // The ETag of a read is the version; sent back in If-Match it is accepted once.
    let read = w.admin_a.get(&space_path).await?;
    let etag = read.headers().get("etag").unwrap().to_str()?.to_owned();
    let body: Value = read.json().await?;
    assert_eq!(etag, format!("\"{}\"", body["version"]));
    for expected in [StatusCode::OK, StatusCode::PRECONDITION_FAILED] {
        let response = w
            .admin_a
            .request(Method::PATCH, &space_path)
            .header("if-match", &etag)
            .json(&json!({ "labels": ["tagged"] }))
            .send()
            .await?;
        assert_eq!(response.status(), expected);
    }
    // The current version in If-Match is accepted.
    let current = ok(&w.admin_a, Method::GET, &space_path, None).await?["version"]
        .as_i64()
        .unwrap();
    let response = w
        .admin_a
        .request(Method::PATCH, &space_path)
        .header("if-match", format!("\"{current}\""))
        .json(&json!({ "name": "Floor Three" }))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::OK);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Lists, labels, search

async fn lists_page_by_cursor_and_filter_by_label_and_search_finds_names_and_labels(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db).await?;
    let a = a(&w);
    let adm = &w.admin_a;
    let mut made = Vec::new();
    for i in 0..7 {
        let labels = if i % 2 == 0 {
            json!(["Even", "rooms"])
        } else {
            json!(["rooms"])
        };
        made.push(create(adm, &format!("{a}/spaces"), json!({ "site_id": w.annex, "name": format!("Room {i}"), "kind": "room", "labels": labels })).await?);
    }
    // Cursor paging walks every space once, in id order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{a}/spaces?site_id={}&limit=3&cursor={c}", w.annex),
            None => format!("{a}/spaces?site_id={}&limit=3", w.annex),
        };
        let page = ok(adm, Method::GET, &path, None).await?;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(id));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, made, "every space once, in id (creation) order");
    // Label filter: exact, case-insensitive.
    let even = ok(adm, Method::GET, &format!("{a}/spaces?label=EVEN"), None).await?;
    assert_eq!(ids(&even).len(), 4);
    let children = ok(
        adm,
        Method::GET,
        &format!("{a}/spaces?parent_id={}", w.top),
        None,
    )
    .await?;
    assert_eq!(ids(&children), sorted(vec![&w.managed, &w.beside]));
    let locks = ok(
        adm,
        Method::GET,
        &format!("{a}/devices?kind=lock&space_id={}", w.inner),
        None,
    )
    .await?;
    assert_eq!(ids(&locks), vec![w.dev_in.clone()]);
    // Search: names (substring) and labels (exact) across kinds, people included.
    ok(
        adm,
        Method::PATCH,
        &format!("{a}/members/{}/profile", w.member_a_id),
        Some(json!({ "labels": ["rooms"] })),
    )
    .await?;
    let found = ok(adm, Method::GET, &format!("{a}/search?label=rooms"), None).await?;
    let kinds: Vec<&str> = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "space").count(), 7);
    assert_eq!(kinds.iter().filter(|k| **k == "person").count(), 1);
    let mia = ok(adm, Method::GET, &format!("{a}/search?q=MIA"), None).await?;
    assert_eq!(mia["items"][0]["id"], json!(w.member_a_id.to_string()));
    assert_eq!(mia["items"][0]["kind"], "person");
    let both = ok(
        adm,
        Method::GET,
        &format!("{a}/search?q=room%203&label=rooms"),
        None,
    )
    .await?;
    assert_eq!(both["items"].as_array().unwrap().len(), 1);
    // Nothing of B leaks into A's search.
    let gate = ok(adm, Method::GET, &format!("{a}/search?q=gate"), None).await?;
    assert!(gate["items"].as_array().unwrap().is_empty());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Concurrency

/// Two admins move P under Q and Q under P at the same moment: each move is valid against the
/// tree it started from, but together they would make a cycle. Exactly one wins.
async fn concurrent_crossing_moves_never_make_a_cycle(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let a = a(&w);
    for round in 0..6 {
        let space = |name: String| json!({ "site_id": w.site_a, "parent_id": w.top, "name": name, "kind": "room" });
        let p = create(
            &w.admin_a,
            &format!("{a}/spaces"),
            space(format!("P{round}")),
        )
        .await?;
        let q = create(
            &w.admin_a,
            &format!("{a}/spaces"),
            space(format!("Q{round}")),
        )
        .await?;
        let (path_p, path_q) = (format!("{a}/spaces/{p}"), format!("{a}/spaces/{q}"));
        let (first, second) = tokio::join!(
            w.admin_a
                .call(Method::PATCH, &path_p, Some(json!({ "parent_id": q }))),
            w.admin_a
                .call(Method::PATCH, &path_q, Some(json!({ "parent_id": p }))),
        );
        let mut statuses = vec![first?.0.as_u16(), second?.0.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, vec![200, 422], "round {round}");
        let mut tx = w.server.app.store.read().await?;
        let tree = latchkey_domain::directory::SpaceTree::of(&tx.spaces(w.org_a).await?);
        for s in [&p, &q] {
            let chain = tree.self_and_ancestors(s.parse()?);
            assert_eq!(
                chain.last().map(ToString::to_string),
                Some(w.top.clone()),
                "round {round}: {s} cut off"
            );
        }
    }
    Ok(())
}

/// A person removed from the organisation leaves its groups and loses any role scope in the
/// same transaction; a space manager's scope row also goes with a deleted space.
async fn removing_a_person_takes_them_out_of_groups_and_scopes(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let a = a(&w);
    let adm = &w.admin_a;
    ok(
        adm,
        Method::POST,
        &format!("{a}/groups/{}/members", w.group_a),
        Some(json!({ "account_id": w.manager_a_id })),
    )
    .await?;
    ok(
        adm,
        Method::DELETE,
        &format!("{a}/members/{}", w.member_a_id),
        None,
    )
    .await?;
    ok(
        adm,
        Method::DELETE,
        &format!("{a}/members/{}", w.manager_a_id),
        None,
    )
    .await?;
    let group = ok(adm, Method::GET, &format!("{a}/groups/{}", w.group_a), None).await?;
    assert_eq!(group["members"], json!([]));
    let mut tx = w.server.app.store.read().await?;
    assert!(tx.managed_spaces(w.org_a, w.manager_a_id).await?.is_empty());
    assert!(
        tx.labels_of(w.org_a, LabelKind::Person, &w.member_a_id.to_string())
            .await?
            .is_empty()
    );
    drop(tx);
    // An empty space that someone managed can be deleted; the scope row goes with it.
    let lone = create(
        adm,
        &format!("{a}/spaces"),
        json!({ "site_id": w.annex, "name": "Lone", "kind": "room" }),
    )
    .await?;
    ok(
        adm,
        Method::PUT,
        &format!("{a}/members/{}/role", w.owner_a_id),
        Some(json!({ "role": "space_manager" })),
    )
    .await?;
    ok(
        adm,
        Method::PUT,
        &format!("{a}/members/{}/scopes", w.owner_a_id),
        Some(json!({ "spaces": [lone] })),
    )
    .await?;
    ok(adm, Method::DELETE, &format!("{a}/spaces/{lone}"), None).await?;
    let scopes = ok(
        adm,
        Method::GET,
        &format!("{a}/members/{}/scopes", w.owner_a_id),
        None,
    )
    .await?;
    assert_eq!(scopes["spaces"], json!([]));
    assert_eq!(
        scopes["devices"],
        json!([]),
        "leaving device_owner dropped the owned devices"
    );
    Ok(())
}
