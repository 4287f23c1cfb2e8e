//! Liveness, readiness and metrics endpoints for load balancers and monitoring
//! (whitepaper requirement 9: 24-hour monitoring of liveness, resources and the database).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_domain::ErrorCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::web::WebState;
use crate::web::problem::Problem;

/// Health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// Liveness: the process is up and serving. Never touches the database.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The process is alive", body = Health)))]
pub(crate) async fn healthz() -> Response {
    // Probes run constantly, so this answer is built from constants rather than serialised, with
    // a header map allocated once at the size the edge fills (no regrowth there).
    let mut response = Response::new(Body::from(HEALTHZ_BODY));
    let headers = response.headers_mut();
    headers.reserve(PROBE_HEADERS);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// What `healthz` answers: `Health { status: "ok" }`, serialised.
const HEALTHZ_BODY: &str = r#"{"status":"ok"}"#;

/// Headers on a probe's response: content type and length, the security headers (with HSTS),
/// cache control and the request id.
const PROBE_HEADERS: usize = 12;

/// Readiness: the database answers and its schema is current.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, description = "Database unreachable or schema not current", body = Problem,
         content_type = "application/problem+json")))]
pub(crate) async fn readyz(State(state): State<WebState>) -> Response {
    match state.app.store.ready().await {
        Ok(()) => axum::Json(Health { status: "ok" }).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Problem::new(
                ErrorCode::Unavailable,
                "the database is not ready; see the server log",
            )
            .into_response()
        }
    }
}

/// Prometheus metrics.
pub(crate) async fn metrics(State(state): State<WebState>) -> Response {
    let text = state.metrics.render(
        state.app.store.pool_stats(),
        state.app.store.backend().as_str(),
    );
    let mut response = (StatusCode::OK, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_healthz_body_is_the_health_document() {
        assert_eq!(
            serde_json::to_string(&Health { status: "ok" }).unwrap(),
            HEALTHZ_BODY
        );
    }
}
