//! Groups of people: the list with a create form, and a group's page with its members (add one
//! by choosing from the organisation's people, remove one). Org admins only (the services say so).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use latchkey_domain::directory::Group;
use latchkey_domain::{AccountId, GroupId, OrgId};
use serde::Deserialize;

use super::{
    Catalog, PersonName, Refusal, Shown, Want, check_form, explainable, failure, not_found,
    notice_key, parse_id, see_other, status_of,
};
use crate::console::shell::{Chrome, ConsoleCaller, render};
use crate::directory::groups::NewGroup;
use crate::web::WebState;

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route("/orgs/{org}/groups", get(groups_page).post(create_group))
        .route("/orgs/{org}/groups/{group}", get(group_page))
        .route("/orgs/{org}/groups/{group}/members", post(add_member))
        .route(
            "/orgs/{org}/groups/{group}/members/{account}/remove",
            get(confirm_remove).post(remove_member),
        )
}

#[derive(Debug, Default, Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

struct GroupRow {
    id: String,
    name: String,
    description: String,
    members: usize,
}

impl From<&Group> for GroupRow {
    fn from(g: &Group) -> Self {
        Self {
            id: g.id.to_string(),
            name: g.name.clone(),
            description: g.description.clone().unwrap_or_default(),
            members: g.members.len(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct GroupForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

#[derive(Template)]
#[template(path = "directory/groups.html")]
struct GroupsPage<'a> {
    c: &'a Chrome,
    org_id: String,
    groups: Vec<GroupRow>,
    form: &'a GroupForm,
    refusal: Refusal,
    notice: Option<&'static str>,
}

async fn render_groups(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    form: &GroupForm,
    shown: Shown,
) -> Response {
    let Shown {
        refusal,
        notice,
        status,
    } = shown;
    let c = &caller.chrome;
    let groups = match super::all_pages(|q| async move {
        state.app.groups_page(&caller.principal, org, &q).await
    })
    .await
    {
        Ok(groups) => groups,
        Err(e) => return failure(c, &e),
    };
    let mut groups: Vec<GroupRow> = groups.iter().map(GroupRow::from).collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    render(
        &GroupsPage {
            c,
            org_id: org.to_string(),
            groups,
            form,
            refusal,
            notice,
        },
        status,
        c.lang,
    )
}

async fn groups_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let Some(org) = parse_id(&org) else {
        return not_found(&caller.chrome);
    };
    let notice = notice_key(q.notice.as_deref());
    render_groups(
        &state,
        &caller,
        org,
        &GroupForm::default(),
        Shown {
            refusal: Refusal::none(),
            notice,
            status: StatusCode::OK,
        },
    )
    .await
}

async fn create_group(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<String>,
    Form(form): Form<GroupForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &caller, &form._csrf) {
        return refused;
    }
    let Some(org): Option<OrgId> = parse_id(&org) else {
        return not_found(&caller.chrome);
    };
    let description = form.description.trim();
    let input = NewGroup {
        name: form.name.clone(),
        description: (!description.is_empty()).then(|| description.to_owned()),
        ..NewGroup::default()
    };
    match state
        .app
        .add_group(&caller.principal, &caller.actor(), org, input)
        .await
    {
        Ok(group) => see_other(&format!(
            "/orgs/{org}/groups/{}?notice=group_created",
            group.id
        )),
        Err(e) if explainable(&e) => {
            render_groups(
                &state,
                &caller,
                org,
                &form,
                Shown::refused(&e, &["name", "description"]),
            )
            .await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}

#[derive(Debug, Default, Deserialize)]
struct MemberForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    account: String,
}

#[derive(Template)]
#[template(path = "directory/group.html")]
struct GroupPage<'a> {
    c: &'a Chrome,
    org_id: String,
    group: GroupRow,
    members: Vec<PersonName>,
    others: Vec<PersonName>,
    form: &'a MemberForm,
    refusal: Refusal,
    notice: Option<&'static str>,
}

async fn render_group(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    id: GroupId,
    form: &MemberForm,
    shown: Shown,
) -> Response {
    let Shown {
        refusal,
        notice,
        status,
    } = shown;
    let c = &caller.chrome;
    let group = match state.app.group_of(&caller.principal, org, id).await {
        Ok(group) => group,
        Err(e) => return failure(c, &e),
    };
    let want = Want {
        people: true,
        ..Want::default()
    };
    let catalog = match Catalog::load(state, caller, org, want).await {
        Ok(catalog) => catalog,
        Err(e) => return failure(c, &e),
    };
    let (mut members, mut others): (Vec<PersonName>, Vec<PersonName>) = catalog
        .people
        .into_iter()
        .partition(|p| group.members.contains(&p.id));
    members.sort_by(|a, b| a.name.cmp(&b.name));
    others.sort_by(|a, b| a.name.cmp(&b.name));
    render(
        &GroupPage {
            c,
            org_id: org.to_string(),
            group: GroupRow::from(&group),
            members,
            others,
            form,
            refusal,
            notice,
        },
        status,
        c.lang,
    )
}

async fn group_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, group)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let (Some(org), Some(group)) = (parse_id(&org), parse_id(&group)) else {
        return not_found(&caller.chrome);
    };
    let notice = notice_key(q.notice.as_deref());
    render_group(
        &state,
        &caller,
        org,
        group,
        &MemberForm::default(),
        Shown {
            refusal: Refusal::none(),
            notice,
            status: StatusCode::OK,
        },
    )
    .await
}

async fn add_member(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, group)): Path<(String, String)>,
    Form(form): Form<MemberForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &caller, &form._csrf) {
        return refused;
    }
    let (Some(org), Some(group)): (Option<OrgId>, Option<GroupId>) =
        (parse_id(&org), parse_id(&group))
    else {
        return not_found(&caller.chrome);
    };
    match state
        .app
        .add_group_member(
            &caller.principal,
            &caller.actor(),
            org,
            group,
            &form.account,
        )
        .await
    {
        Ok(_) => see_other(&format!("/orgs/{org}/groups/{group}?notice=member_added")),
        Err(e) if explainable(&e) => {
            let refusal = Refusal::of(&e, &["account_id", "account"]);
            let refusal = if refusal.general().is_some() {
                Refusal::at_field("account", e.to_string())
            } else {
                refusal
            };
            render_group(
                &state,
                &caller,
                org,
                group,
                &form,
                Shown {
                    refusal,
                    notice: None,
                    status: status_of(&e),
                },
            )
            .await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}

#[derive(Template)]
#[template(path = "directory/group_remove.html")]
struct ConfirmRemovePage<'a> {
    c: &'a Chrome,
    org_id: String,
    group: GroupRow,
    person: PersonName,
    impact: Option<crate::console::access::ImpactView>,
}

/// Says who leaves which group and what they stop opening right now, before the removal.
async fn confirm_remove(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, group, account)): Path<(String, String, String)>,
) -> Response {
    let c = &caller.chrome;
    let (Some(org), Some(group), Some(account)): (
        Option<OrgId>,
        Option<GroupId>,
        Option<AccountId>,
    ) = (parse_id(&org), parse_id(&group), parse_id(&account)) else {
        return not_found(c);
    };
    let group = match state.app.group_of(&caller.principal, org, group).await {
        Ok(group) => group,
        Err(e) => return failure(c, &e),
    };
    let catalog = match Catalog::load(&state, &caller, org, ALL).await {
        Ok(catalog) => catalog,
        Err(e) => return failure(c, &e),
    };
    let Some(person) = catalog
        .person(account)
        .filter(|_| group.members.contains(&account))
        .cloned()
    else {
        return not_found(c);
    };
    let impact = crate::console::access::preview(
        &state,
        &caller,
        org,
        &catalog,
        latchkey_domain::access::Removal::Membership {
            group: group.id,
            person: account,
        },
    )
    .await;
    render(
        &ConfirmRemovePage {
            c,
            org_id: org.to_string(),
            group: GroupRow::from(&group),
            person,
            impact,
        },
        StatusCode::OK,
        c.lang,
    )
}

const ALL: Want = Want {
    devices: true,
    groups: true,
    people: true,
};

async fn remove_member(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, group, account)): Path<(String, String, String)>,
    Form(form): Form<MemberForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &caller, &form._csrf) {
        return refused;
    }
    let (Some(org), Some(group), Some(account)): (
        Option<OrgId>,
        Option<GroupId>,
        Option<AccountId>,
    ) = (parse_id(&org), parse_id(&group), parse_id(&account)) else {
        return not_found(&caller.chrome);
    };
    match state
        .app
        .remove_group_member(&caller.principal, &caller.actor(), org, group, account)
        .await
    {
        Ok(_) => see_other(&format!("/orgs/{org}/groups/{group}?notice=member_removed")),
        Err(e) if explainable(&e) => {
            render_group(
                &state,
                &caller,
                org,
                group,
                &MemberForm::default(),
                Shown::refused(&e, &[]),
            )
            .await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}
