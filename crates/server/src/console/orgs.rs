//! Console pages: organisations (operators), people and invitations (org admins), accepting an
//! invitation (anyone holding the link).
//!
//! Every page calls the same services as the API, so authorization is the services' (cross-tenant
//! ids: 404 page; too low a role: 403 page). State-changing forms carry the session's CSRF token;
//! the public invitation form, used before any session exists, is guarded by the same-origin
//! check instead. A successful form redirects (303) back to its page with a notice; a refused one
//! re-renders the page with the reason, keeping what was typed.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use latchkey_domain::tenancy::{NewOrganisation, OrgStatus};
use latchkey_domain::time::rfc3339_utc;
use latchkey_domain::{AccountId, ErrorCode, OrgId};
use serde::Deserialize;

use crate::app::ServiceError;
use crate::console::shell::{
    Chrome, ConsoleCaller, Visitor, csrf_refused, invalid_link, message, render, status_of,
    unavailable, url_encode,
};
use crate::identity::invitations::{InvitationView, NewInvitation, refuse_bidi_controls};
use crate::identity::people::{PeopleQuery, Person};
use crate::tenancy::organisations::{ContractChange, OrganisationSummary};
use crate::web::WebState;
use crate::web::session::same_origin;

/// This area's console routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/operator/orgs", get(orgs_page).post(create_org))
        .route("/operator/orgs/{org}", get(org_page))
        .route("/operator/orgs/{org}/{action}", post(org_action))
        .route("/orgs/{org}/people", get(people_page))
        .route("/orgs/{org}/people/invite", post(invite))
        .route(
            "/orgs/{org}/people/{account}/delete",
            get(confirm_delete_page).post(delete_person),
        )
        .route("/orgs/{org}/people/{account}/{action}", post(person_action))
        .route("/invite/{token}", get(invitation_page).post(accept))
}

/// A refusal the page can explain next to the form (everything else gets its own page).
fn explainable(e: &ServiceError) -> bool {
    matches!(
        e.code(),
        ErrorCode::InvalidField
            | ErrorCode::RuleViolation
            | ErrorCode::Conflict
            | ErrorCode::StaleVersion
            | ErrorCode::TenantInactive
            | ErrorCode::StepUpRequired
    )
}

/// The page for a refusal that is not about the form: not found, not allowed, unavailable.
fn failure(c: &Chrome, e: &ServiceError) -> Response {
    match e.code() {
        ErrorCode::NotFound => message(
            c,
            StatusCode::NOT_FOUND,
            "error.not_found.title",
            "error.not_found.body",
        ),
        ErrorCode::MfaEnrolmentRequired => message(
            c,
            StatusCode::FORBIDDEN,
            "orgs.forbidden.title",
            "orgs.mfa_required.body",
        ),
        ErrorCode::Forbidden | ErrorCode::StepUpRequired => message(
            c,
            StatusCode::FORBIDDEN,
            "orgs.forbidden.title",
            "orgs.forbidden.body",
        ),
        _ => unavailable(c, e),
    }
}

fn not_found(c: &Chrome) -> Response {
    message(
        c,
        StatusCode::NOT_FOUND,
        "error.not_found.title",
        "error.not_found.body",
    )
}

fn parse_org(raw: &str) -> Option<OrgId> {
    raw.parse().ok()
}

fn parse_account(raw: &str) -> Option<AccountId> {
    raw.parse().ok()
}

/// A notice shown after a redirect; only known keys are shown (the query is attacker-controlled).
fn notice_key(raw: Option<&str>) -> Option<&'static str> {
    Some(match raw? {
        "created" => "orgs.notice.created",
        "suspended" => "orgs.notice.suspended",
        "resumed" => "orgs.notice.resumed",
        "contract" => "orgs.notice.contract",
        "invited" => "orgs.notice.invited",
        "resent" => "orgs.notice.resent",
        "disabled" => "orgs.notice.disabled",
        "enabled" => "orgs.notice.enabled",
        "deleted" => "orgs.notice.deleted",
        "role" => "orgs.notice.role",
        "sessions" => "orgs.notice.sessions",
        "unlocked" => "orgs.notice.unlocked",
        _ => return None,
    })
}

#[derive(Debug, Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

/// What a re-rendered page says besides its data: the form as typed, a refusal or a notice.
struct Feedback<'a, F> {
    form: &'a F,
    error: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
}

impl<'a, F> Feedback<'a, F> {
    fn fresh(form: &'a F, notice: Option<&'static str>) -> Self {
        Self {
            form,
            error: None,
            notice,
            status: StatusCode::OK,
        }
    }

    fn refused(form: &'a F, e: &ServiceError) -> Self {
        Self {
            form,
            error: Some(e.to_string()),
            notice: None,
            status: status_of(e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Operator: organisations

/// One organisation row.
struct OrgRow {
    id: String,
    name: String,
    status_key: &'static str,
    seat_limit: i64,
    seats_in_use: i64,
    members: i64,
    active_admins: i64,
    contact_email: String,
    created_at: String,
}

impl From<OrganisationSummary> for OrgRow {
    fn from(s: OrganisationSummary) -> Self {
        Self {
            id: s.org.id.to_string(),
            status_key: match s.org.status {
                OrgStatus::Active => "orgs.status.active",
                OrgStatus::Suspended => "orgs.status.suspended",
                OrgStatus::Terminated { .. } => "orgs.status.terminated",
            },
            seat_limit: s.org.contract.seat_limit,
            seats_in_use: s.seats_in_use,
            members: s.members,
            active_admins: s.active_admins,
            created_at: rfc3339_utc(s.org.created_at_ms),
            contact_email: s.org.contract.contact_email,
            name: s.org.name,
        }
    }
}

/// What was typed into the create form.
#[derive(Debug, Default, Deserialize)]
struct CreateOrgForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    contact_email: String,
    #[serde(default)]
    seat_limit: String,
}

#[derive(Template)]
#[template(path = "orgs/list.html")]
struct OrgsPage<'a> {
    c: &'a Chrome,
    orgs: Vec<OrgRow>,
    form: &'a CreateOrgForm,
    error: Option<String>,
    notice: Option<&'static str>,
}

async fn render_orgs(
    state: &WebState,
    caller: &ConsoleCaller,
    feedback: Feedback<'_, CreateOrgForm>,
) -> Response {
    let c = &caller.chrome;
    if let Err(e) = caller.principal.require_operator() {
        return failure(c, &e);
    }
    match state.app.organisation_summaries().await {
        Ok(all) => render(
            &OrgsPage {
                c,
                orgs: all.into_iter().map(OrgRow::from).collect(),
                form: feedback.form,
                error: feedback.error,
                notice: feedback.notice,
            },
            feedback.status,
            c.lang,
        ),
        Err(e) => failure(c, &e),
    }
}

async fn orgs_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let notice = notice_key(query.notice.as_deref());
    render_orgs(
        &state,
        &caller,
        Feedback::fresh(&CreateOrgForm::default(), notice),
    )
    .await
}

async fn create_org(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Form(form): Form<CreateOrgForm>,
) -> Response {
    if caller.check_csrf(&state, &form._csrf).is_err() {
        return csrf_refused(&caller.chrome);
    }
    if let Err(e) = caller.principal.require_operator() {
        return failure(&caller.chrome, &e);
    }
    let seat_limit = form.seat_limit.trim().parse::<i64>().unwrap_or(0);
    let outcome = async {
        let input = NewOrganisation::parse(&form.name, &form.contact_email, seat_limit)?;
        refuse_bidi_controls("name", &input.name)?;
        state.app.create_organisation(&caller.actor(), input).await
    }
    .await;
    match outcome {
        Ok(org) => {
            Redirect::to(&format!("/operator/orgs/{}?notice=created", org.id)).into_response()
        }
        Err(e) if explainable(&e) => {
            render_orgs(&state, &caller, Feedback::refused(&form, &e)).await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}

#[derive(Template)]
#[template(path = "orgs/show.html")]
struct OrgPage<'a> {
    c: &'a Chrome,
    org: OrgRow,
    active: bool,
    error: Option<String>,
    notice: Option<&'static str>,
    invite_name: &'a str,
    invite_email: &'a str,
}

async fn render_org(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    feedback: Feedback<'_, OrgActionForm>,
) -> Response {
    let c = &caller.chrome;
    if let Err(e) = caller.principal.require_operator() {
        return failure(c, &e);
    }
    match state.app.organisation_summary(org).await {
        Ok(summary) => {
            let active = summary.org.status == OrgStatus::Active;
            render(
                &OrgPage {
                    c,
                    org: summary.into(),
                    active,
                    error: feedback.error,
                    notice: feedback.notice,
                    invite_name: feedback.form.name.as_deref().unwrap_or(""),
                    invite_email: feedback.form.email.as_deref().unwrap_or(""),
                },
                feedback.status,
                c.lang,
            )
        }
        Err(e) => failure(c, &e),
    }
}

async fn org_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Response {
    let Some(org) = parse_org(&org) else {
        return not_found(&caller.chrome);
    };
    let notice = notice_key(query.notice.as_deref());
    let form = OrgActionForm::default();
    render_org(&state, &caller, org, Feedback::fresh(&form, notice)).await
}

/// Any of the organisation page's forms.
#[derive(Debug, Default, Deserialize)]
struct OrgActionForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    seat_limit: Option<String>,
    #[serde(default)]
    contact_email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

async fn org_action(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, action)): Path<(String, String)>,
    Form(form): Form<OrgActionForm>,
) -> Response {
    let c = &caller.chrome;
    if caller.check_csrf(&state, &form._csrf).is_err() {
        return csrf_refused(c);
    }
    let Some(org) = parse_org(&org) else {
        return not_found(c);
    };
    if let Err(e) = caller.principal.require_operator() {
        return failure(c, &e);
    }
    let actor = caller.actor();
    let app = &state.app;
    let outcome: Result<&str, ServiceError> = match action.as_str() {
        "suspend" => app
            .suspend_organisation(&actor, org)
            .await
            .map(|_| "suspended"),
        "resume" => app
            .resume_organisation(&actor, org)
            .await
            .map(|_| "resumed"),
        "contract" => {
            let seat_limit = match form.seat_limit.as_deref().map(str::trim) {
                Some("") | None => None,
                Some(text) => Some(text.parse::<i64>().unwrap_or(0)),
            };
            let contact_email = form
                .contact_email
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_owned);
            app.change_contract(
                &actor,
                org,
                ContractChange {
                    seat_limit,
                    contact_email,
                },
            )
            .await
            .map(|_| "contract")
        }
        "invite" => app
            .invite(
                &caller.principal,
                &actor,
                org,
                NewInvitation {
                    name: form.name.as_deref().unwrap_or(""),
                    email: form.email.as_deref().unwrap_or(""),
                    role: "org_admin",
                },
            )
            .await
            .map(|_| "invited"),
        _ => return not_found(c),
    };
    match outcome {
        Ok(notice) => {
            Redirect::to(&format!("/operator/orgs/{org}?notice={notice}")).into_response()
        }
        Err(e) if explainable(&e) || e.code() == ErrorCode::Forbidden => {
            render_org(&state, &caller, org, Feedback::refused(&form, &e)).await
        }
        Err(e) => failure(c, &e),
    }
}

// ---------------------------------------------------------------------------------------------
// Org admin: people

/// One person row.
struct PersonRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    role_key: &'static str,
    status: &'static str,
    status_key: &'static str,
    locked: bool,
}

impl From<Person> for PersonRow {
    fn from(p: Person) -> Self {
        let (role, status) = (p.role.as_str(), p.status.as_str());
        Self {
            id: p.account_id.to_string(),
            name: p.name,
            email: p.email,
            role,
            role_key: if p.role.is_admin() {
                "role.org_admin"
            } else {
                "role.member"
            },
            status,
            status_key: match status {
                "invited" => "people.status.invited",
                "active" => "people.status.active",
                _ => "people.status.disabled",
            },
            locked: p.locked,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct PeopleQueryForm {
    q: Option<String>,
    page: Option<u32>,
    notice: Option<String>,
}

/// What was typed into the invite form.
#[derive(Debug, Default, Deserialize)]
struct InviteForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

#[derive(Template)]
#[template(path = "orgs/people.html")]
struct PeoplePage<'a> {
    c: &'a Chrome,
    org_id: String,
    org_name: String,
    q: &'a str,
    q_encoded: String,
    people: Vec<PersonRow>,
    total: usize,
    page: u32,
    pages: u32,
    form: &'a InviteForm,
    error: Option<String>,
    notice: Option<&'static str>,
}

const PAGE_SIZE: u32 = 25;

async fn render_people(
    state: &WebState,
    caller: &ConsoleCaller,
    org: OrgId,
    q: &str,
    page: u32,
    feedback: Feedback<'_, InviteForm>,
) -> Response {
    let c = &caller.chrome;
    let query = PeopleQuery {
        q: Some(q),
        page: Some(page.max(1)),
        per_page: Some(PAGE_SIZE),
    };
    let (people, total, page, error, status) =
        match state.app.people(&caller.principal, org, query).await {
            Ok(found) => (
                found.items.into_iter().map(PersonRow::from).collect(),
                found.total,
                found.page,
                feedback.error,
                feedback.status,
            ),
            // An over-long search is explained on the page, with an empty list.
            Err(e) if e.code() == ErrorCode::InvalidField => (
                Vec::new(),
                0,
                1,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            Err(e) => return failure(c, &e),
        };
    let pages = u32::try_from(total.div_ceil(PAGE_SIZE as usize))
        .unwrap_or(u32::MAX)
        .max(1);
    let page = PeoplePage {
        c,
        org_id: org.to_string(),
        org_name: org_name(state, caller, org).await,
        q,
        q_encoded: url_encode(q),
        people,
        total,
        page,
        pages,
        form: feedback.form,
        error,
        notice: feedback.notice,
    };
    render(&page, status, c.lang)
}

/// The organisation's name as the caller (an active member) sees it.
async fn org_name(state: &WebState, caller: &ConsoleCaller, org: OrgId) -> String {
    state
        .app
        .my_organisations(&caller.principal)
        .await
        .ok()
        .and_then(|all| all.into_iter().find(|(o, _)| o.id == org))
        .map(|(o, _)| o.name)
        .unwrap_or_default()
}

async fn people_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<String>,
    Query(query): Query<PeopleQueryForm>,
) -> Response {
    let Some(org) = parse_org(&org) else {
        return not_found(&caller.chrome);
    };
    let notice = notice_key(query.notice.as_deref());
    render_people(
        &state,
        &caller,
        org,
        query.q.as_deref().unwrap_or(""),
        query.page.unwrap_or(1),
        Feedback::fresh(&InviteForm::default(), notice),
    )
    .await
}

async fn invite(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<String>,
    Form(form): Form<InviteForm>,
) -> Response {
    if caller.check_csrf(&state, &form._csrf).is_err() {
        return csrf_refused(&caller.chrome);
    }
    let Some(org) = parse_org(&org) else {
        return not_found(&caller.chrome);
    };
    let outcome = state
        .app
        .invite(
            &caller.principal,
            &caller.actor(),
            org,
            NewInvitation {
                name: &form.name,
                email: &form.email,
                role: &form.role,
            },
        )
        .await;
    match outcome {
        Ok(_) => Redirect::to(&format!("/orgs/{org}/people?notice=invited")).into_response(),
        Err(e) if explainable(&e) => {
            render_people(&state, &caller, org, "", 1, Feedback::refused(&form, &e)).await
        }
        Err(e) => failure(&caller.chrome, &e),
    }
}

#[derive(Template)]
#[template(path = "orgs/confirm_delete.html")]
struct ConfirmDeletePage<'a> {
    c: &'a Chrome,
    org_id: String,
    person: PersonRow,
}

async fn confirm_delete_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, account)): Path<(String, String)>,
) -> Response {
    let c = &caller.chrome;
    let (Some(org), Some(account)) = (parse_org(&org), parse_account(&account)) else {
        return not_found(c);
    };
    match state.app.person(&caller.principal, org, account).await {
        Ok(person) => render(
            &ConfirmDeletePage {
                c,
                org_id: org.to_string(),
                person: person.into(),
            },
            StatusCode::OK,
            c.lang,
        ),
        Err(e) => failure(c, &e),
    }
}

/// Any per-person form.
#[derive(Debug, Default, Deserialize)]
struct PersonActionForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    role: String,
}

async fn person_action(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, account, action)): Path<(String, String, String)>,
    Form(form): Form<PersonActionForm>,
) -> Response {
    act_on_person(&state, &caller, &org, &account, &action, &form).await
}

/// The confirmation page's form (its path is also the page's, so it has its own route).
async fn delete_person(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, account)): Path<(String, String)>,
    Form(form): Form<PersonActionForm>,
) -> Response {
    act_on_person(&state, &caller, &org, &account, "delete", &form).await
}

async fn act_on_person(
    state: &WebState,
    caller: &ConsoleCaller,
    org: &str,
    account: &str,
    action: &str,
    form: &PersonActionForm,
) -> Response {
    let c = &caller.chrome;
    if caller.check_csrf(state, &form._csrf).is_err() {
        return csrf_refused(c);
    }
    let (Some(org), Some(account)) = (parse_org(org), parse_account(account)) else {
        return not_found(c);
    };
    let (app, p, actor) = (&state.app, &caller.principal, caller.actor());
    let outcome: Result<&str, ServiceError> = match action {
        "disable" => app
            .disable_person(p, &actor, org, account)
            .await
            .map(|_| "disabled"),
        "enable" => app
            .enable_person(p, &actor, org, account)
            .await
            .map(|_| "enabled"),
        "delete" => app
            .delete_person(p, &actor, org, account)
            .await
            .map(|_| "deleted"),
        "role" => app
            .change_role(p, &actor, org, account, &form.role)
            .await
            .map(|_| "role"),
        "sessions" => app
            .end_person_sessions(p, &actor, org, account)
            .await
            .map(|_| "sessions"),
        "unlock" => app
            .unlock_person(p, &actor, org, account)
            .await
            .map(|_| "unlocked"),
        "resend" => app
            .resend_invitation(p, &actor, org, account)
            .await
            .map(|_| "resent"),
        _ => return not_found(c),
    };
    match outcome {
        Ok(notice) => Redirect::to(&format!("/orgs/{org}/people?notice={notice}")).into_response(),
        // A stale sign-in re-authenticates on the step-up page, then comes back to the list
        // (the same path as the security settings page).
        Err(e) if e.code() == ErrorCode::StepUpRequired => {
            let back = url_encode(&format!("/orgs/{org}/people"));
            Redirect::to(&format!("/step-up?next={back}")).into_response()
        }
        Err(e) if explainable(&e) => {
            render_people(
                state,
                caller,
                org,
                "",
                1,
                Feedback::refused(&InviteForm::default(), &e),
            )
            .await
        }
        Err(e) => failure(c, &e),
    }
}

// ---------------------------------------------------------------------------------------------
// Anyone with the link: accepting an invitation

#[derive(Template)]
#[template(path = "orgs/invitation.html")]
struct InvitationPage<'a> {
    c: &'a Chrome,
    token: &'a str,
    view: InvitationView,
    role_key: &'static str,
    error: Option<String>,
}

fn link_failure(c: &Chrome, e: &ServiceError) -> Response {
    match e.code() {
        ErrorCode::NotFound => invalid_link(c),
        ErrorCode::TenantInactive => message(
            c,
            StatusCode::CONFLICT,
            "invite.inactive.title",
            "invite.inactive.body",
        ),
        _ => failure(c, e),
    }
}

fn invitation_view_page(
    c: &Chrome,
    token: &str,
    view: InvitationView,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let role_key = if view.role.is_admin() {
        "role.org_admin"
    } else {
        "role.member"
    };
    render(
        &InvitationPage {
            c,
            token,
            view,
            role_key,
            error,
        },
        status,
        c.lang,
    )
}

/// The e-mailed page: shows the invitation; spends nothing (mail scanners prefetch links).
async fn invitation_page(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Response {
    let c = &visitor.chrome;
    match state.app.peek_invitation(&token).await {
        Ok(view) => invitation_view_page(c, &token, view, None, StatusCode::OK),
        Err(e) => link_failure(c, &e),
    }
}

/// The invitation form. (No `Debug`: it carries a password.)
#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    password: String,
}

async fn accept(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<AcceptForm>,
) -> Response {
    let c = &visitor.chrome;
    if !same_origin(&headers) {
        return csrf_refused(c);
    }
    let password = (!form.password.is_empty()).then_some(form.password.as_str());
    let actor = visitor.origin.anonymous("invitation");
    match state.app.accept_invitation(&actor, &token, password).await {
        Ok(_) => message(c, StatusCode::OK, "invite.done.title", "invite.done.body"),
        Err(e) if e.code() == ErrorCode::InvalidField => {
            match state.app.peek_invitation(&token).await {
                Ok(view) => invitation_view_page(
                    c,
                    &token,
                    view,
                    Some(e.to_string()),
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
                Err(e) => link_failure(c, &e),
            }
        }
        Err(e) => link_failure(c, &e),
    }
}
