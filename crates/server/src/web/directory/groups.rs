//! `/api/v1/orgs/{org}/groups`: groups of people and their members (org admins).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get};
use axum::{Json, Router};
use latchkey_domain::directory::Group;
use latchkey_domain::time::rfc3339_utc;
use latchkey_domain::{AccountId, GroupId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    FORBIDDEN, NOT_FOUND, PageParams, Tagged, UNAUTHENTICATED, double_option, if_match, org_id,
    path_id, tagged,
};
use crate::directory::Page;
use crate::directory::groups::{GroupPatch, NewGroup};
use crate::web::WebState;
use crate::web::problem::{ApiError, Problem};
use crate::web::session::ApiCaller;

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route(
            "/api/v1/orgs/{org}/groups",
            get(list_groups).post(create_group),
        )
        .route(
            "/api/v1/orgs/{org}/groups/{group}",
            get(show_group).patch(change_group).delete(delete_group),
        )
        .route(
            "/api/v1/orgs/{org}/groups/{group}/members",
            get(list_group_members).post(add_group_member),
        )
        .route(
            "/api/v1/orgs/{org}/groups/{group}/members/{account}",
            delete(remove_group_member),
        )
}

fn group_id(raw: &str) -> Result<GroupId, latchkey_domain::DomainError> {
    path_id(raw, "group")
}

fn member_id(raw: &str) -> Result<AccountId, latchkey_domain::DomainError> {
    path_id(raw, "member of this group")
}

/// A group.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupBody {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Members (ids).
    pub members: Vec<String>,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Version (member changes bump it too).
    pub version: i64,
}

impl From<Group> for GroupBody {
    fn from(g: Group) -> Self {
        Self {
            id: g.id.to_string(),
            name: g.name,
            description: g.description,
            labels: g.labels,
            members: g.members.iter().map(ToString::to_string).collect(),
            created_at: rfc3339_utc(g.created_at_ms),
            version: g.version,
        }
    }
}

/// A page of groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupsBody {
    /// This page, by id.
    pub items: Vec<GroupBody>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

impl From<Page<Group>> for GroupsBody {
    fn from(p: Page<Group>) -> Self {
        Self {
            items: p.items.into_iter().map(GroupBody::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// A new group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupBody {
    /// Name (1–200 characters).
    pub name: String,
    /// What it is for (up to 1000 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Initial members: ids of members of the organisation.
    #[serde(default)]
    pub members: Vec<String>,
}

/// A change (JSON merge patch); members change through `…/members`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeGroupBody {
    /// The version you read.
    #[serde(default)]
    pub version: Option<i64>,
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    /// New labels.
    #[serde(default)]
    pub labels: Option<Vec<String>>,
}

/// A group's members.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupMembersBody {
    /// The group.
    pub group_id: String,
    /// The group's version.
    pub version: i64,
    /// Members (ids), sorted.
    pub members: Vec<String>,
}

impl From<Group> for GroupMembersBody {
    fn from(g: Group) -> Self {
        Self {
            group_id: g.id.to_string(),
            version: g.version,
            members: g.members.iter().map(ToString::to_string).collect(),
        }
    }
}

/// A member to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddGroupMemberBody {
    /// A member of the organisation.
    pub account_id: String,
}

/// The organisation's groups (org admins).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/groups", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), PageParams),
    responses(
        (status = 200, description = "A page of groups", body = GroupsBody),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "limit, cursor or label out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_groups(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Json<GroupsBody>, ApiError> {
    let org = org_id(&org)?;
    let page = state
        .app
        .groups_page(&caller.principal, org, &params.query())
        .await?;
    Ok(Json(page.into()))
}

/// Adds a group (org admins).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/groups", tag = "directory",
    params(("org" = String, Path, description = "Organisation id")),
    request_body = CreateGroupBody,
    responses(
        (status = 201, description = "Created", body = GroupBody),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (e.g. a member who is not in the organisation)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_group(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Json(body): Json<CreateGroupBody>,
) -> Result<(StatusCode, Json<GroupBody>), ApiError> {
    let org = org_id(&org)?;
    let group = state
        .app
        .add_group(
            &caller.principal,
            &caller.actor(),
            org,
            NewGroup {
                name: body.name,
                description: body.description,
                labels: body.labels,
                members: body.members,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(group.into())))
}

/// One group (org admins).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/groups/{group}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("group" = String, Path, description = "Group id")),
    responses(
        (status = 200, description = "The group", body = GroupBody),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show_group(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, group)): Path<(String, String)>,
) -> Result<Tagged<GroupBody>, ApiError> {
    let (org, group) = (org_id(&org)?, group_id(&group)?);
    let object = state.app.group_of(&caller.principal, org, group).await?;
    Ok(tagged(object.version, object.into()))
}

/// Changes a group (org admins; JSON merge patch).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/groups/{group}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("group" = String, Path, description = "Group id"),
        ("If-Match" = Option<String>, Header, description = "The version you read")),
    request_body = ChangeGroupBody,
    responses(
        (status = 200, description = "Changed", body = GroupBody),
        (status = 400, description = "Malformed JSON or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn change_group(
    State(state): State<WebState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path((org, group)): Path<(String, String)>,
    Json(body): Json<ChangeGroupBody>,
) -> Result<Tagged<GroupBody>, ApiError> {
    let (org, group) = (org_id(&org)?, group_id(&group)?);
    let expected = if_match(&headers)?;
    let changed = state
        .app
        .change_group(
            &caller.principal,
            &caller.actor(),
            org,
            group,
            expected,
            GroupPatch {
                version: body.version,
                name: body.name,
                description: body.description,
                labels: body.labels,
            },
        )
        .await?;
    Ok(tagged(changed.version, changed.into()))
}

/// Deletes a group (org admins).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/groups/{group}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("group" = String, Path, description = "Group id"),
        ("If-Match" = Option<String>, Header, description = "The version you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete_group(
    State(state): State<WebState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path((org, group)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (org, group) = (org_id(&org)?, group_id(&group)?);
    let expected = if_match(&headers)?;
    state
        .app
        .delete_group(&caller.principal, &caller.actor(), org, group, expected)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A group's members (org admins).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/groups/{group}/members", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("group" = String, Path, description = "Group id")),
    responses(
        (status = 200, description = "The members", body = GroupMembersBody),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_group_members(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, group)): Path<(String, String)>,
) -> Result<Json<GroupMembersBody>, ApiError> {
    let (org, group) = (org_id(&org)?, group_id(&group)?);
    Ok(Json(
        state
            .app
            .group_of(&caller.principal, org, group)
            .await?
            .into(),
    ))
}

/// Adds a member of the organisation to a group (org admins).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/groups/{group}/members", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("group" = String, Path, description = "Group id")),
    request_body = AddGroupMemberBody,
    responses(
        (status = 201, description = "Added", body = GroupMembersBody),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already in the group", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a member of the organisation", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn add_group_member(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, group)): Path<(String, String)>,
    Json(body): Json<AddGroupMemberBody>,
) -> Result<(StatusCode, Json<GroupMembersBody>), ApiError> {
    let (org, group) = (org_id(&org)?, group_id(&group)?);
    let changed = state
        .app
        .add_group_member(
            &caller.principal,
            &caller.actor(),
            org,
            group,
            &body.account_id,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(changed.into())))
}

/// Takes a person out of a group (org admins).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/groups/{group}/members/{account}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("group" = String, Path, description = "Group id"),
        ("account" = String, Path, description = "Account id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group, or the person is not in it", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn remove_group_member(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, group, account)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let (org, group, account) = (org_id(&org)?, group_id(&group)?, member_id(&account)?);
    state
        .app
        .remove_group_member(&caller.principal, &caller.actor(), org, group, account)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
