//! Organisations (operators), invitations and people (org admins) over HTTP, on SQLite and
//! PostgreSQL: the contract and counts, the invitation link's life (peek, accept once, expiry,
//! tamper, withdrawal, re-send), the seat limit under parallel invitations, people management
//! cutting access at once, admin unlock (T14), the authorization matrix and bad input.

use std::sync::Arc;

use latchkey_domain::identity::lockout::{LockoutPolicy, MINUTE_MS};
use latchkey_domain::identity::settings::SecuritySettingsInput;
use latchkey_domain::identity::totp::{totp_code, totp_step};
use latchkey_domain::identity::{ApiScope, MembershipStatus, Role, SecuritySettings};
use latchkey_domain::tenancy::NewOrganisation;
use latchkey_domain::{AccountId, Clock as _, OrgId, Scope};
use latchkey_server::identity::accounts::NewAccount;
use latchkey_server::identity::invitations::INVITATION_TTL_MS;
use latchkey_server::identity::principal::{API_TOKEN_PURPOSE, api_token_text};
use latchkey_server::identity::tokens::new_token;
use latchkey_server::identity::{LoginError, LoginRequest};
use latchkey_server::{Actor, App};
use latchkey_store::repo::{
    AccountRecord, AccountRepo, AccountStatus, ApiTokenRecord, ApiTokenRepo, AuditRepo, MailRepo,
    Membership, MembershipRepo, OrgSettingsRepo,
};
use latchkey_testkit::{ApiSession, TestDb, TestServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(
    operator_manages_organisations_and_sees_only_contract_and_counts,
    operator_invites_only_the_first_org_admin_who_then_invites_others,
    invitation_link_is_peeked_freely_spent_once_and_dies_with_its_membership,
    existing_account_joins_a_second_organisation_without_a_new_password,
    tenant_settings_set_the_link_lifetime_and_password_minimum,
    parallel_invitations_take_exactly_the_free_seats,
    members_are_searched_case_insensitively_and_paged,
    disable_delete_and_role_removal_cut_access_at_once,
    last_active_org_admin_cannot_remove_themselves,
    org_admin_unlocks_a_locked_member_t14,
    api_tokens_act_only_in_their_organisation_and_scope,
    authorization_matrix_for_every_orgs_and_people_endpoint,
    bad_input_is_refused_clearly_and_changes_nothing,
);

pub(super) const PASSWORD: &str = "violet-harbour-lantern";

/// Two organisations, an operator, an admin in each, a member of A and one of B — admins and the
/// operator with TOTP, all signed in.
pub(super) struct World {
    pub(super) server: TestServer,
    pub(super) org_a: OrgId,
    pub(super) org_b: OrgId,
    pub(super) operator: ApiSession,
    pub(super) admin_a: ApiSession,
    pub(super) admin_b: ApiSession,
    pub(super) member_a: ApiSession,
    pub(super) admin_a_id: AccountId,
    pub(super) member_a_id: AccountId,
    pub(super) member_b_id: AccountId,
    pub(super) secrets: Vec<(AccountId, Vec<u8>)>,
}

pub(super) async fn account(
    app: &Arc<App>,
    email: &str,
    name: &str,
    operator: bool,
) -> anyhow::Result<AccountId> {
    Ok(app
        .create_account(
            &Actor::operator_cli(),
            NewAccount {
                email,
                name,
                password: PASSWORD,
                is_operator: operator,
            },
        )
        .await?)
}

pub(super) async fn enrol_totp(app: &Arc<App>, id: AccountId) -> anyhow::Result<Vec<u8>> {
    let secret = format!("secret-of-{id}").into_bytes();
    let mut tx = app.store.write().await?;
    let mut record = tx.account(id).await?.unwrap();
    record.totp_secret = Some(secret.clone());
    tx.update_account(&record).await?;
    tx.commit().await?;
    Ok(secret)
}

pub(super) async fn join(
    app: &Arc<App>,
    org: OrgId,
    account: AccountId,
    role: Role,
    status: MembershipStatus,
) -> anyhow::Result<()> {
    let mut tx = app.store.write().await?;
    tx.insert_membership(&Membership {
        org_id: org,
        account_id: account,
        role,
        status,
        created_at_ms: app.clock.now_ms(),
        version: 1,
        expires_at_ms: None,
    })
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn org(app: &Arc<App>, name: &str, seats: i64) -> anyhow::Result<OrgId> {
    let input = NewOrganisation::parse(name, "contracts@example.com", seats)?;
    Ok(app
        .create_organisation(&Actor::operator_cli(), input)
        .await?
        .id)
}

fn code(secret: &[u8], now_ms: i64) -> String {
    totp_code(secret, totp_step(now_ms), 6).unwrap()
}

pub(super) async fn sign_in(
    server: &TestServer,
    email: &str,
    secret: Option<&[u8]>,
) -> anyhow::Result<ApiSession> {
    let code = secret.map(|s| code(s, server.db.clock.now_ms()));
    ApiSession::sign_in(server, email, PASSWORD, code.as_deref()).await
}

pub(super) async fn world(db: TestDb) -> anyhow::Result<World> {
    let server = TestServer::start(db).await?;
    let app = server.app.clone();
    let org_a = org(&app, "Acme Tower", 100).await?;
    let org_b = org(&app, "Bravo Flats", 100).await?;
    let operator_id = account(&app, "opal@example.com", "Opal Operator", true).await?;
    let admin_a_id = account(&app, "ada@a.example", "Ada Admin", false).await?;
    let admin_b_id = account(&app, "bea@b.example", "Bea Admin", false).await?;
    let member_a_id = account(&app, "mia@a.example", "Mia Member", false).await?;
    let member_b_id = account(&app, "max@b.example", "Max Member", false).await?;
    join(
        &app,
        org_a,
        admin_a_id,
        Role::OrgAdmin,
        MembershipStatus::Active,
    )
    .await?;
    join(
        &app,
        org_b,
        admin_b_id,
        Role::OrgAdmin,
        MembershipStatus::Active,
    )
    .await?;
    join(
        &app,
        org_a,
        member_a_id,
        Role::Member,
        MembershipStatus::Active,
    )
    .await?;
    join(
        &app,
        org_b,
        member_b_id,
        Role::Member,
        MembershipStatus::Active,
    )
    .await?;
    let mut secrets = Vec::new();
    for id in [operator_id, admin_a_id, admin_b_id] {
        secrets.push((id, enrol_totp(&app, id).await?));
    }
    let operator = sign_in(&server, "opal@example.com", Some(&secrets[0].1)).await?;
    let admin_a = sign_in(&server, "ada@a.example", Some(&secrets[1].1)).await?;
    let admin_b = sign_in(&server, "bea@b.example", Some(&secrets[2].1)).await?;
    let member_a = sign_in(&server, "mia@a.example", None).await?;
    Ok(World {
        server,
        org_a,
        org_b,
        operator,
        admin_a,
        admin_b,
        member_a,
        admin_a_id,
        member_a_id,
        member_b_id,
        secrets,
    })
}

/// The invitation token in the newest queued mail to `to` in `org`.
pub(super) async fn invitation_token(
    app: &Arc<App>,
    org: OrgId,
    to: &str,
) -> anyhow::Result<String> {
    let mut tx = app.store.read().await?;
    let mail = tx
        .due_mail(Scope::Tenant(org), app.clock.now_ms() + 1, 1_000)
        .await?;
    let mail = mail
        .into_iter()
        .rev()
        .find(|m| m.mail.to == to && m.mail.kind == "invitation")
        .ok_or_else(|| anyhow::anyhow!("no invitation mail to {to}"))?;
    let at = mail.mail.body.find("/invite/").unwrap() + "/invite/".len();
    Ok(mail.mail.body[at..at + 43].to_owned())
}

pub(super) async fn mail_count(app: &Arc<App>, org: OrgId) -> anyhow::Result<usize> {
    let mut tx = app.store.read().await?;
    Ok(tx
        .due_mail(Scope::Tenant(org), app.clock.now_ms() + 1, 10_000)
        .await?
        .len())
}

pub(super) async fn audit(app: &Arc<App>, scope: Scope) -> anyhow::Result<Vec<(String, String)>> {
    let mut tx = app.store.read().await?;
    Ok(tx
        .audit_events(scope, 0, 10_000)
        .await?
        .into_iter()
        .map(|e| (e.action, e.details))
        .collect())
}

pub(super) async fn seats(app: &Arc<App>, org: OrgId) -> anyhow::Result<i64> {
    let mut tx = app.store.read().await?;
    Ok(tx.seats_in_use(org, app.clock.now_ms()).await?)
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

async fn operator_manages_organisations_and_sees_only_contract_and_counts(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db).await?;
    let created = ok(
        &w.operator,
        Method::POST,
        "/api/v1/orgs",
        Some(json!({ "name": "Cedar House", "contact_email": "Office@Cedar.Example", "seat_limit": 2 })),
    )
    .await?;
    assert_eq!(created["name"], "Cedar House");
    assert_eq!(created["contact_email"], "Office@cedar.example");
    assert_eq!(created["seat_limit"], 2);
    assert_eq!(created["seats_in_use"], 0);
    assert_eq!(created["status"], "active");
    let id = created["id"].as_str().unwrap().to_owned();

    let list = ok(&w.operator, Method::GET, "/api/v1/orgs", None).await?;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    let a = list
        .iter()
        .find(|o| o["id"] == w.org_a.to_string())
        .unwrap();
    assert_eq!(
        (
            a["seats_in_use"].as_i64(),
            a["members"].as_i64(),
            a["active_admins"].as_i64()
        ),
        (Some(2), Some(2), Some(1))
    );
    // Contract and counts only: no member names or e-mails anywhere in the operator's view.
    let text = serde_json::to_string(list)?;
    for private in ["Ada Admin", "ada@a.example", "Mia Member", "mia@a.example"] {
        assert!(!text.contains(private), "operator saw {private}");
    }

    let org_a = format!("/api/v1/orgs/{}", w.org_a);
    let (status, problem) = w
        .operator
        .call(Method::PATCH, &org_a, Some(json!({ "seat_limit": 1 })))
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("2 seats are in use"),
        "{problem}"
    );
    assert_eq!(problem["errors"][0]["field"], "seat_limit");
    let changed = ok(
        &w.operator,
        Method::PATCH,
        &org_a,
        Some(json!({ "seat_limit": 2, "contact_email": "new@acme.example" })),
    )
    .await?;
    assert_eq!(changed["seat_limit"], 2);
    assert_eq!(changed["contact_email"], "new@acme.example");
    let shown = ok(&w.operator, Method::GET, &org_a, None).await?;
    assert_eq!(shown["seat_limit"], 2);
    assert_eq!(shown["version"], changed["version"]);

    let suspended = ok(
        &w.operator,
        Method::POST,
        &format!("/api/v1/orgs/{id}/suspend"),
        None,
    )
    .await?;
    assert_eq!(suspended["status"], "suspended");
    let (status, problem) = w
        .operator
        .call(Method::POST, &format!("/api/v1/orgs/{id}/suspend"), None)
        .await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    // A suspended organisation takes no invitations, not even the operator's first one.
    let (status, problem) = w
        .operator
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{id}/invitations"),
            Some(json!({ "name": "Cy Admin", "email": "cy@cedar.example", "role": "org_admin" })),
        )
        .await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("tenant_inactive"))
    );
    let resumed = ok(
        &w.operator,
        Method::POST,
        &format!("/api/v1/orgs/{id}/resume"),
        None,
    )
    .await?;
    assert_eq!(resumed["status"], "active");
    let (status, _) = w
        .operator
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{}", OrgId::generate()),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let actions: Vec<String> = audit(&w.server.app, Scope::Platform)
        .await?
        .into_iter()
        .map(|a| a.0)
        .collect();
    for action in [
        "org_created",
        "org_contract_changed",
        "org_suspended",
        "org_resumed",
    ] {
        assert!(
            actions.contains(&action.to_owned()),
            "{action} missing: {actions:?}"
        );
    }
    let platform = serde_json::to_string(&audit(&w.server.app, Scope::Platform).await?)?;
    assert!(!platform.contains("new@acme.example") && !platform.contains("Cedar House"));
    w.server.shutdown().await;
    Ok(())
}

async fn operator_invites_only_the_first_org_admin_who_then_invites_others(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db).await?;
    let app = w.server.app.clone();
    let new_org = org(&app, "Cedar House", 5).await?;
    let invitations = format!("/api/v1/orgs/{new_org}/invitations");
    let (status, problem) = w
        .operator
        .call(
            Method::POST,
            &invitations,
            Some(json!({ "name": "Mo", "email": "mo@cedar.example", "role": "member" })),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the operator invites the first org admin only: {problem}"
    );
    let sent = ok(
        &w.operator,
        Method::POST,
        &invitations,
        Some(json!({ "name": "Cy Admin", "email": "cy@cedar.example", "role": "org_admin" })),
    )
    .await?;
    assert!(sent.get("new_account").is_none());
    assert_eq!(sent["role"], "org_admin");
    let cy: AccountId = sent["account_id"].as_str().unwrap().parse()?;
    // While that invitation is pending the operator may re-send it, but not invite a second admin.
    let (status, _) = w
        .operator
        .call(
            Method::POST,
            &invitations,
            Some(json!({ "name": "Di", "email": "di@cedar.example", "role": "org_admin" })),
        )
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    ok(
        &w.operator,
        Method::POST,
        &format!("{invitations}/{cy}/resend"),
        None,
    )
    .await?;

    let token = invitation_token(&app, new_org, "cy@cedar.example").await?;
    let anonymous = ApiSession::anonymous(&w.server);
    let preview = ok(
        &anonymous,
        Method::GET,
        &format!("/api/v1/invitations/{token}"),
        None,
    )
    .await?;
    assert_eq!(preview["organisation"], "Cedar House");
    assert_eq!(preview["password_required"], true);
    assert_eq!(
        preview["password_min_chars"], 12,
        "org admins need at least 12"
    );
    let accept = format!("/api/v1/invitations/{token}/accept");
    let (status, problem) = anonymous
        .call(
            Method::POST,
            &accept,
            Some(json!({ "password": "short-pw-1" })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, problem) = anonymous
        .call(Method::POST, &accept, Some(json!({})))
        .await?;
    assert_eq!(
        (status, problem["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("password"))
    );
    let accepted = ok(
        &anonymous,
        Method::POST,
        &accept,
        Some(json!({ "password": PASSWORD })),
    )
    .await?;
    assert_eq!(accepted["org_id"], new_org.to_string());

    // Cy signs in, enrols TOTP, and invites; the operator is now refused.
    let secret = enrol_totp(&app, cy).await?;
    let cy_session = sign_in(&w.server, "cy@cedar.example", Some(&secret)).await?;
    ok(
        &cy_session,
        Method::POST,
        &invitations,
        Some(json!({ "name": "Mo Member", "email": "mo@cedar.example", "role": "member" })),
    )
    .await?;
    let (status, _) = w
        .operator
        .call(
            Method::POST,
            &invitations,
            Some(json!({ "name": "Di", "email": "di@cedar.example", "role": "org_admin" })),
        )
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let tenant = audit(&app, Scope::Tenant(new_org)).await?;
    let actions: Vec<&str> = tenant.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user_invited",
            "user_invited",
            "user_activated",
            "user_invited"
        ]
    );
    let text = serde_json::to_string(&tenant)?;
    assert!(
        !text.contains(&token) && !text.contains("cy@cedar.example") && !text.contains("Cy Admin"),
        "{text}"
    );
    w.server.shutdown().await;
    Ok(())
}

async fn invitation_link_is_peeked_freely_spent_once_and_dies_with_its_membership(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db).await?;
    let app = w.server.app.clone();
    let invitations = format!("/api/v1/orgs/{}/invitations", w.org_a);
    let anonymous = ApiSession::anonymous(&w.server);
    let invite = |email: &'static str| {
        let admin = w.admin_a.clone();
        let path = invitations.clone();
        async move {
            ok(
                &admin,
                Method::POST,
                &path,
                Some(json!({ "name": "Nia New", "email": email, "role": "member" })),
            )
            .await
        }
    };
    let same_404 = |status: StatusCode, body: &Value| {
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .starts_with("invalid or expired link"),
            "{body}"
        );
    };

    let sent = invite("nia@a.example").await?;
    assert_eq!(
        sent["expires_at"],
        latchkey_domain::time::rfc3339_utc(w.server.db.clock.now_ms() + INVITATION_TTL_MS)
    );
    let token = invitation_token(&app, w.org_a, "nia@a.example").await?;
    let peek = format!("/api/v1/invitations/{token}");
    // Peeking (a mail scanner, the page itself) spends nothing, however often.
    for _ in 0..3 {
        let preview = ok(&anonymous, Method::GET, &peek, None).await?;
        assert_eq!(preview["email"], "nia@a.example");
        assert_eq!(preview["password_min_chars"], 8);
    }
    let mut tampered = token.clone().into_bytes();
    tampered[0] = if tampered[0] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered)?;
    for bad in [
        tampered.as_str(),
        &new_token(),
        "short",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "'%20OR%20'1'='1",
    ] {
        let (status, body) = anonymous
            .call(Method::GET, &format!("/api/v1/invitations/{bad}"), None)
            .await?;
        same_404(status, &body);
        let (status, body) = anonymous
            .call(
                Method::POST,
                &format!("/api/v1/invitations/{bad}/accept"),
                Some(json!({ "password": PASSWORD })),
            )
            .await?;
        same_404(status, &body);
    }
    ok(
        &anonymous,
        Method::POST,
        &format!("{peek}/accept"),
        Some(json!({ "password": PASSWORD })),
    )
    .await?;
    let (status, body) = anonymous
        .call(
            Method::POST,
            &format!("{peek}/accept"),
            Some(json!({ "password": PASSWORD })),
        )
        .await?;
    same_404(status, &body);
    let (status, body) = anonymous.call(Method::GET, &peek, None).await?;
    same_404(status, &body);
    assert!(sign_in(&w.server, "nia@a.example", None).await.is_ok());

    // Re-sending voids the older link; the newest works until 72 h have passed.
    let sent = invite("ola@a.example").await?;
    let ola = sent["account_id"].as_str().unwrap().to_owned();
    let first = invitation_token(&app, w.org_a, "ola@a.example").await?;
    ok(
        &w.admin_a,
        Method::POST,
        &format!("{invitations}/{ola}/resend"),
        None,
    )
    .await?;
    let second = invitation_token(&app, w.org_a, "ola@a.example").await?;
    assert_ne!(first, second);
    let (status, body) = anonymous
        .call(Method::GET, &format!("/api/v1/invitations/{first}"), None)
        .await?;
    same_404(status, &body);
    w.server.db.clock.advance_ms(INVITATION_TTL_MS - 1);
    ok(
        &anonymous,
        Method::GET,
        &format!("/api/v1/invitations/{second}"),
        None,
    )
    .await?;
    w.server.db.clock.advance_ms(1);
    let (status, body) = anonymous
        .call(Method::GET, &format!("/api/v1/invitations/{second}"), None)
        .await?;
    same_404(status, &body);
    let (status, body) = anonymous
        .call(
            Method::POST,
            &format!("/api/v1/invitations/{second}/accept"),
            Some(json!({ "password": PASSWORD })),
        )
        .await?;
    same_404(status, &body);

    // An invitation withdrawn by deleting the membership: its link dies with it.
    let admin = sign_in(&w.server, "ada@a.example", Some(&w.secrets[1].1)).await?;
    let sent = ok(
        &admin,
        Method::POST,
        &invitations,
        Some(json!({ "name": "Pia", "email": "pia@a.example", "role": "member" })),
    )
    .await?;
    let pia = sent["account_id"].as_str().unwrap().to_owned();
    let token = invitation_token(&app, w.org_a, "pia@a.example").await?;
    let (status, _) = admin
        .call(
            Method::DELETE,
            &format!("/api/v1/orgs/{}/members/{pia}", w.org_a),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = anonymous
        .call(
            Method::POST,
            &format!("/api/v1/invitations/{token}/accept"),
            Some(json!({ "password": PASSWORD })),
        )
        .await?;
    same_404(status, &body);
    w.server.shutdown().await;
    Ok(())
}

async fn existing_account_joins_a_second_organisation_without_a_new_password(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db).await?;
    let app = w.server.app.clone();
    // Max (member of B) is invited into A; his password stays as it is.
    let sent = ok(
        &w.admin_a,
        Method::POST,
        &format!("/api/v1/orgs/{}/invitations", w.org_a),
        Some(json!({ "name": "Someone Else", "email": "MAX@B.EXAMPLE", "role": "member" })),
    )
    .await?;
    assert_eq!(sent["account_id"], w.member_b_id.to_string());
    // Nothing tells A's admin that the address already had an account, nor shows its details:
    // the invited person appears under the typed name, with no lock state, until they join.
    assert!(sent.get("new_account").is_none(), "{sent}");
    {
        let mut tx = app.store.write().await?;
        let mut max = tx.account(w.member_b_id).await?.unwrap();
        max.password_lockout
            .record_failure(&LockoutPolicy::password_default(), 0);
        max.password_lockout
            .record_failure(&LockoutPolicy::password_default(), 0);
        max.password_lockout
            .record_failure(&LockoutPolicy::password_default(), 0);
        tx.update_account(&max).await?;
        tx.commit().await?;
    }
    let path = format!("/api/v1/orgs/{}/members/{}", w.org_a, w.member_b_id);
    let shown = ok(&w.admin_a, Method::GET, &path, None).await?;
    assert_eq!(
        (
            shown["name"].as_str(),
            shown["status"].as_str(),
            shown["locked"].as_bool()
        ),
        (Some("Someone Else"), Some("invited"), Some(false))
    );
    let found = ok(
        &w.admin_a,
        Method::GET,
        &format!("/api/v1/orgs/{}/members?q=max%20member", w.org_a),
        None,
    )
    .await?;
    assert_eq!(found["total"], 0, "B's name is not searchable from A");
    let trail = serde_json::to_string(&audit(&app, Scope::Tenant(w.org_a)).await?)?;
    assert!(!trail.contains("new_account"), "{trail}");
    {
        let mut tx = app.store.write().await?;
        let mut max = tx.account(w.member_b_id).await?.unwrap();
        max.password_lockout.unlock();
        tx.update_account(&max).await?;
        tx.commit().await?;
    }
    let token = invitation_token(&app, w.org_a, "max@b.example").await?;
    let anonymous = ApiSession::anonymous(&w.server);
    let preview = ok(
        &anonymous,
        Method::GET,
        &format!("/api/v1/invitations/{token}"),
        None,
    )
    .await?;
    assert_eq!(preview["password_required"], false);
    assert_eq!(
        preview["name"], "Max Member",
        "the existing account's name is kept"
    );
    // A password sent anyway is ignored: the old one still works, the new one does not.
    ok(
        &anonymous,
        Method::POST,
        &format!("/api/v1/invitations/{token}/accept"),
        Some(json!({ "password": "another-password-entirely" })),
    )
    .await?;
    let max = sign_in(&w.server, "max@b.example", None).await?;
    let me = ok(&max, Method::GET, "/api/v1/me", None).await?;
    assert_eq!(me["organisations"].as_array().unwrap().len(), 2);
    let joined = ok(&w.admin_a, Method::GET, &path, None).await?;
    assert_eq!(
        joined["name"], "Max Member",
        "once joined, the person's own name"
    );
    assert!(
        ApiSession::sign_in(
            &w.server,
            "max@b.example",
            "another-password-entirely",
            None
        )
        .await
        .is_err()
    );
    let (status, _) = w
        .admin_a
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{}/invitations", w.org_a),
            Some(json!({ "name": "Max", "email": "max@b.example", "role": "member" })),
        )
        .await?;
    assert_eq!(status, StatusCode::CONFLICT, "already a member");
    w.server.shutdown().await;
    Ok(())
}

async fn tenant_settings_set_the_link_lifetime_and_password_minimum(
    db: TestDb,
) -> anyhow::Result<()> {
    let w = world(db).await?;
    let app = w.server.app.clone();
    let settings = SecuritySettings::try_from(SecuritySettingsInput {
        password_min_chars: 16,
        invitation_ttl_hours: 1,
        ..SecuritySettingsInput::default()
    })?;
    {
        let mut tx = app.store.write().await?;
        tx.set_security_settings(w.org_a, &settings).await?;
        tx.commit().await?;
    }
    let sent = ok(
        &w.admin_a,
        Method::POST,
        &format!("/api/v1/orgs/{}/invitations", w.org_a),
        Some(json!({ "name": "Quin", "email": "quin@a.example", "role": "member" })),
    )
    .await?;
    let now = w.server.db.clock.now_ms();
    assert_eq!(
        sent["expires_at"],
        latchkey_domain::time::rfc3339_utc(now + 60 * MINUTE_MS)
    );
    let token = invitation_token(&app, w.org_a, "quin@a.example").await?;
    let anonymous = ApiSession::anonymous(&w.server);
    let preview = ok(
        &anonymous,
        Method::GET,
        &format!("/api/v1/invitations/{token}"),
        None,
    )
    .await?;
    assert_eq!(preview["password_min_chars"], 16);
    let accept = format!("/api/v1/invitations/{token}/accept");
    let (status, problem) = anonymous
        .call(
            Method::POST,
            &accept,
            Some(json!({ "password": "violet-harbour1" })),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "15 characters: {problem}"
    );
    w.server.db.clock.advance_ms(60 * MINUTE_MS);
    let (status, _) = anonymous
        .call(
            Method::POST,
            &accept,
            Some(json!({ "password": "violet-harbour-lantern" })),
        )
        .await?;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "expired after the organisation's hour"
    );
    w.server.shutdown().await;
    Ok(())
}

async fn parallel_invitations_take_exactly_the_free_seats(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let app = w.server.app.clone();
    // Org A holds 2 seats (Ada, Mia); a limit of 5 leaves three free for ten parallel invitations.
    ok(
        &w.operator,
        Method::PATCH,
        &format!("/api/v1/orgs/{}", w.org_a),
        Some(json!({ "seat_limit": 5 })),
    )
    .await?;
    let path = format!("/api/v1/orgs/{}/invitations", w.org_a);
    let mails_before = mail_count(&app, w.org_a).await?;
    let calls: Vec<_> = (0..10).map(|i| {
        let admin = w.admin_a.clone();
        let path = path.clone();
        tokio::spawn(async move {
            admin
                .call(Method::POST, &path, Some(json!({ "name": format!("Guest {i}"), "email": format!("guest{i}@a.example"), "role": "member" })))
                .await
        })
    }).collect();
    let mut created = 0;
    for call in calls {
        let (status, body) = call.await??;
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::UNPROCESSABLE_ENTITY => {
                assert_eq!(body["code"], "rule_violation");
                assert!(
                    body["detail"]
                        .as_str()
                        .unwrap()
                        .contains("allows 5 seats; all are in use"),
                    "{body}"
                );
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 3);
    assert_eq!(seats(&app, w.org_a).await?, 5);
    assert_eq!(
        mail_count(&app, w.org_a).await? - mails_before,
        3,
        "one mail per invitation, none for refusals"
    );
    w.server.shutdown().await;
    Ok(())
}

async fn members_are_searched_case_insensitively_and_paged(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let app = w.server.app.clone();
    for i in 0..12 {
        let id = account(
            &app,
            &format!("p{i:02}@a.example"),
            &format!("Person {i:02}"),
            false,
        )
        .await?;
        join(&app, w.org_a, id, Role::Member, MembershipStatus::Active).await?;
    }
    let path = |q: &str| format!("/api/v1/orgs/{}/members?{q}", w.org_a);
    let all = ok(&w.admin_a, Method::GET, &path(""), None).await?;
    assert_eq!(all["total"], 14);
    let page = ok(
        &w.admin_a,
        Method::GET,
        &path("q=PERSON&per_page=5&page=3"),
        None,
    )
    .await?;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["items"].as_array().unwrap().len()
        ),
        (Some(12), 2)
    );
    assert_eq!(page["items"][0]["name"], "Person 10");
    let by_mail = ok(&w.admin_a, Method::GET, &path("q=MIA%40A"), None).await?;
    assert_eq!(by_mail["items"][0]["account_id"], w.member_a_id.to_string());
    assert_eq!(by_mail["total"], 1);
    let none = ok(&w.admin_a, Method::GET, &path("q=max%40b.example"), None).await?;
    assert_eq!(none["total"], 0, "B's people never show up in A");
    let shown = ok(
        &w.admin_a,
        Method::GET,
        &format!("/api/v1/orgs/{}/members/{}", w.org_a, w.member_a_id),
        None,
    )
    .await?;
    assert_eq!(
        (
            shown["email"].as_str(),
            shown["role"].as_str(),
            shown["status"].as_str()
        ),
        (Some("mia@a.example"), Some("member"), Some("active"))
    );
    for (q, status) in [
        ("per_page=101", StatusCode::UNPROCESSABLE_ENTITY),
        ("per_page=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("page=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("per_page=abc", StatusCode::BAD_REQUEST),
        ("sort=name", StatusCode::BAD_REQUEST),
    ] {
        let (got, body) = w.admin_a.call(Method::GET, &path(q), None).await?;
        assert_eq!(got, status, "{q}: {body}");
    }
    let long = "x".repeat(201);
    let (got, _) = w
        .admin_a
        .call(Method::GET, &path(&format!("q={long}")), None)
        .await?;
    assert_eq!(got, StatusCode::UNPROCESSABLE_ENTITY);
    w.server.shutdown().await;
    Ok(())
}

async fn api_token(
    app: &Arc<App>,
    org: OrgId,
    account: AccountId,
    scope: ApiScope,
) -> anyhow::Result<String> {
    let secret = new_token();
    let digest = app
        .store
        .keyring()
        .token_digest(API_TOKEN_PURPOSE, secret.as_bytes());
    let now = app.clock.now_ms();
    let mut tx = app.store.write().await?;
    tx.insert_api_token(
        &ApiTokenRecord {
            org_id: org,
            id: uuid::Uuid::now_v7().to_string(),
            account_id: account,
            name: "sync".into(),
            scope,
            created_at_ms: now,
            expires_at_ms: now + 24 * 60 * MINUTE_MS,
            revoked_at_ms: None,
            last_used_at_ms: None,
        },
        &digest,
    )
    .await?;
    tx.commit().await?;
    Ok(api_token_text(org, &secret))
}

async fn disable_delete_and_role_removal_cut_access_at_once(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let app = w.server.app.clone();
    let member = |id: AccountId| format!("/api/v1/orgs/{}/members/{id}", w.org_a);
    let mia_token = ApiSession::with_token(
        &w.server,
        &api_token(&app, w.org_a, w.member_a_id, ApiScope::Write).await?,
    );
    assert_eq!(mia_token.get("/api/v1/me").await?.status(), 200);

    let disabled = ok(
        &w.admin_a,
        Method::POST,
        &format!("{}/disable", member(w.member_a_id)),
        None,
    )
    .await?;
    assert_eq!(disabled["status"], "disabled");
    assert_eq!(
        w.member_a.get("/api/v1/me").await?.status(),
        401,
        "session ended at once"
    );
    assert_eq!(
        mia_token.get("/api/v1/me").await?.status(),
        401,
        "API token revoked at once"
    );
    assert_eq!(
        seats(&app, w.org_a).await?,
        1,
        "a disabled person holds no seat"
    );
    let enabled = ok(
        &w.admin_a,
        Method::POST,
        &format!("{}/enable", member(w.member_a_id)),
        None,
    )
    .await?;
    assert_eq!(enabled["status"], "active");
    let (status, _) = w
        .admin_a
        .call(
            Method::POST,
            &format!("{}/enable", member(w.member_a_id)),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::CONFLICT);

    // A second admin, demoted: sessions end. Role changes need a recent sign-in (step-up).
    let zoe = account(&app, "zoe@a.example", "Zoe Admin", false).await?;
    join(&app, w.org_a, zoe, Role::OrgAdmin, MembershipStatus::Active).await?;
    let zoe_secret = enrol_totp(&app, zoe).await?;
    let zoe_session = sign_in(&w.server, "zoe@a.example", Some(&zoe_secret)).await?;
    w.server.db.clock.advance_ms(11 * MINUTE_MS);
    let (status, problem) = w
        .admin_a
        .call(
            Method::PUT,
            &format!("{}/role", member(zoe)),
            Some(json!({ "role": "member" })),
        )
        .await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("step_up_required"))
    );
    let (status, _) = w
        .admin_a
        .call(Method::DELETE, &member(w.member_a_id), None)
        .await?;
    assert_eq!(status, StatusCode::FORBIDDEN, "deletion needs step-up too");
    assert_eq!(zoe_session.get("/api/v1/me").await?.status(), 200);
    let fresh = sign_in(&w.server, "ada@a.example", Some(&w.secrets[1].1)).await?;
    let changed = ok(
        &fresh,
        Method::PUT,
        &format!("{}/role", member(zoe)),
        Some(json!({ "role": "member" })),
    )
    .await?;
    assert_eq!(changed["role"], "member");
    assert_eq!(
        zoe_session.get("/api/v1/me").await?.status(),
        401,
        "role removal ends sessions"
    );

    let mia = sign_in(&w.server, "mia@a.example", None).await?;
    let (status, _) = fresh
        .call(Method::DELETE, &member(w.member_a_id), None)
        .await?;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(mia.get("/api/v1/me").await?.status(), 401);
    let (status, _) = fresh
        .call(Method::GET, &member(w.member_a_id), None)
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    {
        let mut tx = app.store.read().await?;
        let record = tx.account(w.member_a_id).await?.unwrap();
        assert_eq!(
            record.status,
            AccountStatus::Disabled,
            "left in no organisation: switched off"
        );
    }
    assert!(sign_in(&w.server, "mia@a.example", None).await.is_err());

    let tenant = audit(&app, Scope::Tenant(w.org_a)).await?;
    let actions: Vec<&str> = tenant.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user_disabled",
            "user_enabled",
            "authz_role_change",
            "user_deleted"
        ]
    );
    let text = serde_json::to_string(&tenant)?;
    for private in ["mia@a.example", "Mia Member", "zoe@a.example", "Zoe Admin"] {
        assert!(!text.contains(private), "audit names {private}: {text}");
    }
    assert!(text.contains(&w.member_a_id.to_string()));
    w.server.shutdown().await;
    Ok(())
}

async fn last_active_org_admin_cannot_remove_themselves(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let me = format!("/api/v1/orgs/{}/members/{}", w.org_a, w.admin_a_id);
    for (method, path, body) in [
        (Method::POST, format!("{me}/disable"), None),
        (
            Method::PUT,
            format!("{me}/role"),
            Some(json!({ "role": "member" })),
        ),
        (Method::DELETE, me.clone(), None),
    ] {
        let (status, problem) = w.admin_a.call(method.clone(), &path, body).await?;
        assert_eq!(status, StatusCode::CONFLICT, "{method} {path}: {problem}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("last active org admin")
        );
    }
    let shown = ok(&w.admin_a, Method::GET, &me, None).await?;
    assert_eq!(
        (shown["role"].as_str(), shown["status"].as_str()),
        (Some("org_admin"), Some("active"))
    );
    w.server.shutdown().await;
    Ok(())
}

async fn lock(app: &Arc<App>, email: &str) {
    for _ in 0..LockoutPolicy::password_default().max_consecutive_failures() {
        let result = app
            .login(LoginRequest {
                email,
                password: "wrong-password-here",
                totp: None,
                source_ip: Some("192.0.2.9".into()),
                request_id: None,
                device_token: None,
            })
            .await;
        assert!(matches!(result, Err(LoginError::InvalidCredentials)));
    }
}

/// T14: an org admin of the same tenant (with step-up) unlocks; another tenant's admin gets 404;
/// a member gets 403.
async fn org_admin_unlocks_a_locked_member_t14(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let app = w.server.app.clone();
    lock(&app, "mia@a.example").await;
    assert!(
        sign_in(&w.server, "mia@a.example", None).await.is_err(),
        "locked"
    );
    let unlock = format!("/api/v1/orgs/{}/members/{}/unlock", w.org_a, w.member_a_id);
    let shown = ok(
        &w.admin_a,
        Method::GET,
        &format!("/api/v1/orgs/{}/members/{}", w.org_a, w.member_a_id),
        None,
    )
    .await?;
    assert_eq!(shown["locked"], true);
    let (status, _) = w.admin_b.call(Method::POST, &unlock, None).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let other = account(&app, "nat@a.example", "Nat Member", false).await?;
    join(&app, w.org_a, other, Role::Member, MembershipStatus::Active).await?;
    let nat = sign_in(&w.server, "nat@a.example", None).await?;
    let (status, _) = nat.call(Method::POST, &unlock, None).await?;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        sign_in(&w.server, "mia@a.example", None).await.is_err(),
        "still locked"
    );
    let unlocked = ok(&w.admin_a, Method::POST, &unlock, None).await?;
    assert_eq!(unlocked["locked"], false);
    assert!(sign_in(&w.server, "mia@a.example", None).await.is_ok());
    let actions: Vec<String> = audit(&app, Scope::Tenant(w.org_a))
        .await?
        .into_iter()
        .map(|a| a.0)
        .collect();
    assert_eq!(actions, ["authn_login_unlock"]);
    w.server.shutdown().await;
    Ok(())
}

/// A fresh person in `org` with the given membership status, for one matrix row.
async fn target(
    app: &Arc<App>,
    org: OrgId,
    status: MembershipStatus,
    n: usize,
) -> anyhow::Result<AccountId> {
    let id = AccountId::generate();
    let now = app.clock.now_ms();
    let mut tx = app.store.write().await?;
    tx.insert_account(&AccountRecord {
        id,
        email: format!("target{n}-{}@example.com", org.uuid().simple()),
        name: format!("Target {n}"),
        password_hash: None,
        is_operator: false,
        status: if status == MembershipStatus::Invited {
            AccountStatus::Pending
        } else {
            AccountStatus::Active
        },
        password_lockout: Default::default(),
        totp_secret: None,
        totp_last_step: None,
        mfa_lockout: Default::default(),
        created_at_ms: now,
        version: 1,
    })
    .await?;
    tx.insert_membership(&Membership {
        org_id: org,
        account_id: id,
        role: Role::Member,
        status,
        created_at_ms: now,
        version: 1,
        expires_at_ms: None,
    })
    .await?;
    tx.commit().await?;
    Ok(id)
}

async fn authorization_matrix_for_every_orgs_and_people_endpoint(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let app = w.server.app.clone();
    let anonymous = ApiSession::anonymous(&w.server);
    let callers: [(&str, &ApiSession); 5] = [
        ("anonymous", &anonymous),
        ("member_a", &w.member_a),
        ("admin_b", &w.admin_b),
        ("operator", &w.operator),
        ("admin_a", &w.admin_a),
    ];
    use StatusCode as S;
    const U: S = S::UNAUTHORIZED;
    const F: S = S::FORBIDDEN;
    const N: S = S::NOT_FOUND;
    // (name, method, path under the org with {t} for the target person, body, target status,
    //  expected for [anonymous, member_a, admin_b, operator, admin_a] on an object of A).
    // On an object of B, A's people swap places: member_a and admin_a get what admin_b and
    // member_b would get — 404 — and admin_b gets the admin's answer.
    type Row = (
        &'static str,
        Method,
        &'static str,
        Option<Value>,
        MembershipStatus,
        [S; 5],
    );
    let people: Vec<Row> = vec![
        (
            "list",
            Method::GET,
            "/members",
            None,
            MembershipStatus::Active,
            [U, F, N, N, S::OK],
        ),
        (
            "show",
            Method::GET,
            "/members/{t}",
            None,
            MembershipStatus::Active,
            [U, F, N, N, S::OK],
        ),
        (
            "disable",
            Method::POST,
            "/members/{t}/disable",
            None,
            MembershipStatus::Active,
            [U, F, N, N, S::OK],
        ),
        (
            "enable",
            Method::POST,
            "/members/{t}/enable",
            None,
            MembershipStatus::Disabled,
            [U, F, N, N, S::OK],
        ),
        (
            "role",
            Method::PUT,
            "/members/{t}/role",
            Some(json!({ "role": "org_admin" })),
            MembershipStatus::Active,
            [U, F, N, N, S::OK],
        ),
        (
            "sessions",
            Method::POST,
            "/members/{t}/sessions/revocation",
            None,
            MembershipStatus::Active,
            [U, F, N, N, S::OK],
        ),
        (
            "unlock",
            Method::POST,
            "/members/{t}/unlock",
            None,
            MembershipStatus::Active,
            [U, F, N, N, S::OK],
        ),
        (
            "resend",
            Method::POST,
            "/invitations/{t}/resend",
            None,
            MembershipStatus::Invited,
            [U, F, N, F, S::OK],
        ),
        (
            "invite",
            Method::POST,
            "/invitations",
            Some(json!({ "name": "New Person", "email": "{t}@new.example", "role": "member" })),
            MembershipStatus::Active,
            [U, F, N, F, S::CREATED],
        ),
        (
            "delete",
            Method::DELETE,
            "/members/{t}",
            None,
            MembershipStatus::Active,
            [U, F, N, N, S::NO_CONTENT],
        ),
    ];
    let mut n = 0;
    for (name, method, template, body, status, expected_a) in &people {
        for (org, object) in [(w.org_a, "A"), (w.org_b, "B")] {
            n += 1;
            let t = target(&app, org, *status, n).await?;
            let path = format!(
                "/api/v1/orgs/{org}{}",
                template.replace("{t}", &t.to_string())
            );
            for (i, (who, caller)) in callers.iter().enumerate() {
                let expected = if object == "A" {
                    expected_a[i]
                } else {
                    match *who {
                        "admin_b" => expected_a[4],
                        "member_a" | "admin_a" => N,
                        _ => expected_a[i],
                    }
                };
                // The success is the last call of a row (admin_a on A); on B admin_b succeeds
                // third, so later callers there must still get their refusal, not a 409.
                let body = body.as_ref().map(|b| {
                    serde_json::from_str::<Value>(
                        &b.to_string().replace("{t}", &format!("{who}{n}")),
                    )
                    .unwrap()
                });
                let (got, answer) = caller.call(method.clone(), &path, body).await?;
                assert_eq!(got, expected, "{name} on {object} by {who}: {answer}");
            }
        }
    }
    // A's admin naming B's person under A's path: 404, never B's data.
    let (got, _) = w
        .admin_a
        .call(
            Method::GET,
            &format!("/api/v1/orgs/{}/members/{}", w.org_a, w.member_b_id),
            None,
        )
        .await?;
    assert_eq!(got, N);

    // Operator endpoints: only the operator (with MFA, by session).
    let orgs: Vec<(&str, Method, String, Option<Value>, S)> = vec![
        (
            "create",
            Method::POST,
            "/api/v1/orgs".into(),
            Some(json!({ "name": "Delta", "contact_email": "d@d.example", "seat_limit": 3 })),
            S::CREATED,
        ),
        ("list", Method::GET, "/api/v1/orgs".into(), None, S::OK),
    ];
    let mut orgs = orgs;
    for (org, object) in [(w.org_a, "A"), (w.org_b, "B")] {
        let base = format!("/api/v1/orgs/{org}");
        orgs.push((
            if object == "A" { "show A" } else { "show B" },
            Method::GET,
            base.clone(),
            None,
            S::OK,
        ));
        orgs.push((
            "patch",
            Method::PATCH,
            base.clone(),
            Some(json!({ "seat_limit": 20 })),
            S::OK,
        ));
        orgs.push((
            "suspend",
            Method::POST,
            format!("{base}/suspend"),
            None,
            S::OK,
        ));
        orgs.push((
            "resume",
            Method::POST,
            format!("{base}/resume"),
            None,
            S::OK,
        ));
    }
    for (name, method, path, body, success) in &orgs {
        for (who, caller) in &callers {
            let expected = match *who {
                "anonymous" => U,
                "operator" => *success,
                _ => F,
            };
            let (got, answer) = caller.call(method.clone(), path, body.clone()).await?;
            assert_eq!(got, expected, "{name} {path} by {who}: {answer}");
        }
    }
    // An API token never acts as the operator, nor does an operator without MFA.
    let token = ApiSession::with_token(
        &w.server,
        &api_token(&app, w.org_a, w.admin_a_id, ApiScope::Write).await?,
    );
    assert_eq!(token.call(Method::GET, "/api/v1/orgs", None).await?.0, F);
    let (status, _) = token
        .call(
            Method::DELETE,
            &format!("/api/v1/orgs/{}/members/{}", w.org_a, w.member_a_id),
            None,
        )
        .await?;
    assert_eq!(status, F, "a token cannot step up");
    let op2 = account(&app, "otto@example.com", "Otto Operator", true).await?;
    let otto = sign_in(&w.server, "otto@example.com", None).await?;
    let (status, problem) = otto.call(Method::GET, "/api/v1/orgs", None).await?;
    assert_eq!(
        (status, problem["code"].as_str()),
        (F, Some("mfa_enrolment_required")),
        "{op2}"
    );
    w.server.shutdown().await;
    Ok(())
}

async fn bad_input_is_refused_clearly_and_changes_nothing(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let app = w.server.app.clone();
    let orgs_before = ok(&w.operator, Method::GET, "/api/v1/orgs", None)
        .await?
        .as_array()
        .unwrap()
        .len();
    let long_name = "n".repeat(201);
    let long_email = format!("{}@example.com", "e".repeat(250));
    let bad_orgs = [
        json!({ "name": long_name, "contact_email": "a@a.example", "seat_limit": 3 }),
        json!({ "name": "Nul\u{0}Org", "contact_email": "a@a.example", "seat_limit": 3 }),
        json!({ "name": "Evil\u{202E}gro", "contact_email": "a@a.example", "seat_limit": 3 }),
        json!({ "name": "Line\nbreak", "contact_email": "a@a.example", "seat_limit": 3 }),
        json!({ "name": "Ok", "contact_email": long_email, "seat_limit": 3 }),
        json!({ "name": "Ok", "contact_email": "not-an-address", "seat_limit": 3 }),
        json!({ "name": "Ok", "contact_email": "a@a.example", "seat_limit": 0 }),
    ];
    for body in bad_orgs {
        let (status, problem) = w
            .operator
            .call(Method::POST, "/api/v1/orgs", Some(body.clone()))
            .await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
        assert!(
            !problem["errors"][0]["field"].is_null(),
            "names the field: {problem}"
        );
    }
    let (status, _) = w
        .operator
        .call(Method::POST, "/api/v1/orgs", Some(json!({ "name": "Ok", "contact_email": "a@a.example", "seat_limit": 3, "is_admin": true })))
        .await?;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );
    let wrong_type = w
        .operator
        .request(Method::POST, "/api/v1/orgs")
        .header("content-type", "text/plain")
        .body(r#"{"name":"Ok","contact_email":"a@a.example","seat_limit":3}"#)
        .send()
        .await?;
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        wrong_type.headers()["content-type"],
        "application/problem+json"
    );
    let malformed = w
        .operator
        .request(Method::POST, "/api/v1/orgs")
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await?;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        ok(&w.operator, Method::GET, "/api/v1/orgs", None)
            .await?
            .as_array()
            .unwrap()
            .len(),
        orgs_before
    );

    // Injection strings are data: stored and echoed exactly (JSON-escaped), never interpreted.
    for name in [
        "Robert'); DROP TABLE organisations;--",
        "<script>alert(1)</script>",
        "Zoe\u{0308} Ca\u{0301}fe\u{0301}",
    ] {
        let created = ok(
            &w.operator,
            Method::POST,
            "/api/v1/orgs",
            Some(json!({ "name": name, "contact_email": "a@a.example", "seat_limit": 3 })),
        )
        .await?;
        assert_eq!(created["name"], name);
    }

    // Invitations: the same rules; nothing is created, no seat taken, no mail queued.
    let path = format!("/api/v1/orgs/{}/invitations", w.org_a);
    let (seats_before, mail_before) = (
        seats(&app, w.org_a).await?,
        mail_count(&app, w.org_a).await?,
    );
    let bad_invites = [
        json!({ "name": "n".repeat(201), "email": "x@a.example", "role": "member" }),
        json!({ "name": "Nul\u{0}", "email": "x@a.example", "role": "member" }),
        json!({ "name": "\u{202E}nimda", "email": "x@a.example", "role": "member" }),
        json!({ "name": "Ok", "email": long_email, "role": "member" }),
        json!({ "name": "Ok", "email": "x@@a.example", "role": "member" }),
        json!({ "name": "Ok", "email": "<script>@a.example", "role": "member" }),
        json!({ "name": "Ok", "email": "x@a.example\r\nBcc: all@evil.example", "role": "member" }),
        json!({ "name": "Ok", "email": "x@a.example", "role": "operator" }),
        json!({ "name": "Ok", "email": "x@a.example", "role": "member", "password": "preset" }),
        json!({ "name": "Ok", "email": "x@a.example" }),
    ];
    for body in bad_invites {
        let (status, problem) = w
            .admin_a
            .call(Method::POST, &path, Some(body.clone()))
            .await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
    }
    let wrong_type = w
        .admin_a
        .request(Method::POST, &path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Ok&email=x%40a.example&role=member")
        .send()
        .await?;
    assert_eq!(wrong_type.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        (
            seats(&app, w.org_a).await?,
            mail_count(&app, w.org_a).await?
        ),
        (seats_before, mail_before)
    );
    let names = ok(
        &w.admin_a,
        Method::GET,
        &format!("/api/v1/orgs/{}/members", w.org_a),
        None,
    )
    .await?;
    assert_eq!(names["total"], 2);

    let html = "<img src=x onerror=alert(1)> O'Brien \"quoted\"";
    let sent = ok(
        &w.admin_a,
        Method::POST,
        &path,
        Some(json!({ "name": html, "email": "obrien@a.example", "role": "member" })),
    )
    .await?;
    let shown = ok(
        &w.admin_a,
        Method::GET,
        &format!(
            "/api/v1/orgs/{}/members/{}",
            w.org_a,
            sent["account_id"].as_str().unwrap()
        ),
        None,
    )
    .await?;
    assert_eq!(shown["name"], html);

    // A refused password spends nothing: the link still works afterwards.
    let token = invitation_token(&app, w.org_a, "obrien@a.example").await?;
    let anonymous = ApiSession::anonymous(&w.server);
    for password in [
        "short",
        "password123",
        "obrien-obrien-obrien",
        &"p".repeat(129),
    ] {
        let (status, problem) = anonymous
            .call(
                Method::POST,
                &format!("/api/v1/invitations/{token}/accept"),
                Some(json!({ "password": password })),
            )
            .await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{password}: {problem}"
        );
    }
    let (status, _) = anonymous
        .call(
            Method::POST,
            &format!("/api/v1/invitations/{token}/accept"),
            Some(json!({ "password": PASSWORD, "role": "org_admin" })),
        )
        .await?;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let cross_site = anonymous
        .request(Method::POST, &format!("/api/v1/invitations/{token}/accept"))
        .header("origin", "https://evil.example")
        .json(&json!({ "password": PASSWORD }))
        .send()
        .await?;
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    ok(
        &anonymous,
        Method::GET,
        &format!("/api/v1/invitations/{token}"),
        None,
    )
    .await?;
    ok(
        &anonymous,
        Method::POST,
        &format!("/api/v1/invitations/{token}/accept"),
        Some(json!({ "password": PASSWORD })),
    )
    .await?;

    // Contract and role changes: wrong types, out-of-range values, unknown fields and roles.
    let org_path = format!("/api/v1/orgs/{}", w.org_a);
    let version_before = ok(&w.operator, Method::GET, &org_path, None).await?["version"].clone();
    for body in [
        json!({ "seat_limit": "ten" }),
        json!({ "seat_limit": 1_000_001 }),
        json!({ "seat_limit": -1 }),
        json!({ "contact_email": "no at sign" }),
        json!({ "contact_email": "a@a.example", "status": "terminated" }),
    ] {
        let (status, problem) = w
            .operator
            .call(Method::PATCH, &org_path, Some(body.clone()))
            .await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
    }
    assert_eq!(
        ok(&w.operator, Method::GET, &org_path, None).await?["version"],
        version_before
    );
    let role = format!("/api/v1/orgs/{}/members/{}/role", w.org_a, w.member_a_id);
    for body in [
        json!({ "role": "operator" }),
        json!({ "role": "ORG_ADMIN" }),
        json!({ "role": null }),
        json!({}),
    ] {
        let (status, problem) = w
            .admin_a
            .call(Method::PUT, &role, Some(body.clone()))
            .await?;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {problem}"
        );
    }
    let mia = ok(
        &w.admin_a,
        Method::GET,
        &format!("/api/v1/orgs/{}/members/{}", w.org_a, w.member_a_id),
        None,
    )
    .await?;
    assert_eq!(mia["role"], "member");

    // Ids that are not ids are unknown ids.
    for bad in ["not-a-uuid", "'%20OR%201=1--", "%3Cscript%3E"] {
        let (status, _) = w
            .admin_a
            .call(Method::GET, &format!("/api/v1/orgs/{bad}/members"), None)
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
        let (status, _) = w
            .admin_a
            .call(
                Method::GET,
                &format!("/api/v1/orgs/{}/members/{bad}", w.org_a),
                None,
            )
            .await?;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
    }
    w.server.shutdown().await;
    Ok(())
}

/// Integrations use the same endpoints with `Authorization: Bearer`: a token acts only in its
/// organisation, a read token only reads, and nothing needing step-up works with a token.
async fn api_tokens_act_only_in_their_organisation_and_scope(db: TestDb) -> anyhow::Result<()> {
    let w = world(db).await?;
    let app = w.server.app.clone();
    let read = ApiSession::with_token(
        &w.server,
        &api_token(&app, w.org_a, w.admin_a_id, ApiScope::Read).await?,
    );
    let write = ApiSession::with_token(
        &w.server,
        &api_token(&app, w.org_a, w.admin_a_id, ApiScope::Write).await?,
    );
    let members = format!("/api/v1/orgs/{}/members", w.org_a);
    let mia = format!("{members}/{}", w.member_a_id);
    assert_eq!(
        read.call(Method::GET, &members, None).await?.0,
        StatusCode::OK
    );
    assert_eq!(
        read.call(
            Method::GET,
            &format!("/api/v1/orgs/{}/members", w.org_b),
            None
        )
        .await?
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        read.call(Method::POST, &format!("{mia}/disable"), None)
            .await?
            .0,
        StatusCode::FORBIDDEN
    );
    let invite = json!({ "name": "Tok", "email": "tok@a.example", "role": "member" });
    assert_eq!(
        read.call(
            Method::POST,
            &format!("/api/v1/orgs/{}/invitations", w.org_a),
            Some(invite.clone())
        )
        .await?
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        write
            .call(
                Method::POST,
                &format!("/api/v1/orgs/{}/invitations", w.org_a),
                Some(invite)
            )
            .await?
            .0,
        StatusCode::CREATED
    );
    assert_eq!(
        write
            .call(Method::POST, &format!("{mia}/disable"), None)
            .await?
            .0,
        StatusCode::OK
    );
    assert_eq!(
        write
            .call(Method::POST, &format!("{mia}/enable"), None)
            .await?
            .0,
        StatusCode::OK
    );
    for (method, path, body) in [
        (Method::DELETE, mia.clone(), None),
        (
            Method::PUT,
            format!("{mia}/role"),
            Some(json!({ "role": "org_admin" })),
        ),
        (Method::POST, format!("{mia}/unlock"), None),
    ] {
        let (status, problem) = write.call(method.clone(), &path, body).await?;
        assert_eq!(
            (status, problem["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("step_up_required")),
            "{method} {path}"
        );
    }
    let (status, _) = write
        .call(
            Method::POST,
            &format!("/api/v1/orgs/{}/members/{}/disable", w.org_b, w.member_b_id),
            None,
        )
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    w.server.shutdown().await;
    Ok(())
}
