//! Console pages: the caller's account (password, two-step verification, sessions, API tokens), forgot/reset password, unlock links.

use axum::Router;

use crate::web::WebState;

/// This area's console routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
}
