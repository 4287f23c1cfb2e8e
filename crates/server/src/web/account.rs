//! The caller's own account: password change and reset, two-step verification, sessions, API tokens, lock e-mails and unlock links.

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
