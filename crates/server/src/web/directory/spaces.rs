//! `/api/v1/orgs/{org}/spaces`: the space tree. A `PATCH` with a new `parent_id` moves a space.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use latchkey_domain::SpaceId;
use latchkey_domain::directory::Space;
use latchkey_domain::time::rfc3339_utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    FORBIDDEN, NOT_FOUND, Tagged, UNAUTHENTICATED, double_option, if_match, org_id, path_id, tagged,
};
use crate::directory::spaces::{NewSpace, SpaceFilter, SpacePatch};
use crate::directory::{ListQuery, Page};
use crate::web::WebState;
use crate::web::problem::{ApiError, Problem};
use crate::web::session::ApiCaller;

pub(super) fn routes() -> Router<WebState> {
    Router::new()
        .route(
            "/api/v1/orgs/{org}/spaces",
            get(list_spaces).post(create_space),
        )
        .route(
            "/api/v1/orgs/{org}/spaces/{space}",
            get(show_space).patch(change_space).delete(delete_space),
        )
}

fn space_id(raw: &str) -> Result<SpaceId, latchkey_domain::DomainError> {
    path_id(raw, "space")
}

/// A space.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpaceBody {
    /// Id.
    pub id: String,
    /// Its site.
    pub site_id: String,
    /// The space it is in; `null` at the top of the site.
    pub parent_id: Option<String>,
    /// Name.
    pub name: String,
    /// Kind label (building, floor, office, room, unit…).
    pub kind: String,
    /// Labels.
    pub labels: Vec<String>,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Version.
    pub version: i64,
}

impl From<Space> for SpaceBody {
    fn from(s: Space) -> Self {
        Self {
            id: s.id.to_string(),
            site_id: s.site_id.to_string(),
            parent_id: s.parent_id.map(|p| p.to_string()),
            name: s.name,
            kind: s.kind,
            labels: s.labels,
            created_at: rfc3339_utc(s.created_at_ms),
            version: s.version,
        }
    }
}

/// A page of spaces.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpacesBody {
    /// This page, by id.
    pub items: Vec<SpaceBody>,
    /// Pass as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
}

impl From<Page<Space>> for SpacesBody {
    fn from(p: Page<Space>) -> Self {
        Self {
            items: p.items.into_iter().map(SpaceBody::from).collect(),
            next_cursor: p.next_cursor,
        }
    }
}

/// Filters and paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SpaceParams {
    /// Only spaces of this site.
    pub site_id: Option<String>,
    /// Only the children of this space.
    pub parent_id: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only spaces with this label.
    pub label: Option<String>,
}

/// A new space.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSpaceBody {
    /// The site.
    pub site_id: String,
    /// The space it goes in (same site); absent or `null` for the top of the site.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Name (1–200 characters).
    pub name: String,
    /// Kind label (1–64 characters), e.g. `floor`.
    pub kind: String,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// A change (JSON merge patch); a new `parent_id` moves the space.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeSpaceBody {
    /// The version you read.
    #[serde(default)]
    pub version: Option<i64>,
    /// New parent in the same site; `null` moves it to the top. Never itself or below itself.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Option<String>>,
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New kind.
    #[serde(default)]
    pub kind: Option<String>,
    /// New labels.
    #[serde(default)]
    pub labels: Option<Vec<String>>,
}

/// The spaces you reach (org admins: all; space managers: their subtrees).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/spaces", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), SpaceParams),
    responses(
        (status = 200, description = "A page of spaces", body = SpacesBody),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A filter out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_spaces(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Query(params): Query<SpaceParams>,
) -> Result<Json<SpacesBody>, ApiError> {
    let org = org_id(&org)?;
    let page = state
        .app
        .spaces_page(
            &caller.principal,
            org,
            &SpaceFilter {
                site_id: params.site_id,
                parent_id: params.parent_id,
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

/// Adds a space to a site's tree (org admins).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/spaces", tag = "directory",
    params(("org" = String, Path, description = "Organisation id")),
    request_body = CreateSpaceBody,
    responses(
        (status = 201, description = "Created", body = SpaceBody),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (unknown site, parent in another site…)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_space(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Json(body): Json<CreateSpaceBody>,
) -> Result<(StatusCode, Json<SpaceBody>), ApiError> {
    let org = org_id(&org)?;
    let space = state
        .app
        .add_space(
            &caller.principal,
            &caller.actor(),
            org,
            NewSpace {
                site_id: body.site_id,
                parent_id: body.parent_id,
                name: body.name,
                kind: body.kind,
                labels: body.labels,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(space.into())))
}

/// One space.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/spaces/{space}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("space" = String, Path, description = "Space id")),
    responses(
        (status = 200, description = "The space", body = SpaceBody),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show_space(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, space)): Path<(String, String)>,
) -> Result<Tagged<SpaceBody>, ApiError> {
    let (org, space) = (org_id(&org)?, space_id(&space)?);
    let object = state.app.space_of(&caller.principal, org, space).await?;
    Ok(tagged(object.version, object.into()))
}

/// Renames, re-kinds, re-labels or moves a space (org admins; JSON merge patch).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/spaces/{space}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("space" = String, Path, description = "Space id"),
        ("If-Match" = Option<String>, Header, description = "The version you read")),
    request_body = ChangeSpaceBody,
    responses(
        (status = 200, description = "Changed", body = SpaceBody),
        (status = 400, description = "Malformed JSON or If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule: a move under itself or a descendant (cycle), or into another site", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn change_space(
    State(state): State<WebState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path((org, space)): Path<(String, String)>,
    Json(body): Json<ChangeSpaceBody>,
) -> Result<Tagged<SpaceBody>, ApiError> {
    let (org, space) = (org_id(&org)?, space_id(&space)?);
    let expected = if_match(&headers)?;
    let changed = state
        .app
        .change_space(
            &caller.principal,
            &caller.actor(),
            org,
            space,
            expected,
            SpacePatch {
                version: body.version,
                parent_id: body.parent_id,
                name: body.name,
                kind: body.kind,
                labels: body.labels,
            },
        )
        .await?;
    Ok(tagged(changed.version, changed.into()))
}

/// Deletes an empty space (org admins).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/spaces/{space}", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), ("space" = String, Path, description = "Space id"),
        ("If-Match" = Option<String>, Header, description = "The version you read")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The space still holds child spaces or devices (named in the detail)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since you read it", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn delete_space(
    State(state): State<WebState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path((org, space)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (org, space) = (org_id(&org)?, space_id(&space)?);
    let expected = if_match(&headers)?;
    state
        .app
        .delete_space(&caller.principal, &caller.actor(), org, space, expected)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
