//! `/api/v1/orgs/{org}/members/{account}/profile` and `…/scopes`: a person's directory profile
//! and the scope of their role (org admins). Roles themselves change through
//! `PUT …/members/{account}/role` (with `expires_at` for guests).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use latchkey_domain::AccountId;
use latchkey_domain::time::rfc3339_utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    FORBIDDEN, NOT_FOUND, Tagged, UNAUTHENTICATED, double_option, if_match, org_id, path_id, tagged,
};
use crate::directory::people::{PersonEntry, ProfilePatch, RoleScopes};
use crate::web::WebState;
use crate::web::problem::{ApiError, Problem};
use crate::web::session::ApiCaller;

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route(
            "/api/v1/orgs/{org}/members/{account}/profile",
            get(show_profile).patch(change_profile),
        )
        .route(
            "/api/v1/orgs/{org}/members/{account}/scopes",
            get(show_scopes).put(replace_scopes),
        )
}

fn account_id(raw: &str) -> Result<AccountId, latchkey_domain::DomainError> {
    path_id(raw, "person in this organisation")
}

/// A person's directory profile in the organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileBody {
    /// Account id.
    pub account_id: String,
    /// `guest`, `member`, `device_owner`, `space_manager` or `org_admin`.
    pub role: String,
    /// `invited`, `active` or `disabled`.
    pub status: String,
    /// When a guest's membership ends, RFC 3339 UTC.
    pub expires_at: Option<String>,
    /// Display name override in this organisation.
    pub display_name: Option<String>,
    /// Employee number (unique in the organisation).
    pub employee_number: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// The membership's version.
    pub version: i64,
}

impl From<PersonEntry> for ProfileBody {
    fn from(e: PersonEntry) -> Self {
        Self {
            account_id: e.membership.account_id.to_string(),
            role: e.membership.role.as_str().into(),
            status: e.membership.status.as_str().into(),
            expires_at: e.membership.expires_at_ms.map(rfc3339_utc),
            display_name: e.profile.display_name,
            employee_number: e.profile.employee_number,
            labels: e.profile.labels,
            version: e.membership.version,
        }
    }
}

/// A profile change (JSON merge patch).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeProfileBody {
    /// The membership version you read.
    #[serde(default)]
    pub version: Option<i64>,
    /// Display name override; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub display_name: Option<Option<String>>,
    /// Employee number (up to 64 characters); `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub employee_number: Option<Option<String>>,
    /// New labels.
    #[serde(default)]
    pub labels: Option<Vec<String>>,
}

/// The scope of a person's role.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScopesBody {
    /// Account id.
    pub account_id: String,
    /// Their role.
    pub role: String,
    /// Roots of the space subtrees they manage (space managers).
    pub spaces: Vec<String>,
    /// Devices they own (device owners).
    pub devices: Vec<String>,
}

fn scopes_body(account: AccountId, s: RoleScopes) -> ScopesBody {
    ScopesBody {
        account_id: account.to_string(),
        role: s.role.as_str().into(),
        spaces: s.spaces.iter().map(ToString::to_string).collect(),
        devices: s.devices.iter().map(ToString::to_string).collect(),
    }
}

/// The new scope; a list left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceScopesBody {
    /// Roots of the space subtrees a space manager manages.
    #[serde(default)]
    pub spaces: Option<Vec<String>>,
    /// Devices a device owner owns.
    #[serde(default)]
    pub devices: Option<Vec<String>>,
}

/// A person's directory profile (org admins).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/members/{account}/profile", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("account" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "The profile", body = ProfileBody),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show_profile(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, account)): Path<(String, String)>,
) -> Result<Tagged<ProfileBody>, ApiError> {
    let (org, account) = (org_id(&org)?, account_id(&account)?);
    let object = state
        .app
        .person_profile(&caller.principal, org, account)
        .await?;
    Ok(tagged(object.membership.version, object.into()))
}

/// Changes a person's directory profile (org admins; JSON merge patch).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/members/{account}/profile", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("account" = String, Path, description = "Account id"),
        ("If-Match" = Option<String>, Header, description = "The membership version you read")),
    request_body = ChangeProfileBody,
    responses(
        (status = 200, description = "Changed", body = ProfileBody),
        (status = 400, description = "Malformed JSON or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another person already has this employee number", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn change_profile(
    State(state): State<WebState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path((org, account)): Path<(String, String)>,
    Json(body): Json<ChangeProfileBody>,
) -> Result<Tagged<ProfileBody>, ApiError> {
    let (org, account) = (org_id(&org)?, account_id(&account)?);
    let expected = if_match(&headers)?;
    let entry = state
        .app
        .change_person_profile(
            &caller.principal,
            &caller.actor(),
            org,
            account,
            expected,
            ProfilePatch {
                version: body.version,
                display_name: body.display_name,
                employee_number: body.employee_number,
                labels: body.labels,
            },
        )
        .await?;
    Ok(tagged(entry.membership.version, entry.into()))
}

/// The scope of a person's role (org admins).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/members/{account}/scopes", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("account" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "The scope", body = ScopesBody),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show_scopes(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, account)): Path<(String, String)>,
) -> Result<Json<ScopesBody>, ApiError> {
    let (org, account) = (org_id(&org)?, account_id(&account)?);
    let scopes = state
        .app
        .person_scopes(&caller.principal, org, account)
        .await?;
    Ok(Json(scopes_body(account, scopes)))
}

/// Replaces the scope of a person's role (org admins, step-up): the spaces a space manager
/// manages, the devices a device owner owns. Takes effect on their next request.
#[utoipa::path(put, path = "/api/v1/orgs/{org}/members/{account}/scopes", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("account" = String, Path, description = "Account id")),
    request_body = ReplaceScopesBody,
    responses(
        (status = 200, description = "Replaced", body = ScopesBody),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an org admin, or sign in again first (step_up_required)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Spaces for someone who is not a space manager, devices for someone who is not a device owner, or unknown ids", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn replace_scopes(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, account)): Path<(String, String)>,
    Json(body): Json<ReplaceScopesBody>,
) -> Result<Json<ScopesBody>, ApiError> {
    let (org, account) = (org_id(&org)?, account_id(&account)?);
    let scopes = state
        .app
        .set_person_scopes(
            &caller.principal,
            &caller.actor(),
            org,
            account,
            body.spaces,
            body.devices,
        )
        .await?;
    Ok(Json(scopes_body(account, scopes)))
}
