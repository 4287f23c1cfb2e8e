//! The REST API under `/api/v1` and its OpenAPI 3.1 document, generated from the code.

use axum::Router;
use axum::routing::{get, post};
use latchkey_domain::time::rfc3339_utc;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use crate::web::WebState;
use crate::web::problem::{FieldError, Problem};

/// What a client learns about the server before signing in.
#[derive(Debug, Serialize, ToSchema)]
pub struct Meta {
    /// Server version.
    pub version: &'static str,
    /// API version.
    pub api: &'static str,
    /// The server's current time, RFC 3339 UTC — lets clients and hubs detect clock drift.
    #[schema(example = "2026-11-29T09:00:00Z")]
    pub server_time: String,
}

/// Server version and time.
#[utoipa::path(get, path = "/api/v1/meta", tag = "meta",
    responses((status = 200, description = "Server version and time", body = Meta)))]
pub(crate) async fn meta(
    axum::extract::State(state): axum::extract::State<WebState>,
) -> axum::Json<Meta> {
    axum::Json(Meta {
        version: env!("CARGO_PKG_VERSION"),
        api: "v1",
        server_time: rfc3339_utc(state.app.clock.now_ms()),
    })
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Latchkey API", description = "Digital keys and access control. Errors are RFC 9457 problem+json with a stable `code`."),
    paths(meta, crate::web::health::healthz, crate::web::health::readyz, crate::web::auth::operator_setup,
        crate::web::auth::login, crate::web::auth::logout, crate::web::auth::me),
    components(schemas(Problem, FieldError, Meta, crate::web::health::Health,
        crate::web::auth::OperatorSetupRequest, crate::web::auth::OperatorSetupResponse,
        crate::web::auth::LoginBody, crate::web::auth::LoginResponse, crate::web::auth::Me,
        crate::web::auth::MyOrganisation)),
    tags(
        (name = "meta", description = "Server information"),
        (name = "operations", description = "Liveness and readiness"),
        (name = "auth", description = "Sign-in and recovery"),
    )
)]
pub struct ApiDoc;

/// The whole OpenAPI document: this file's part and each area module's.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::web::orgs::Doc::openapi());
    doc.merge(crate::web::account::Doc::openapi());
    doc.merge(crate::web::settings::Doc::openapi());
    doc.merge(crate::web::directory::Doc::openapi());
    doc.merge(crate::web::grants::Doc::openapi());
    doc.merge(crate::web::imports::Doc::openapi());
    doc
}

/// The OpenAPI document as JSON.
pub fn openapi_json() -> String {
    openapi().to_pretty_json().unwrap_or_default()
}

async fn openapi_document() -> impl axum::response::IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi_json(),
    )
}

/// Routes under `/api/v1`.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/api/v1/meta", get(meta))
        .route("/api/v1/openapi.json", get(openapi_document))
        .route(
            "/api/v1/auth/operator-setup",
            axum::routing::post(crate::web::auth::operator_setup),
        )
        .route("/api/v1/auth/login", post(crate::web::auth::login))
        .route("/api/v1/auth/logout", post(crate::web::auth::logout))
        .route("/api/v1/me", get(crate::web::auth::me))
        .merge(crate::web::orgs::routes())
        .merge(crate::web::account::routes())
        .merge(crate::web::settings::routes())
        .merge(crate::web::directory::routes())
        .merge(crate::web::grants::routes())
        .merge(crate::web::imports::routes())
}
