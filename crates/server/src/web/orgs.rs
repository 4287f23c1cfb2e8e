//! Operator organisation management and the organisation's people: organisations (operators),
//! invitations, members (org admins), and accepting an invitation (anonymous, by link).
//!
//! Authorization lives in the services; handlers only translate. Ids in paths that do not parse
//! answer 404 like unknown ones.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use latchkey_domain::tenancy::NewOrganisation;
use latchkey_domain::time::rfc3339_utc;
use latchkey_domain::{AccountId, DomainError, ErrorCode, OrgId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::identity::invitations::{
    InvitationView, NewInvitation, SentInvitation, invalid_link, refuse_bidi_controls,
};
use crate::identity::people::{PeoplePage, PeopleQuery, Person};
use crate::tenancy::organisations::{ContractChange, OrganisationSummary};
use crate::web::WebState;
use crate::web::problem::{ApiError, Problem};
use crate::web::session::{ApiCaller, Origin, same_origin};

/// This module's part of the OpenAPI document (merged in `api.rs`).
#[derive(OpenApi)]
#[openapi(
    paths(create_org, list_orgs, show_org, change_org, suspend_org, resume_org, invite, resend,
        peek_invitation, accept_invitation, list_members, show_member, delete_member,
        disable_member, enable_member, change_member_role, end_member_sessions, unlock_member),
    components(schemas(CreateOrgBody, OrgBody, ChangeOrgBody, InviteBody, InvitationBody,
        InvitationPreview, AcceptBody, AcceptedBody, MemberBody, MembersBody, RoleBody,
        SessionsEndedBody)),
    tags(
        (name = "organisations", description = "Organisations and their contracts (platform operators)"),
        (name = "people", description = "An organisation's people and invitations (org admins)"),
        (name = "invitations", description = "Accepting an invitation by its e-mailed link"),
    )
)]
pub struct Doc;

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/api/v1/orgs", get(list_orgs).post(create_org))
        .route("/api/v1/orgs/{org}", get(show_org).patch(change_org))
        .route("/api/v1/orgs/{org}/suspend", post(suspend_org))
        .route("/api/v1/orgs/{org}/resume", post(resume_org))
        .route("/api/v1/orgs/{org}/invitations", post(invite))
        .route(
            "/api/v1/orgs/{org}/invitations/{account}/resend",
            post(resend),
        )
        .route("/api/v1/invitations/{token}", get(peek_invitation))
        .route(
            "/api/v1/invitations/{token}/accept",
            post(accept_invitation),
        )
        .route("/api/v1/orgs/{org}/members", get(list_members))
        .route(
            "/api/v1/orgs/{org}/members/{account}",
            get(show_member).delete(delete_member),
        )
        .route(
            "/api/v1/orgs/{org}/members/{account}/disable",
            post(disable_member),
        )
        .route(
            "/api/v1/orgs/{org}/members/{account}/enable",
            post(enable_member),
        )
        .route(
            "/api/v1/orgs/{org}/members/{account}/role",
            put(change_member_role),
        )
        .route(
            "/api/v1/orgs/{org}/members/{account}/sessions/revocation",
            post(end_member_sessions),
        )
        .route(
            "/api/v1/orgs/{org}/members/{account}/unlock",
            post(unlock_member),
        )
}

fn org_id(raw: &str) -> Result<OrgId, DomainError> {
    raw.parse()
        .map_err(|_| DomainError::new(ErrorCode::NotFound, "organisation not found"))
}

fn account_id(raw: &str) -> Result<AccountId, DomainError> {
    raw.parse()
        .map_err(|_| DomainError::new(ErrorCode::NotFound, "no such person in this organisation"))
}

// ---------------------------------------------------------------------------------------------
// Organisations (operators)

/// A new organisation and its contract.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgBody {
    /// Display name (1–200 characters).
    pub name: String,
    /// Where the operator sends contract and incident notices.
    pub contact_email: String,
    /// How many people (invited or active) the organisation may have, 1–1 000 000.
    pub seat_limit: i64,
}

/// An organisation as the operator sees it: contract and counts, no member data.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgBody {
    /// Organisation id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `active`, `suspended` or `terminated`.
    pub status: String,
    /// Seats the contract allows.
    pub seat_limit: i64,
    /// Contract contact e-mail.
    pub contact_email: String,
    /// Seats held (invited or active people).
    pub seats_in_use: i64,
    /// People of any status.
    pub members: i64,
    /// Active org admins.
    pub active_admins: i64,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Version, bumped on each change.
    pub version: i64,
}

impl From<OrganisationSummary> for OrgBody {
    fn from(s: OrganisationSummary) -> Self {
        Self {
            id: s.org.id.to_string(),
            status: s.org.status.as_str().into(),
            seat_limit: s.org.contract.seat_limit,
            contact_email: s.org.contract.contact_email,
            name: s.org.name,
            seats_in_use: s.seats_in_use,
            members: s.members,
            active_admins: s.active_admins,
            created_at: rfc3339_utc(s.org.created_at_ms),
            version: s.org.version,
        }
    }
}

/// A contract change (JSON merge patch): fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeOrgBody {
    /// New seat limit; never below the seats in use.
    #[serde(default)]
    pub seat_limit: Option<i64>,
    /// New contact e-mail address.
    #[serde(default)]
    pub contact_email: Option<String>,
}

const OPERATOR_ONLY: &str = "Not the platform operator (or no MFA, or an API token)";

/// Creates an organisation (platform operator).
#[utoipa::path(post, path = "/api/v1/orgs", tag = "organisations",
    request_body = CreateOrgBody,
    responses(
        (status = 201, description = "Created", body = OrgBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = OPERATOR_ONLY, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_org(
    State(state): State<WebState>,
    caller: ApiCaller,
    Json(body): Json<CreateOrgBody>,
) -> Result<(StatusCode, Json<OrgBody>), ApiError> {
    caller.principal.require_operator()?;
    let input = NewOrganisation::parse(&body.name, &body.contact_email, body.seat_limit)?;
    refuse_bidi_controls("name", &input.name)?;
    let org = state
        .app
        .create_organisation(&caller.actor(), input)
        .await?;
    let summary = state.app.organisation_summary(org.id).await?;
    Ok((StatusCode::CREATED, Json(summary.into())))
}

/// Every organisation with contract and counts (platform operator).
#[utoipa::path(get, path = "/api/v1/orgs", tag = "organisations",
    responses(
        (status = 200, description = "Organisations", body = [OrgBody]),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = OPERATOR_ONLY, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_orgs(
    State(state): State<WebState>,
    caller: ApiCaller,
) -> Result<Json<Vec<OrgBody>>, ApiError> {
    caller.principal.require_operator()?;
    let all = state.app.organisation_summaries().await?;
    Ok(Json(all.into_iter().map(OrgBody::from).collect()))
}

/// One organisation with contract and counts (platform operator).
#[utoipa::path(get, path = "/api/v1/orgs/{org}", tag = "organisations",
    params(("org" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The organisation", body = OrgBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = OPERATOR_ONLY, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show_org(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
) -> Result<Json<OrgBody>, ApiError> {
    caller.principal.require_operator()?;
    let org = org_id(&org)?;
    Ok(Json(state.app.organisation_summary(org).await?.into()))
}

/// Changes the contract: seat limit (never below the seats in use) and contact (platform operator).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}", tag = "organisations",
    params(("org" = String, Path, description = "Organisation id")),
    request_body = ChangeOrgBody,
    responses(
        (status = 200, description = "Changed", body = OrgBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = OPERATOR_ONLY, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed meanwhile; reload", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (e.g. the limit is below the seats in use)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn change_org(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Json(body): Json<ChangeOrgBody>,
) -> Result<Json<OrgBody>, ApiError> {
    caller.principal.require_operator()?;
    let org = org_id(&org)?;
    let summary = state
        .app
        .change_contract(
            &caller.actor(),
            org,
            ContractChange {
                seat_limit: body.seat_limit,
                contact_email: body.contact_email,
            },
        )
        .await?;
    Ok(Json(summary.into()))
}

/// Suspends an active organisation (platform operator).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/suspend", tag = "organisations",
    params(("org" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "Suspended", body = OrgBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = OPERATOR_ONLY, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already suspended, or terminated", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn suspend_org(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
) -> Result<Json<OrgBody>, ApiError> {
    caller.principal.require_operator()?;
    let org = org_id(&org)?;
    state.app.suspend_organisation(&caller.actor(), org).await?;
    Ok(Json(state.app.organisation_summary(org).await?.into()))
}

/// Resumes a suspended organisation (platform operator).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/resume", tag = "organisations",
    params(("org" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "Active again", body = OrgBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = OPERATOR_ONLY, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already active, or terminated", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn resume_org(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
) -> Result<Json<OrgBody>, ApiError> {
    caller.principal.require_operator()?;
    let org = org_id(&org)?;
    state.app.resume_organisation(&caller.actor(), org).await?;
    Ok(Json(state.app.organisation_summary(org).await?.into()))
}

// ---------------------------------------------------------------------------------------------
// Invitations

/// Who to invite.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// The person's name (1–200 characters).
    pub name: String,
    /// Their e-mail address; the link is sent there.
    pub email: String,
    /// `member` or `org_admin`.
    pub role: String,
}

/// An invitation that was sent. The link itself travels only by e-mail.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationBody {
    /// The invited account.
    pub account_id: String,
    /// The role offered.
    pub role: String,
    /// When the link stops working, RFC 3339 UTC.
    pub expires_at: String,
}

impl From<SentInvitation> for InvitationBody {
    fn from(s: SentInvitation) -> Self {
        Self {
            account_id: s.account_id.to_string(),
            role: s.role.as_str().into(),
            expires_at: rfc3339_utc(s.expires_at_ms),
        }
    }
}

/// Invites a person (org admins; the platform operator only for the first org admin).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/invitations", tag = "people",
    params(("org" = String, Path, description = "Organisation id")),
    request_body = InviteBody,
    responses(
        (status = 201, description = "Invited; the link was e-mailed", body = InvitationBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an org admin (or the operator after the first admin)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already invited or a member; or the organisation is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule, or every seat is in use", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn invite(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Json(body): Json<InviteBody>,
) -> Result<(StatusCode, Json<InvitationBody>), ApiError> {
    let org = org_id(&org)?;
    let sent = state
        .app
        .invite(
            &caller.principal,
            &caller.actor(),
            org,
            NewInvitation {
                name: &body.name,
                email: &body.email,
                role: &body.role,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(sent.into())))
}

/// Sends a fresh invitation link; older links stop working.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/invitations/{account}/resend", tag = "people",
    params(("org" = String, Path, description = "Organisation id"),
        ("account" = String, Path, description = "The invited account's id")),
    responses(
        (status = 200, description = "A new link was e-mailed", body = InvitationBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an org admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation or person", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already accepted; or the organisation is suspended", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn resend(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, account)): Path<(String, String)>,
) -> Result<Json<InvitationBody>, ApiError> {
    let org = org_id(&org)?;
    let account = account_id(&account)?;
    let sent = state
        .app
        .resend_invitation(&caller.principal, &caller.actor(), org, account)
        .await?;
    Ok(Json(sent.into()))
}

/// What an invitation link offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationPreview {
    /// The organisation's name.
    pub organisation: String,
    /// The invited e-mail address.
    pub email: String,
    /// The invited person's name.
    pub name: String,
    /// The role offered.
    pub role: String,
    /// True if a password must be chosen (new account); false if the person signs in as usual.
    pub password_required: bool,
    /// The minimum password length that applies.
    pub password_min_chars: usize,
}

impl From<InvitationView> for InvitationPreview {
    fn from(v: InvitationView) -> Self {
        Self {
            organisation: v.organisation,
            email: v.email,
            name: v.name,
            role: v.role.as_str().into(),
            password_required: v.password_required,
            password_min_chars: v.password_min_chars,
        }
    }
}

/// Shows what an invitation link offers without using it up (mail scanners prefetch links).
#[utoipa::path(get, path = "/api/v1/invitations/{token}", tag = "invitations",
    params(("token" = String, Path, description = "The token from the e-mailed link")),
    responses(
        (status = 200, description = "The invitation", body = InvitationPreview),
        (status = 404, description = "Invalid or expired link", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The organisation is suspended", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn peek_invitation(
    State(state): State<WebState>,
    Path(token): Path<String>,
) -> Result<Json<InvitationPreview>, ApiError> {
    Ok(Json(state.app.peek_invitation(&token).await?.into()))
}

/// Accepts an invitation. (No `Debug`: it carries a password.)
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    /// The new password — required when the preview says `password_required`, ignored otherwise.
    #[serde(default)]
    pub password: Option<String>,
}

/// The invitation was accepted; sign in next.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedBody {
    /// The account.
    pub account_id: String,
    /// The organisation joined.
    pub org_id: String,
}

/// Accepts an invitation (uses the link up): sets the password for a new account and joins.
#[utoipa::path(post, path = "/api/v1/invitations/{token}/accept", tag = "invitations",
    params(("token" = String, Path, description = "The token from the e-mailed link")),
    request_body = AcceptBody,
    responses(
        (status = 200, description = "Joined; sign in next", body = AcceptedBody),
        (status = 403, description = "Cross-site request", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Invalid or expired link", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The organisation is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The password is missing or breaks the policy (the reason is given)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn accept_invitation(
    State(state): State<WebState>,
    origin: Origin,
    headers: HeaderMap,
    Path(token): Path<String>,
    Json(body): Json<AcceptBody>,
) -> Result<Json<AcceptedBody>, ApiError> {
    if !same_origin(&headers) {
        return Err(ApiError(Problem::new(
            ErrorCode::Forbidden,
            "cross-site request refused",
        )));
    }
    if token.len() > 64 {
        return Err(invalid_link().into());
    }
    let accepted = state
        .app
        .accept_invitation(
            &origin.anonymous("invitation"),
            &token,
            body.password.as_deref(),
        )
        .await?;
    Ok(Json(AcceptedBody {
        account_id: accepted.account_id.to_string(),
        org_id: accepted.org_id.to_string(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Members (org admins)

/// A person of the organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberBody {
    /// Account id.
    pub account_id: String,
    /// Name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// `guest`, `member`, `device_owner`, `space_manager` or `org_admin`.
    pub role: String,
    /// `invited`, `active` or `disabled`.
    pub status: String,
    /// True while sign-in is locked after wrong passwords or codes.
    pub locked: bool,
    /// When the person was invited, RFC 3339 UTC.
    pub created_at: String,
    /// The membership's version.
    pub version: i64,
}

impl From<Person> for MemberBody {
    fn from(p: Person) -> Self {
        Self {
            account_id: p.account_id.to_string(),
            name: p.name,
            email: p.email,
            role: p.role.as_str().into(),
            status: p.status.as_str().into(),
            locked: p.locked,
            created_at: rfc3339_utc(p.created_at_ms),
            version: p.version,
        }
    }
}

/// A page of people.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembersBody {
    /// This page, by name.
    pub items: Vec<MemberBody>,
    /// How many match in all.
    pub total: usize,
    /// Page number, from 1.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
}

impl From<PeoplePage> for MembersBody {
    fn from(p: PeoplePage) -> Self {
        Self {
            items: p.items.into_iter().map(MemberBody::from).collect(),
            total: p.total,
            page: p.page,
            per_page: p.per_page,
        }
    }
}

/// Search and paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MembersQuery {
    /// Case-insensitive part of a name or e-mail address.
    pub q: Option<String>,
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Page size, 1–100 (default 50).
    pub per_page: Option<u32>,
}

const ADMIN_ONLY: &str = "Not an org admin here (or MFA not set up, or a read-only token)";
const NOT_YOURS: &str = "No such organisation or person (or not yours)";

/// The organisation's people, searched by name or e-mail, a page at a time (org admins).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/members", tag = "people",
    params(("org" = String, Path, description = "Organisation id"), MembersQuery),
    responses(
        (status = 200, description = "A page of people", body = MembersBody),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = ADMIN_ONLY, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_YOURS, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "page or per_page out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_members(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Query(query): Query<MembersQuery>,
) -> Result<Json<MembersBody>, ApiError> {
    let org = org_id(&org)?;
    let page = state
        .app
        .people(
            &caller.principal,
            org,
            PeopleQuery {
                q: query.q.as_deref(),
                page: query.page,
                per_page: query.per_page,
            },
        )
        .await?;
    Ok(Json(page.into()))
}

/// One person (org admins).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/members/{account}", tag = "people",
    params(("org" = String, Path, description = "Organisation id"), ("account" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "The person", body = MemberBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = ADMIN_ONLY, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_YOURS, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show_member(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, account)): Path<(String, String)>,
) -> Result<Json<MemberBody>, ApiError> {
    let (org, account) = (org_id(&org)?, account_id(&account)?);
    let person = state.app.person(&caller.principal, org, account).await?;
    Ok(Json(person.into()))
}

/// Removes a person from the organisation; their access ends at once (org admins, step-up).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/members/{account}", tag = "people",
    params(("org" = String, Path, description = "Organisation id"), ("account" = String, Path, description = "Account id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an org admin, or sign in again first (step_up_required)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_YOURS, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last active org admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete_member(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, account)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (org, account) = (org_id(&org)?, account_id(&account)?);
    state
        .app
        .delete_person(&caller.principal, &caller.actor(), org, account)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disables a person: sessions end and API tokens are revoked at once (org admins).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/members/{account}/disable", tag = "people",
    params(("org" = String, Path, description = "Organisation id"), ("account" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Disabled", body = MemberBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = ADMIN_ONLY, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_YOURS, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already disabled, not yet accepted, or the last active org admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn disable_member(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, account)): Path<(String, String)>,
) -> Result<Json<MemberBody>, ApiError> {
    let (org, account) = (org_id(&org)?, account_id(&account)?);
    let person = state
        .app
        .disable_person(&caller.principal, &caller.actor(), org, account)
        .await?;
    Ok(Json(person.into()))
}

/// Re-enables a disabled person; they take a seat again (org admins).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/members/{account}/enable", tag = "people",
    params(("org" = String, Path, description = "Organisation id"), ("account" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Enabled", body = MemberBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = ADMIN_ONLY, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_YOURS, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not disabled; or the organisation is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Every seat is in use", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn enable_member(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, account)): Path<(String, String)>,
) -> Result<Json<MemberBody>, ApiError> {
    let (org, account) = (org_id(&org)?, account_id(&account)?);
    let person = state
        .app
        .enable_person(&caller.principal, &caller.actor(), org, account)
        .await?;
    Ok(Json(person.into()))
}

/// A new role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleBody {
    /// `guest`, `member`, `device_owner`, `space_manager` or `org_admin`. A space manager's
    /// spaces and a device owner's devices are set through `…/members/{account}/scopes`.
    pub role: String,
    /// When a guest's membership ends, RFC 3339 UTC: required for `guest`, refused otherwise.
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// Changes a person's role; losing the admin role ends their sessions (org admins, step-up).
#[utoipa::path(put, path = "/api/v1/orgs/{org}/members/{account}/role", tag = "people",
    params(("org" = String, Path, description = "Organisation id"), ("account" = String, Path, description = "Account id")),
    request_body = RoleBody,
    responses(
        (status = 200, description = "Changed", body = MemberBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an org admin, or sign in again first (step_up_required)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_YOURS, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last active org admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown role; a guest without expires_at (or in the past); expires_at for another role", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn change_member_role(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, account)): Path<(String, String)>,
    Json(body): Json<RoleBody>,
) -> Result<Json<MemberBody>, ApiError> {
    let (org, account) = (org_id(&org)?, account_id(&account)?);
    let expires_at_ms = body
        .expires_at
        .as_deref()
        .map(|t| latchkey_domain::time::parse_rfc3339("expires_at", t))
        .transpose()?;
    let person = state
        .app
        .change_role_until(
            &caller.principal,
            &caller.actor(),
            org,
            account,
            &body.role,
            expires_at_ms,
        )
        .await?;
    Ok(Json(person.into()))
}

/// How many sessions ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsEndedBody {
    /// Sessions ended.
    pub sessions_ended: u64,
}

/// Ends every session of a person (org admins).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/members/{account}/sessions/revocation", tag = "people",
    params(("org" = String, Path, description = "Organisation id"), ("account" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Sessions ended", body = SessionsEndedBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = ADMIN_ONLY, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_YOURS, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn end_member_sessions(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, account)): Path<(String, String)>,
) -> Result<Json<SessionsEndedBody>, ApiError> {
    let (org, account) = (org_id(&org)?, account_id(&account)?);
    let sessions_ended = state
        .app
        .end_person_sessions(&caller.principal, &caller.actor(), org, account)
        .await?;
    Ok(Json(SessionsEndedBody { sessions_ended }))
}

/// Unlocks a person whose sign-in is locked after wrong passwords or codes (org admins, step-up).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/members/{account}/unlock", tag = "people",
    params(("org" = String, Path, description = "Organisation id"), ("account" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "Unlocked", body = MemberBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an org admin, or sign in again first (step_up_required)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_YOURS, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn unlock_member(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, account)): Path<(String, String)>,
) -> Result<Json<MemberBody>, ApiError> {
    let (org, account) = (org_id(&org)?, account_id(&account)?);
    let person = state
        .app
        .unlock_person(&caller.principal, &caller.actor(), org, account)
        .await?;
    Ok(Json(person.into()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_in_the_openapi_document() {
        let doc = crate::web::api::openapi();
        let paths = &doc.paths.paths;
        for path in [
            "/api/v1/orgs",
            "/api/v1/orgs/{org}",
            "/api/v1/orgs/{org}/suspend",
            "/api/v1/orgs/{org}/resume",
            "/api/v1/orgs/{org}/invitations",
            "/api/v1/orgs/{org}/invitations/{account}/resend",
            "/api/v1/invitations/{token}",
            "/api/v1/invitations/{token}/accept",
            "/api/v1/orgs/{org}/members",
            "/api/v1/orgs/{org}/members/{account}",
            "/api/v1/orgs/{org}/members/{account}/disable",
            "/api/v1/orgs/{org}/members/{account}/enable",
            "/api/v1/orgs/{org}/members/{account}/role",
            "/api/v1/orgs/{org}/members/{account}/sessions/revocation",
            "/api/v1/orgs/{org}/members/{account}/unlock",
        ] {
            assert!(
                paths.contains_key(path),
                "{path} missing from the OpenAPI document"
            );
        }
        let orgs = paths
            .get("/api/v1/orgs/{org}")
            .map(|p| (p.get.is_some(), p.patch.is_some()));
        assert_eq!(orgs, Some((true, true)));
        let member = paths
            .get("/api/v1/orgs/{org}/members/{account}")
            .map(|p| (p.get.is_some(), p.delete.is_some()));
        assert_eq!(member, Some((true, true)));
    }
}
