//! `/api/v1/orgs/{org}/devices`: the device registry (locks and hubs).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use latchkey_domain::DeviceId;
use latchkey_domain::directory::Device;
use latchkey_domain::time::rfc3339_utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    FORBIDDEN, NOT_FOUND, Tagged, UNAUTHENTICATED, double_option, if_match, org_id, path_id, tagged,
};
use crate::directory::devices::{DeviceFilter, DevicePatch, NewDevice};
use crate::directory::{ListQuery, Page};
use crate::web::WebState;
use crate::web::problem::{ApiError, Problem};
use crate::web::session::ApiCaller;

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route(
            "/api/v1/orgs/{org}/devices",
            get(list_devices).post(create_device),
        )
        .route(
            "/api/v1/orgs/{org}/devices/{device}",
            get(show_device).patch(change_device).delete(delete_device),
        )
}

fn device_id(raw: &str) -> Result<DeviceId, latchkey_domain::DomainError> {
    path_id(raw, "device")
}

/// A device.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceBody {
    /// Id.
    pub id: String,
    /// `lock` or `hub`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Model.
    pub model: Option<String>,
    /// The space it is placed in (always set for locks).
    pub space_id: Option<String>,
    /// `enabled` or `disabled`.
    pub status: String,
    /// Labels.
    pub labels: Vec<String>,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Version.
    pub version: i64,
}

impl From<Device> for DeviceBody {
    fn from(d: Device) -> Self {
        Self {
            id: d.id.to_string(),
            kind: d.kind.as_str().into(),
            name: d.name,
            model: d.model,
            space_id: d.space_id.map(|s| s.to_string()),
            status: d.status.as_str().into(),
            labels: d.labels,
            created_at: rfc3339_utc(d.created_at_ms),
            version: d.version,
        }
    }
}

/// A page of devices.
#[derive(Debug, Serialize, ToSchema)]
pub struct DevicesBody {
    /// This page, by id.
    pub items: Vec<DeviceBody>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

impl From<Page<Device>> for DevicesBody {
    fn from(p: Page<Device>) -> Self {
        Self {
            items: p.items.into_iter().map(DeviceBody::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// Filters and paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeviceParams {
    /// Only devices placed directly in this space.
    pub space_id: Option<String>,
    /// Only `lock` or `hub`.
    pub kind: Option<String>,
    /// Only `enabled` or `disabled`.
    pub status: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only devices with this label.
    pub label: Option<String>,
}

/// A new device.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDeviceBody {
    /// `lock` or `hub`.
    pub kind: String,
    /// Name (1–200 characters).
    pub name: String,
    /// Model (up to 200 characters).
    #[serde(default)]
    pub model: Option<String>,
    /// The space it is placed in; required for locks (and for space managers).
    #[serde(default)]
    pub space_id: Option<String>,
    /// `enabled` (default) or `disabled`.
    #[serde(default)]
    pub status: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// A change (JSON merge patch).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeDeviceBody {
    /// The version you read.
    #[serde(default)]
    pub version: Option<i64>,
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New model; `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub model: Option<Option<String>>,
    /// New place (moves the device; not for device owners); `null` unplaces a hub.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub space_id: Option<Option<String>>,
    /// `enabled` or `disabled`.
    #[serde(default)]
    pub status: Option<String>,
    /// New labels.
    #[serde(default)]
    pub labels: Option<Vec<String>>,
}

/// The devices you reach (org admins: all; space managers: those in their subtrees; device
/// owners: theirs).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/devices", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), DeviceParams),
    responses(
        (status = 200, description = "A page of devices", body = DevicesBody),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A filter out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_devices(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Query(params): Query<DeviceParams>,
) -> Result<Json<DevicesBody>, ApiError> {
    let org = org_id(&org)?;
    let page = state
        .app
        .devices_page(
            &caller.principal,
            org,
            &DeviceFilter {
                space_id: params.space_id,
                kind: params.kind,
                status: params.status,
            },
            &ListQuery {
                limit: params.limit,
                cursor: params.cursor,
                label: params.label,
            },
        )
        .await?;
    Ok(Json(page.into()))
}

/// Registers a device (org admins; space managers within their subtrees).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/devices", tag = "directory",
    params(("org" = String, Path, description = "Organisation id")),
    request_body = CreateDeviceBody,
    responses(
        (status = 201, description = "Registered", body = DeviceBody),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (a lock without a space, a space you do not manage…)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_device(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Json(body): Json<CreateDeviceBody>,
) -> Result<(StatusCode, Json<DeviceBody>), ApiError> {
    let org = org_id(&org)?;
    let device = state
        .app
        .add_device(
            &caller.principal,
            &caller.actor(),
            org,
            NewDevice {
                kind: body.kind,
                name: body.name,
                model: body.model,
                space_id: body.space_id,
                status: body.status,
                labels: body.labels,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(device.into())))
}

/// One device.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/devices/{device}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("device" = String, Path, description = "Device id")),
    responses(
        (status = 200, description = "The device", body = DeviceBody),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show_device(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, device)): Path<(String, String)>,
) -> Result<Tagged<DeviceBody>, ApiError> {
    let (org, device) = (org_id(&org)?, device_id(&device)?);
    let object = state.app.device_of(&caller.principal, org, device).await?;
    Ok(tagged(object.version, object.into()))
}

/// Changes a device (JSON merge patch).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/devices/{device}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("device" = String, Path, description = "Device id"),
        ("If-Match" = Option<String>, Header, description = "The version you read")),
    request_body = ChangeDeviceBody,
    responses(
        (status = 200, description = "Changed", body = DeviceBody),
        (status = 400, description = "Malformed JSON or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn change_device(
    State(state): State<WebState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path((org, device)): Path<(String, String)>,
    Json(body): Json<ChangeDeviceBody>,
) -> Result<Tagged<DeviceBody>, ApiError> {
    let (org, device) = (org_id(&org)?, device_id(&device)?);
    let expected = if_match(&headers)?;
    let changed = state
        .app
        .change_device(
            &caller.principal,
            &caller.actor(),
            org,
            device,
            expected,
            DevicePatch {
                version: body.version,
                name: body.name,
                model: body.model,
                space_id: body.space_id,
                status: body.status,
                labels: body.labels,
            },
        )
        .await?;
    Ok(tagged(changed.version, changed.into()))
}

/// Removes a device from the registry (org admins; space managers within their subtrees).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/devices/{device}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("device" = String, Path, description = "Device id"),
        ("If-Match" = Option<String>, Header, description = "The version you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete_device(
    State(state): State<WebState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path((org, device)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (org, device) = (org_id(&org)?, device_id(&device)?);
    let expected = if_match(&headers)?;
    state
        .app
        .delete_device(&caller.principal, &caller.actor(), org, device, expected)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
