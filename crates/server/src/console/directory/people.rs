//! A person's directory profile (display name, employee number, labels) and the scope of a
//! role with scope: the space subtrees a space manager manages, the devices a device owner
//! owns. Org admins only (the services say so); changing a scope needs a recent sign-in, so a
//! stale one goes through the step-up page and comes back here.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use latchkey_domain::identity::Role;
use latchkey_domain::{AccountId, ErrorCode, OrgId};
use serde::Deserialize;

use super::devices::kind_key;
use super::{
    Catalog, Refusal, Shown, Want, explainable, failure, not_found, notice_key, parse_id, see_other,
};
use crate::console::shell::{Chrome, ConsoleCaller, render, url_encode};
use crate::directory::people::ProfilePatch;
use crate::web::WebState;

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route(
            "/orgs/{org}/people/{account}/profile",
            get(profile_page).post(change_profile),
        )
        .route("/orgs/{org}/people/{account}/scopes", post(change_scopes))
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

/// The profile form as typed (`labels` comma-separated).
#[derive(Debug, Default, Deserialize)]
struct ProfileForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    employee_number: String,
    #[serde(default)]
    labels: String,
    #[serde(default)]
    version: String,
}

/// One space or device the scope form offers, ticked when in the scope.
struct ScopeChoice {
    id: String,
    label: String,
    ticked: bool,
}

#[derive(Template)]
#[template(path = "directory/person.html")]
struct PersonPage<'a> {
    c: &'a Chrome,
    org_id: String,
    account_id: String,
    name: String,
    email: String,
    role_key: &'static str,
    version: i64,
    form: &'a ProfileForm,
    manager: bool,
    owner: bool,
    choices: Vec<ScopeChoice>,
    refusal: Refusal,
    notice: Option<&'static str>,
}

fn role_key(role: Role) -> &'static str {
    match role {
        Role::OrgAdmin => "role.org_admin",
        Role::SpaceManager => "role.space_manager",
        Role::DeviceOwner => "role.device_owner",
        Role::Member => "role.member",
        Role::Guest => "role.guest",
    }
}

async fn render_person(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    account: AccountId,
    form: Option<&ProfileForm>,
    shown: Shown,
) -> Response {
    let c = &caller.chrome;
    let (app, p) = (&state.app, &caller.principal);
    let entry = match app.person_profile(p, org, account).await {
        Ok(entry) => entry,
        Err(e) => return failure(c, &e),
    };
    let scopes = match app.person_scopes(p, org, account).await {
        Ok(scopes) => scopes,
        Err(e) => return failure(c, &e),
    };
    let want = Want {
        devices: true,
        people: true,
        ..Want::default()
    };
    let catalog = match Catalog::load(state, caller, org, want).await {
        Ok(catalog) => catalog,
        Err(e) => return failure(c, &e),
    };
    let (name, email) = catalog
        .person(account)
        .map(|x| (x.name.clone(), x.email.clone()))
        .unwrap_or_default();
    let manager = scopes.role == Role::SpaceManager;
    let owner = scopes.role == Role::DeviceOwner;
    let mut sites: Vec<_> = catalog.sites.iter().collect();
    sites.sort_by(|a, b| a.name.cmp(&b.name));
    let choices = if manager {
        sites
            .iter()
            .flat_map(|site| {
                catalog
                    .tree_of_site(site.id)
                    .into_iter()
                    .map(move |(s, _)| (site, s))
            })
            .map(|(site, s)| ScopeChoice {
                id: s.id.to_string(),
                label: format!("{} › {}", site.name, catalog.space_path(s.id)),
                ticked: scopes.spaces.contains(&s.id),
            })
            .collect()
    } else if owner {
        let mut devices: Vec<ScopeChoice> = catalog
            .devices
            .iter()
            .map(|d| ScopeChoice {
                id: d.id.to_string(),
                label: format!("{} ({})", d.name, c.t(kind_key(d.kind))),
                ticked: scopes.devices.contains(&d.id),
            })
            .collect();
        devices.sort_by(|a, b| a.label.cmp(&b.label));
        devices
    } else {
        Vec::new()
    };
    let fresh = ProfileForm {
        display_name: entry.profile.display_name.clone().unwrap_or_default(),
        employee_number: entry.profile.employee_number.clone().unwrap_or_default(),
        labels: entry.profile.labels.join(", "),
        version: String::new(),
    };
    render(
        &PersonPage {
            c,
            org_id: org.to_string(),
            account_id: account.to_string(),
            name,
            email,
            role_key: role_key(scopes.role),
            version: entry.membership.version,
            form: form.unwrap_or(&fresh),
            manager,
            owner,
            choices,
            refusal: shown.refusal,
            notice: shown.notice,
        },
        shown.status,
        c.lang,
    )
}

async fn profile_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, account)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let (Some(org), Some(account)) = (parse_id(&org), parse_id(&account)) else {
        return not_found(&caller.chrome);
    };
    let shown = Shown {
        refusal: Refusal::none(),
        notice: notice_key(q.notice.as_deref()),
        status: StatusCode::OK,
    };
    render_person(&state, &caller, org, account, None, shown).await
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

async fn change_profile(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, account)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(refused) = super::check_form(&state, &caller, field(&pairs, "_csrf")) {
        return refused;
    }
    let (Some(org), Some(account)): (Option<OrgId>, Option<AccountId>) =
        (parse_id(&org), parse_id(&account))
    else {
        return not_found(&caller.chrome);
    };
    let form = ProfileForm {
        display_name: field(&pairs, "display_name").to_owned(),
        employee_number: field(&pairs, "employee_number").to_owned(),
        labels: field(&pairs, "labels").to_owned(),
        version: field(&pairs, "version").to_owned(),
    };
    let optional = |t: &str| {
        let t = t.trim();
        (!t.is_empty()).then(|| t.to_owned())
    };
    let patch = ProfilePatch {
        version: form.version.trim().parse().ok(),
        display_name: Some(optional(&form.display_name)),
        employee_number: Some(optional(&form.employee_number)),
        labels: Some(
            form.labels
                .split(',')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
    };
    match state
        .app
        .change_person_profile(
            &caller.principal,
            &caller.actor(),
            org,
            account,
            None,
            patch,
        )
        .await
    {
        Ok(_) => see_other(&format!(
            "/orgs/{org}/people/{account}/profile?notice=profile_changed"
        )),
        Err(e) if explainable(&e) => {
            let shown = Shown::refused(&e, &["display_name", "employee_number", "labels"]);
            render_person(&state, &caller, org, account, Some(&form), shown).await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}

async fn change_scopes(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, account)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(refused) = super::check_form(&state, &caller, field(&pairs, "_csrf")) {
        return refused;
    }
    let (Some(org), Some(account)): (Option<OrgId>, Option<AccountId>) =
        (parse_id(&org), parse_id(&account))
    else {
        return not_found(&caller.chrome);
    };
    let ticked: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.clone())
        .collect();
    let (spaces, devices) = match field(&pairs, "kind") {
        "spaces" => (Some(ticked), None),
        "devices" => (None, Some(ticked)),
        _ => return not_found(&caller.chrome),
    };
    match state
        .app
        .set_person_scopes(
            &caller.principal,
            &caller.actor(),
            org,
            account,
            spaces,
            devices,
        )
        .await
    {
        Ok(_) => see_other(&format!(
            "/orgs/{org}/people/{account}/profile?notice=scopes_changed"
        )),
        // A stale sign-in re-authenticates on the step-up page, then comes back here.
        Err(e) if e.code() == ErrorCode::StepUpRequired => {
            let back = url_encode(&format!("/orgs/{org}/people/{account}/profile"));
            see_other(&format!("/step-up?next={back}"))
        }
        Err(e) if explainable(&e) => {
            let shown = Shown::refused(&e, &["spaces", "devices"]);
            render_person(&state, &caller, org, account, None, shown).await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}
