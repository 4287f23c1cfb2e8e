//! `/api/v1/auth/…` and `/api/v1/me`: sign-in, sign-out, the caller, and operator setup.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_domain::ErrorCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::identity::bootstrap::OperatorSetup;
use crate::identity::{LoginError, LoginRequest};
use crate::web::WebState;
use crate::web::account::{device_cookie, device_cookie_name, throttled_response};
use crate::web::problem::{ApiError, Problem};
use crate::web::session::{
    ApiCaller, Origin, clear_session_cookie, cookie, csrf_token, same_origin, session_cookie,
};

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
    origin: Origin,
    Json(request): Json<OperatorSetupRequest>,
) -> Result<(StatusCode, Json<OperatorSetupResponse>), ApiError> {
    let actor = origin.anonymous("operator_setup");
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

/// Signs in. (No `Debug`: it carries a password.)
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// E-mail address.
    pub email: String,
    /// Password.
    pub password: String,
    /// The 6-digit code from the authenticator app, once two-step verification is set up.
    #[serde(default)]
    pub totp: Option<String>,
}

/// A new session. The session id itself travels only in the `HttpOnly` cookie.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// The account.
    pub account_id: String,
    /// Send this as `X-CSRF-Token` on every state-changing request made with the cookie.
    pub csrf_token: String,
    /// True if two-step verification is set up (admins must set it up before admin work).
    pub mfa_enrolled: bool,
}

/// The one answer for every failed sign-in: unknown account, wrong password or code, locked, or
/// disabled (security.md "Anti-enumeration").
pub(crate) fn invalid_credentials() -> ApiError {
    ApiError(Problem::new(
        ErrorCode::Unauthenticated,
        "the e-mail address, password or code is not correct",
    ))
}

/// Signs in with e-mail, password and (once enrolled) a TOTP code; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = LoginResponse),
        (status = 401, description = "Not signed in (the same answer for every reason)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn login(
    State(state): State<WebState>,
    origin: Origin,
    headers: HeaderMap,
    Json(body): Json<LoginBody>,
) -> Result<Response, ApiError> {
    if !same_origin(&headers) {
        return Err(ApiError(Problem::new(
            ErrorCode::Forbidden,
            "cross-site sign-in refused",
        )));
    }
    let result = state
        .app
        .login(LoginRequest {
            email: &body.email,
            password: &body.password,
            totp: body.totp.as_deref(),
            source_ip: origin.source_ip.clone(),
            request_id: origin.request_id.clone(),
            device_token: cookie(&headers, device_cookie_name(state.tls)),
        })
        .await;
    let success = match result {
        Ok(success) => success,
        Err(LoginError::InvalidCredentials) => return Err(invalid_credentials()),
        Err(LoginError::Throttled { retry_after_secs }) => {
            return Ok(throttled_response(retry_after_secs));
        }
        Err(LoginError::Service(e)) => return Err(e.into()),
    };
    let mfa_enrolled = success.mfa_enrolled;
    let body = LoginResponse {
        account_id: success.account_id.to_string(),
        csrf_token: csrf_token(&state.app, &success.session_token),
        mfa_enrolled,
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&success.session_token, state.tls),
    );
    if let Some(device) = &success.device_token {
        response
            .headers_mut()
            .append(header::SET_COOKIE, device_cookie(device, state.tls));
    }
    Ok(response)
}

/// Ends the caller's session and removes the cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing CSRF token", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn logout(
    State(state): State<WebState>,
    caller: ApiCaller,
) -> Result<Response, ApiError> {
    if let Some(token) = &caller.session_token {
        state.app.logout(token).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_session_cookie(state.tls));
    Ok(response)
}

/// One organisation the caller belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyOrganisation {
    /// Organisation id.
    pub org_id: String,
    /// Its name.
    pub name: String,
    /// The caller's role there (`org_admin` or `member`).
    pub role: String,
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// Account id.
    pub account_id: String,
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Platform operator.
    pub operator: bool,
    /// Two-step verification set up.
    pub mfa_enrolled: bool,
    /// Active memberships.
    pub organisations: Vec<MyOrganisation>,
    /// The session's CSRF token (absent for API tokens, which need none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
}

/// Who the caller is, their organisations and roles, and the session's CSRF token.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses(
        (status = 200, description = "The caller", body = Me),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn me(
    State(state): State<WebState>,
    caller: ApiCaller,
) -> Result<Json<Me>, ApiError> {
    let organisations = state
        .app
        .my_organisations(&caller.principal)
        .await?
        .into_iter()
        .map(|(org, role)| MyOrganisation {
            org_id: org.id.to_string(),
            name: org.name,
            role: role.as_str().to_owned(),
        })
        .collect();
    let p = &caller.principal;
    Ok(Json(Me {
        account_id: p.account_id.to_string(),
        email: p.email.clone(),
        name: p.name.clone(),
        operator: p.is_operator,
        mfa_enrolled: p.mfa_enrolled,
        organisations,
        csrf_token: caller
            .session_token
            .as_deref()
            .map(|t| csrf_token(&state.app, t)),
    }))
}
