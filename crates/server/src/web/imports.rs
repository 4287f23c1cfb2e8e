//! Bulk import from CSV files (org admins): `POST …/people/imports` and `POST …/spaces/imports`
//! with the file as a `text/csv` body. All or nothing: a refused file answers 422 with every bad
//! line in `errors[]` (`line`, `field` = the column, `detail`), and nothing was written. Files
//! are limited by `http.body_limit_bytes` (1 MiB by default, about 15 000 people rows).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use latchkey_domain::import::ImportRejected;
use latchkey_domain::{DomainError, ErrorCode};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::directory::import::ImportOutcome;
use crate::web::WebState;
use crate::web::directory::org_id;
use crate::web::problem::{ApiError, FieldError, Problem};
use crate::web::session::ApiCaller;

/// This module's part of the OpenAPI document (merged in `api.rs`).
#[derive(OpenApi)]
#[openapi(
    paths(import_people, import_spaces),
    components(schemas(ImportedBody)),
    tags((name = "import", description = "Bulk import of people and spaces from CSV (all or nothing)"))
)]
pub struct Doc;

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/api/v1/orgs/{org}/people/imports", post(import_people))
        .route("/api/v1/orgs/{org}/spaces/imports", post(import_spaces))
}

/// What an accepted import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportedBody {
    /// Rows imported.
    pub rows: usize,
    /// Accounts invited (people imports), in file order.
    pub invited: Vec<String>,
    /// Spaces created (space imports), parents first, including levels a path passed through.
    pub spaces_created: Vec<String>,
}

/// The body must be declared as CSV, so that a form or JSON posted here by mistake is refused
/// rather than read as a file.
fn csv_body(headers: &HeaderMap) -> Result<(), DomainError> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if declared.to_ascii_lowercase().starts_with("text/csv") {
        Ok(())
    } else {
        Err(DomainError::new(
            ErrorCode::MalformedRequest,
            "send the file as the request body with Content-Type: text/csv (UTF-8)",
        ))
    }
}

fn rejected(r: ImportRejected) -> ApiError {
    let mut problem = Problem::new(ErrorCode::InvalidField, r.to_string());
    problem.errors = r
        .errors
        .into_iter()
        .map(|e| FieldError {
            field: e.column.unwrap_or_else(|| "file".into()),
            detail: e.message,
            line: Some(e.line),
        })
        .collect();
    ApiError(problem)
}

fn answer(outcome: ImportOutcome) -> Response {
    match outcome {
        Ok(report) => (
            StatusCode::CREATED,
            Json(ImportedBody {
                rows: report.rows,
                invited: report.invited.iter().map(ToString::to_string).collect(),
                spaces_created: report
                    .spaces_created
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            }),
        )
            .into_response(),
        Err(refused) => rejected(refused).into_response(),
    }
}

/// Invites everyone in a people file: header `email,display_name[,role,employee_number,labels,groups]`
/// (`labels` and `groups` separated by `;`, role `member` or `org_admin`). Seats are enforced for
/// the whole file.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/people/imports", tag = "import",
    params(("org" = String, Path, description = "Organisation id")),
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    responses(
        (status = 201, description = "Everyone was invited", body = ImportedBody),
        (status = 400, description = "Not sent as text/csv", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an org admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than http.body_limit_bytes", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nothing imported; every bad line is in errors[]", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn import_people(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    headers: HeaderMap,
    file: Bytes,
) -> Result<Response, ApiError> {
    let org = org_id(&org)?;
    csv_body(&headers)?;
    let outcome = state
        .app
        .import_people(&caller.principal, &caller.actor(), org, &file)
        .await?;
    Ok(answer(outcome))
}

/// Creates the spaces of a spaces file: header `site,path[,kind,labels]`, `path` with `/`
/// between levels (`Main building/3F/Room 301`); levels a path passes through are created when
/// missing. Existing spaces are refused, not changed.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/spaces/imports", tag = "import",
    params(("org" = String, Path, description = "Organisation id")),
    request_body(content = String, content_type = "text/csv", description = "The CSV file"),
    responses(
        (status = 201, description = "The spaces were created", body = ImportedBody),
        (status = 400, description = "Not sent as text/csv", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an org admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than http.body_limit_bytes", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Nothing imported; every bad line is in errors[]", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn import_spaces(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    headers: HeaderMap,
    file: Bytes,
) -> Result<Response, ApiError> {
    let org = org_id(&org)?;
    csv_body(&headers)?;
    let outcome = state
        .app
        .import_spaces(&caller.principal, &caller.actor(), org, &file)
        .await?;
    Ok(answer(outcome))
}
