//! `GET /api/v1/orgs/{org}/search?q=…&label=…`: directory objects by name and label.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{FORBIDDEN, NOT_FOUND, UNAUTHENTICATED, org_id};
use crate::directory::search::SearchHit;
use crate::web::WebState;
use crate::web::problem::{ApiError, Problem};
use crate::web::session::ApiCaller;

pub(super) fn routes() -> Router<WebState> {
    Router::new().route("/api/v1/orgs/{org}/search", get(search))
}

/// What to look for (at least one).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Case-insensitive part of a name (up to 200 characters).
    pub q: Option<String>,
    /// An exact label.
    pub label: Option<String>,
}

/// One object found.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHitBody {
    /// `site`, `space`, `person`, `group`, `device` or `device_group`.
    pub kind: String,
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its labels.
    pub labels: Vec<String>,
}

/// What was found (at most 200, by kind then name).
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchBody {
    /// The objects found.
    pub items: Vec<SearchHitBody>,
}

impl From<SearchHit> for SearchHitBody {
    fn from(h: SearchHit) -> Self {
        Self {
            kind: h.kind.into(),
            id: h.id,
            name: h.name,
            labels: h.labels,
        }
    }
}

/// Searches the directory objects you reach by name and/or label.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/search", tag = "directory",
    params(("org" = String, Path, description = "Organisation id"), SearchParams),
    responses(
        (status = 200, description = "What was found", body = SearchBody),
        (status = 400, description = "Malformed query", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = UNAUTHENTICATED, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = FORBIDDEN, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = NOT_FOUND, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Neither q nor label, or q too long", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn search(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchBody>, ApiError> {
    let org = org_id(&org)?;
    let hits = state
        .app
        .search_directory(
            &caller.principal,
            org,
            params.q.as_deref(),
            params.label.as_deref(),
        )
        .await?;
    Ok(Json(SearchBody {
        items: hits.into_iter().map(SearchHitBody::from).collect(),
    }))
}
