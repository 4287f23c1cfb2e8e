//! Console pages: organisations (operators), people and invitations (org admins), accepting an invitation.

use axum::Router;

use crate::web::WebState;

/// This area's console routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
}
