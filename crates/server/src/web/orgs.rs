//! Operator organisation management and the organisation's people: organisations (operators), invitations, members (org admins).

use axum::Router;
use utoipa::OpenApi;

use crate::web::WebState;

/// This module's part of the OpenAPI document (merged in `api.rs`).
#[derive(OpenApi)]
#[openapi()]
pub struct Doc;

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
}
