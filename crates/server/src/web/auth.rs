//! `/api/v1/auth/…`: sign-in and recovery endpoints that need no session.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::Actor;
use crate::identity::bootstrap::OperatorSetup;
use crate::web::WebState;
use crate::web::problem::{ApiError, Problem};

/// Completes operator setup with the one-time token printed by `serve` or
/// `latchkey operator recover`. (No `Debug`: it carries a password.)
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperatorSetupRequest {
    /// The token from the setup link.
    pub token: String,
    /// The operator's e-mail address.
    pub email: String,
    /// The operator's name.
    pub name: String,
    /// A password of at least 12 characters (not a common one, not containing the name or e-mail).
    pub password: String,
}

/// The account that was created (or recovered).
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorSetupResponse {
    /// The operator's account id.
    pub account_id: String,
}

/// Creates the first platform operator (or recovers one) with a one-time setup token.
#[utoipa::path(post, path = "/api/v1/auth/operator-setup", tag = "auth",
    request_body = OperatorSetupRequest,
    responses(
        (status = 201, description = "Operator created or recovered", body = OperatorSetupResponse),
        (status = 404, description = "Invalid or expired link", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The e-mail belongs to a non-operator account", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule (e.g. the password policy)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn operator_setup(
    State(state): State<WebState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Json(request): Json<OperatorSetupRequest>,
) -> Result<(StatusCode, Json<OperatorSetupResponse>), ApiError> {
    let actor = Actor {
        id: "anonymous:operator_setup".into(),
        source_ip: Some(peer.ip().to_string()),
        request_id: crate::web::request_id::current(),
    };
    let id = state
        .app
        .complete_operator_setup(
            &actor,
            OperatorSetup {
                token: &request.token,
                email: &request.email,
                name: &request.name,
                password: &request.password,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(OperatorSetupResponse {
            account_id: id.to_string(),
        }),
    ))
}
