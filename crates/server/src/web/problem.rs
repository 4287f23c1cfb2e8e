//! RFC 9457 `application/problem+json` errors. Every error response of the API has this shape;
//! the normaliser below also rewrites errors produced by layers and extractors (body limit,
//! timeout, method not allowed, JSON rejections) so clients see one format.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_domain::{DomainError, ErrorCode};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::ServiceError;

/// The current request's id, if called while handling a request.
pub(crate) fn current_request_id() -> Option<String> {
    crate::web::request_id::current()
}

/// Content type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A field at fault.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldError {
    /// Field name (snake_case, as in the request).
    pub field: String,
    /// What is wrong and what is allowed.
    pub detail: String,
    /// For a file upload (CSV import): the line of the file at fault, 1-based.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A stable URI per error code.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary of the code.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened and what to do next.
    pub detail: String,
    /// Stable snake_case error code (same vocabulary as the CLI).
    pub code: String,
    /// The request id, to find the matching log lines.
    pub request_id: String,
    /// Fields at fault, if any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    /// A problem for `code` with a detail message.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            type_uri: format!("https://latchkey.dev/problems/{}", code.as_str()),
            title: code.title().into(),
            status: code.http_status(),
            detail: detail.into(),
            code: code.as_str().into(),
            request_id: crate::web::request_id::current().unwrap_or_default(),
            errors: Vec::new(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

/// An error returned by an API handler.
#[derive(Debug)]
pub struct ApiError(pub Problem);

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let mut problem = Problem::new(e.code, e.message.clone());
        if let Some(field) = e.field {
            problem.errors.push(FieldError {
                field: field.into(),
                detail: e.message,
                line: None,
            });
        }
        ApiError(problem)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Domain(d) => d.into(),
            ServiceError::Store(store) => {
                let code = ServiceError::Store(store).code();
                // The cause goes to the log with the request id; the client gets only the code.
                tracing::error!(code = %code, "request failed in the store");
                ApiError(Problem::new(
                    code,
                    "the server could not complete the request; quote the request id to the operator",
                ))
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

fn code_for_status(status: StatusCode) -> ErrorCode {
    match status.as_u16() {
        401 => ErrorCode::Unauthenticated,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        408 => ErrorCode::Timeout,
        409 => ErrorCode::Conflict,
        412 => ErrorCode::StaleVersion,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        422 => ErrorCode::InvalidField,
        429 => ErrorCode::RateLimited,
        503 => ErrorCode::Unavailable,
        500..=599 => ErrorCode::Internal,
        _ => ErrorCode::MalformedRequest,
    }
}

/// Longest original error text carried over into `detail`.
const MAX_DETAIL_BYTES: usize = 512;

/// Rewrites any error response that is neither problem+json nor an HTML page into problem+json
/// with the same status, keeping a short original message as the detail.
pub(crate) async fn normalise(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with(PROBLEM_JSON) || content_type.starts_with("text/html") {
        return response;
    }
    let (parts, body) = response.into_parts();
    let original = axum::body::to_bytes(body, MAX_DETAIL_BYTES * 4)
        .await
        .map(|b| {
            String::from_utf8_lossy(&b)
                .chars()
                .take(MAX_DETAIL_BYTES)
                .collect::<String>()
        })
        .unwrap_or_default();
    let code = code_for_status(status);
    let detail = if original.trim().is_empty() || status.is_server_error() {
        default_detail(code).to_owned()
    } else {
        original
    };
    let mut problem = Problem::new(code, detail);
    problem.status = status.as_u16();
    let mut rewritten = problem.into_response();
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}

fn default_detail(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::NotFound => "no such resource; see /api/v1/openapi.json for the API",
        ErrorCode::MethodNotAllowed => "this resource does not support that method",
        ErrorCode::Timeout => "the request took too long and was abandoned; retry later",
        ErrorCode::PayloadTooLarge => "the request body is larger than the server accepts",
        ErrorCode::UnsupportedMediaType => "send application/json",
        _ => "the request could not be handled",
    }
}

/// Answers unknown paths.
pub(crate) async fn not_found() -> ApiError {
    ApiError(Problem::new(
        ErrorCode::NotFound,
        default_detail(ErrorCode::NotFound),
    ))
}
