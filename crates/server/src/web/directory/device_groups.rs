//! `/api/v1/orgs/{org}/device-groups`: groups of devices and their members (org admins).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{delete, get};
use axum::{Json, Router};
use latchkey_domain::directory::DeviceGroup;
use latchkey_domain::time::rfc3339_utc;
use latchkey_domain::{DeviceGroupId, DeviceId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    FORBIDDEN, NOT_FOUND, PageParams, Tagged, UNAUTHENTICATED, double_option, if_match, org_id,
    path_id, tagged,
};
use crate::directory::Page;
use crate::directory::device_groups::{DeviceGroupPatch, NewDeviceGroup};
use crate::web::WebState;
use crate::web::problem::{ApiError, Problem};
use crate::web::session::ApiCaller;

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route(
            "/api/v1/orgs/{org}/device-groups",
            get(list_device_groups).post(create_device_group),
        )
        .route(
            "/api/v1/orgs/{org}/device-groups/{group}",
            get(show_device_group)
                .patch(change_device_group)
                .delete(delete_device_group),
        )
        .route(
            "/api/v1/orgs/{org}/device-groups/{group}/members",
            get(list_device_group_members).post(add_device_group_member),
        )
        .route(
            "/api/v1/orgs/{org}/device-groups/{group}/members/{device}",
            delete(remove_device_group_member),
        )
}

fn group_id(raw: &str) -> Result<DeviceGroupId, latchkey_domain::DomainError> {
    path_id(raw, "device group")
}

fn member_id(raw: &str) -> Result<DeviceId, latchkey_domain::DomainError> {
    path_id(raw, "device in this group")
}

/// A group.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceGroupBody {
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

impl From<DeviceGroup> for DeviceGroupBody {
    fn from(g: DeviceGroup) -> Self {
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
pub struct DeviceGroupsBody {
    /// This page, by id.
    pub items: Vec<DeviceGroupBody>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

impl From<Page<DeviceGroup>> for DeviceGroupsBody {
    fn from(p: Page<DeviceGroup>) -> Self {
        Self {
            items: p.items.into_iter().map(DeviceGroupBody::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// A new group.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDeviceGroupBody {
    /// Name (1–200 characters).
    pub name: String,
    /// What it is for (up to 1000 characters).
    #[serde(default)]
    pub description: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Initial members: ids of devices of the organisation.
    #[serde(default)]
    pub members: Vec<String>,
}

/// A change (JSON merge patch); members change through `…/members`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeDeviceGroupBody {
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

/// A device group’s members.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceGroupMembersBody {
    /// The group.
    pub group_id: String,
    /// The group's version.
    pub version: i64,
    /// Members (ids), sorted.
    pub members: Vec<String>,
}

impl From<DeviceGroup> for DeviceGroupMembersBody {
    fn from(g: DeviceGroup) -> Self {
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
pub struct AddDeviceGroupMemberBody {
    /// A device of the organisation.
    pub device_id: String,
}

/// The organisation’s device groups (org admins).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/device-groups", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), PageParams),
    responses(
        (status = 200, description = "A page of device groups", body = DeviceGroupsBody),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "limit, cursor or label out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_device_groups(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Json<DeviceGroupsBody>, ApiError> {
    let org = org_id(&org)?;
    let page = state
        .app
        .device_groups_page(&caller.principal, org, &params.query())
        .await?;
    Ok(Json(page.into()))
}

/// Adds a device group (org admins).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/device-groups", tag = "directory",
    params(("org" = String, Path, description = "Organisation id")),
    request_body = CreateDeviceGroupBody,
    responses(
        (status = 201, description = "Created", body = DeviceGroupBody),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (e.g. a device not in the organisation)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_device_group(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Json(body): Json<CreateDeviceGroupBody>,
) -> Result<(StatusCode, Json<DeviceGroupBody>), ApiError> {
    let org = org_id(&org)?;
    let group = state
        .app
        .add_device_group(
            &caller.principal,
            &caller.actor(),
            org,
            NewDeviceGroup {
                name: body.name,
                description: body.description,
                labels: body.labels,
                members: body.members,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(group.into())))
}

/// One device group (org admins).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/device-groups/{group}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("group" = String, Path, description = "DeviceGroup id")),
    responses(
        (status = 200, description = "The group", body = DeviceGroupBody),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show_device_group(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, group)): Path<(String, String)>,
) -> Result<Tagged<DeviceGroupBody>, ApiError> {
    let (org, group) = (org_id(&org)?, group_id(&group)?);
    let object = state
        .app
        .device_group_of(&caller.principal, org, group)
        .await?;
    Ok(tagged(object.version, object.into()))
}

/// Changes a device group (org admins; JSON merge patch).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/device-groups/{group}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("group" = String, Path, description = "DeviceGroup id"),
        ("If-Match" = Option<String>, Header, description = "The version you read")),
    request_body = ChangeDeviceGroupBody,
    responses(
        (status = 200, description = "Changed", body = DeviceGroupBody),
        (status = 400, description = "Malformed JSON or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn change_device_group(
    State(state): State<WebState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path((org, group)): Path<(String, String)>,
    Json(body): Json<ChangeDeviceGroupBody>,
) -> Result<Tagged<DeviceGroupBody>, ApiError> {
    let (org, group) = (org_id(&org)?, group_id(&group)?);
    let expected = if_match(&headers)?;
    let changed = state
        .app
        .change_device_group(
            &caller.principal,
            &caller.actor(),
            org,
            group,
            expected,
            DeviceGroupPatch {
                version: body.version,
                name: body.name,
                description: body.description,
                labels: body.labels,
            },
        )
        .await?;
    Ok(tagged(changed.version, changed.into()))
}

/// Deletes a device group (org admins).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/device-groups/{group}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("group" = String, Path, description = "DeviceGroup id"),
        ("If-Match" = Option<String>, Header, description = "The version you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete_device_group(
    State(state): State<WebState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path((org, group)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (org, group) = (org_id(&org)?, group_id(&group)?);
    let expected = if_match(&headers)?;
    state
        .app
        .delete_device_group(&caller.principal, &caller.actor(), org, group, expected)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A device group’s members (org admins).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/device-groups/{group}/members", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("group" = String, Path, description = "DeviceGroup id")),
    responses(
        (status = 200, description = "The members", body = DeviceGroupMembersBody),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_device_group_members(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, group)): Path<(String, String)>,
) -> Result<Json<DeviceGroupMembersBody>, ApiError> {
    let (org, group) = (org_id(&org)?, group_id(&group)?);
    Ok(Json(
        state
            .app
            .device_group_of(&caller.principal, org, group)
            .await?
            .into(),
    ))
}

/// Adds a device to a device group (org admins).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/device-groups/{group}/members", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("group" = String, Path, description = "DeviceGroup id")),
    request_body = AddDeviceGroupMemberBody,
    responses(
        (status = 201, description = "Added", body = DeviceGroupMembersBody),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already in the group", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a device of the organisation", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn add_device_group_member(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, group)): Path<(String, String)>,
    Json(body): Json<AddDeviceGroupMemberBody>,
) -> Result<(StatusCode, Json<DeviceGroupMembersBody>), ApiError> {
    let (org, group) = (org_id(&org)?, group_id(&group)?);
    let changed = state
        .app
        .add_device_group_member(
            &caller.principal,
            &caller.actor(),
            org,
            group,
            &body.device_id,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(changed.into())))
}

/// Takes a device out of a device group (org admins).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/device-groups/{group}/members/{device}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("group" = String, Path, description = "DeviceGroup id"),
        ("device" = String, Path, description = "Device id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such device group, or the device is not in it", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn remove_device_group_member(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, group, device)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let (org, group, device) = (org_id(&org)?, group_id(&group)?, member_id(&device)?);
    state
        .app
        .remove_device_group_member(&caller.principal, &caller.actor(), org, group, device)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
