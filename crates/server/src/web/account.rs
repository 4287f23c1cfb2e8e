//! The caller's own account: password change and reset, two-step verification, step-up, sessions,
//! API tokens, and the e-mailed unlock link. Sign-in helpers shared with `auth.rs` live here too:
//! the device cookie (research §2.2 L2) and the per-IP throttle's 429 (L0).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use latchkey_domain::time::rfc3339_utc;
use latchkey_domain::{DomainError, ErrorCode, OrgId};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::app::ServiceError;
use crate::identity::LoginError;
use crate::identity::api_tokens::NewApiToken;
use crate::identity::reset::{PasswordChange, PasswordReset};
use crate::identity::step_up::StepUp;
use crate::web::WebState;
use crate::web::auth::invalid_credentials;
use crate::web::problem::{ApiError, Problem};
use crate::web::session::{ApiCaller, Origin, cookie, csrf_token, same_origin, session_cookie};

/// The device cookie's name over TLS (`__Host-`: Secure, host-only, `Path=/`).
pub const SECURE_DEVICE_COOKIE: &str = "__Host-latchkey_device";
/// The device cookie's name on plain loopback HTTP.
pub const PLAIN_DEVICE_COOKIE: &str = "latchkey_device";
/// How long a browser keeps the device cookie (a year; the server may forget it sooner).
pub const DEVICE_COOKIE_MAX_AGE_SECS: u64 = 365 * 24 * 3600;

/// The device cookie's name for this deployment.
pub fn device_cookie_name(tls: bool) -> &'static str {
    if tls {
        SECURE_DEVICE_COOKIE
    } else {
        PLAIN_DEVICE_COOKIE
    }
}

/// `Set-Cookie` value that stores a device token: long-lived, `HttpOnly`, `SameSite=Lax`.
pub fn device_cookie(token: &str, tls: bool) -> HeaderValue {
    let secure = if tls { "; Secure" } else { "" };
    let text = format!(
        "{}={token}; Path=/; Max-Age={DEVICE_COOKIE_MAX_AGE_SECS}; HttpOnly; SameSite=Lax{secure}",
        device_cookie_name(tls)
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The per-IP throttle's answer: 429 problem with `Retry-After` in seconds (research §2.5).
pub fn throttled_response(retry_after_secs: u64) -> Response {
    let mut response = Problem::new(
        ErrorCode::RateLimited,
        format!("too many attempts from your address; try again in {retry_after_secs} seconds"),
    )
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A service error as a response; a throttled one gets its `Retry-After` (asked of the throttle
/// again, so it is exact).
fn error_response(state: &WebState, origin: &Origin, error: ServiceError) -> Response {
    if error.code() == ErrorCode::RateLimited {
        let now_ms = state.app.clock.now_ms();
        let secs = state
            .app
            .throttle
            .check(origin.source_ip.as_deref(), now_ms)
            .err()
            .unwrap_or(60);
        return throttled_response(secs);
    }
    ApiError::from(error).into_response()
}

fn login_error_response(state: &WebState, origin: &Origin, error: LoginError) -> Response {
    match error {
        LoginError::InvalidCredentials => invalid_credentials().into_response(),
        LoginError::Throttled { retry_after_secs } => throttled_response(retry_after_secs),
        LoginError::Service(e) => error_response(state, origin, e),
    }
}

fn cross_site() -> Response {
    ApiError(Problem::new(
        ErrorCode::Forbidden,
        "cross-site request refused",
    ))
    .into_response()
}

fn org_id(text: &str) -> Result<OrgId, DomainError> {
    text.parse()
        .map_err(|_| DomainError::new(ErrorCode::NotFound, "organisation not found"))
}

/// The new session after a rotation (step-up, password change): its CSRF token; the id travels
/// in the cookie.
#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSession {
    /// Send this as `X-CSRF-Token` from now on (the old session ended).
    pub csrf_token: String,
}

fn rotated(state: &WebState, token: &str) -> Response {
    let mut response = Json(RotatedSession {
        csrf_token: csrf_token(&state.app, token),
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(token, state.tls));
    response
}

/// Re-authentication. (No `Debug`: it carries a password.)
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepUpBody {
    /// The password.
    pub password: String,
    /// The 6-digit code (or a recovery code), once two-step verification is set up.
    #[serde(default)]
    pub totp: Option<String>,
}

/// Confirms the password (and code) again for sensitive actions within the next 10 minutes; the
/// session gets a new id (new cookie and CSRF token).
#[utoipa::path(post, path = "/api/v1/auth/step-up", tag = "auth",
    request_body = StepUpBody,
    responses(
        (status = 200, description = "Re-authenticated; a new session cookie is set", body = RotatedSession),
        (status = 401, description = "Not signed in, or the password or code is not correct", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing CSRF token, or an API token", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn step_up(
    State(state): State<WebState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Json(body): Json<StepUpBody>,
) -> Response {
    let result = state
        .app
        .step_up(
            &caller.principal,
            StepUp {
                password: &body.password,
                totp: body.totp.as_deref(),
                source_ip: caller.origin.source_ip.clone(),
                request_id: caller.origin.request_id.clone(),
                device_token: cookie(&headers, device_cookie_name(state.tls)),
            },
        )
        .await;
    match result {
        Ok(token) => rotated(&state, &token),
        Err(e) => login_error_response(&state, &caller.origin, e),
    }
}

/// An e-mailed single-use link's token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkTokenBody {
    /// The token from the link.
    pub token: String,
}

/// Spends an e-mailed unlock link: the sign-in lock is cleared (the password is still needed).
#[utoipa::path(post, path = "/api/v1/auth/unlock", tag = "auth",
    request_body = LinkTokenBody,
    responses(
        (status = 204, description = "Unlocked; sign in with your password"),
        (status = 404, description = "Invalid or expired link", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn unlock(
    State(state): State<WebState>,
    origin: Origin,
    headers: HeaderMap,
    Json(body): Json<LinkTokenBody>,
) -> Response {
    if !same_origin(&headers) {
        return cross_site();
    }
    match state
        .app
        .unlock_with_link(&origin.anonymous("unlock"), &body.token)
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(&state, &origin, e),
    }
}

/// Asks for a password-reset e-mail.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotBody {
    /// The account's e-mail address.
    pub email: String,
}

/// The answer to a forgot-password request — the same whether or not the address has an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct ForgotAccepted {
    /// What happens next.
    pub detail: &'static str,
}

/// Takes a forgotten-password request: a 30-minute reset link is mailed if the address has an
/// account; answers 202 with the same body, after the same work, either way (no account
/// enumeration). Counts against the per-address sign-in throttle.
#[utoipa::path(post, path = "/api/v1/auth/forgot", tag = "auth",
    request_body = ForgotBody,
    responses(
        (status = 202, description = "If the address has an account, a reset link is on its way", body = ForgotAccepted),
        (status = 422, description = "Not an e-mail address", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this address (the same answer for every address); see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn forgot(
    State(state): State<WebState>,
    origin: Origin,
    headers: HeaderMap,
    Json(body): Json<ForgotBody>,
) -> Response {
    if !same_origin(&headers) {
        return cross_site();
    }
    match state
        .app
        .request_password_reset(&origin.anonymous("forgot_password"), &body.email)
        .await
    {
        Ok(()) => (
            StatusCode::ACCEPTED,
            Json(ForgotAccepted {
                detail: "if this address has an account, a link to choose a new password is on its way; it works once, for 30 minutes",
            }),
        )
            .into_response(),
        Err(e) => error_response(&state, &origin, e),
    }
}

/// Sets a new password with a reset link. (No `Debug`: it carries a password.)
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    /// The token from the link.
    pub token: String,
    /// The new password (8–128 characters; 12 for admins; not a common one).
    pub password: String,
    /// The 6-digit code (or a recovery code), when two-step verification is set up.
    #[serde(default)]
    pub totp: Option<String>,
}

/// Sets a new password with an e-mailed reset link: clears the sign-in lock and ends every session.
#[utoipa::path(post, path = "/api/v1/auth/reset", tag = "auth",
    request_body = ResetBody,
    responses(
        (status = 204, description = "Password set; sign in with it"),
        (status = 404, description = "Invalid or expired link", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The password breaks the policy, or the code is wrong", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn reset(
    State(state): State<WebState>,
    origin: Origin,
    headers: HeaderMap,
    Json(body): Json<ResetBody>,
) -> Response {
    if !same_origin(&headers) {
        return cross_site();
    }
    match state
        .app
        .reset_password(
            &origin.anonymous("password_reset"),
            PasswordReset {
                token: &body.token,
                password: &body.password,
                totp: body.totp.as_deref(),
            },
        )
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error_response(&state, &origin, e),
    }
}

/// Changes the password. (No `Debug`: it carries passwords.)
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeBody {
    /// The current password.
    pub current_password: String,
    /// The new password (8–128 characters; 12 for admins; not a common one).
    pub new_password: String,
}

/// Changes the caller's password; every other session ends and this one gets a new id.
#[utoipa::path(post, path = "/api/v1/account/password", tag = "account",
    request_body = PasswordChangeBody,
    responses(
        (status = 200, description = "Changed; a new session cookie is set", body = RotatedSession),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing CSRF token, or an API token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password, or the new one breaks the policy", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts from this address; see Retry-After", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn change_password(
    State(state): State<WebState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Json(body): Json<PasswordChangeBody>,
) -> Response {
    let result = state
        .app
        .change_password(
            &caller.principal,
            PasswordChange {
                current_password: &body.current_password,
                new_password: &body.new_password,
                source_ip: caller.origin.source_ip.clone(),
                request_id: caller.origin.request_id.clone(),
                device_token: cookie(&headers, device_cookie_name(state.tls)),
            },
        )
        .await;
    match result {
        Ok(token) => rotated(&state, &token),
        Err(e) => error_response(&state, &caller.origin, e),
    }
}

/// A started TOTP enrolment; shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolmentBody {
    /// The secret in base32, to type into an authenticator app.
    pub secret: String,
    /// The `otpauth://totp/…` provisioning URI.
    pub otpauth_uri: String,
}

/// Starts setting up two-step verification: a new secret, active only once confirmed.
#[utoipa::path(post, path = "/api/v1/account/mfa/totp", tag = "account",
    responses(
        (status = 201, description = "Secret generated; confirm with a code", body = TotpEnrolmentBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing CSRF token, or an API token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already set up", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn start_totp(
    State(state): State<WebState>,
    caller: ApiCaller,
) -> Result<(StatusCode, Json<TotpEnrolmentBody>), ApiError> {
    let enrolment = state.app.start_totp_enrolment(&caller.principal).await?;
    Ok((
        StatusCode::CREATED,
        Json(TotpEnrolmentBody {
            secret: enrolment.secret_base32,
            otpauth_uri: enrolment.otpauth_uri,
        }),
    ))
}

/// A code from the authenticator app.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCodeBody {
    /// The 6-digit code.
    pub code: String,
}

/// Recovery codes; shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten single-use codes that stand in for the authenticator app. Store them safely.
    pub recovery_codes: Vec<String>,
}

/// Confirms two-step verification with a code; returns ten recovery codes (shown once).
#[utoipa::path(post, path = "/api/v1/account/mfa/totp/confirm", tag = "account",
    request_body = TotpCodeBody,
    responses(
        (status = 200, description = "Active", body = RecoveryCodes),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No set-up in progress", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The code is not correct", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn confirm_totp(
    State(state): State<WebState>,
    caller: ApiCaller,
    Json(body): Json<TotpCodeBody>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let codes = state
        .app
        .confirm_totp_enrolment(&caller.principal, &body.code)
        .await?;
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

/// Removes two-step verification (needs step-up; not allowed for admins and operators).
#[utoipa::path(delete, path = "/api/v1/account/mfa/totp", tag = "account",
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Step-up needed, or an admin or operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not set up", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn remove_totp(
    State(state): State<WebState>,
    caller: ApiCaller,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .remove_totp(
            &caller.principal,
            caller.origin.source_ip.clone(),
            caller.origin.request_id.clone(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One of the caller's sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Id (hex of the stored digest; not the cookie).
    pub id: String,
    /// Started, RFC 3339 UTC.
    pub created_at: String,
    /// Last request, RFC 3339 UTC.
    pub last_seen_at: String,
    /// True for the session making this request.
    pub current: bool,
}

/// The caller's sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// Live sessions, newest first.
    pub sessions: Vec<SessionView>,
}

/// Lists the caller's own live sessions.
#[utoipa::path(get, path = "/api/v1/account/sessions", tag = "account",
    responses(
        (status = 200, description = "Sessions", body = SessionList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_sessions(
    State(state): State<WebState>,
    caller: ApiCaller,
) -> Result<Json<SessionList>, ApiError> {
    let sessions = state
        .app
        .my_sessions(&caller.principal)
        .await?
        .into_iter()
        .map(|s| SessionView {
            id: s.id,
            created_at: rfc3339_utc(s.record.created_at_ms),
            last_seen_at: rfc3339_utc(s.record.last_seen_at_ms),
            current: s.current,
        })
        .collect();
    Ok(Json(SessionList { sessions }))
}

/// Ends one of the caller's sessions.
#[utoipa::path(delete, path = "/api/v1/account/sessions/{id}", tag = "account",
    params(("id" = String, Path, description = "Session id from the list")),
    responses(
        (status = 204, description = "Ended"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such session of yours", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn end_session(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .end_my_session(&caller.principal, &caller.actor(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new API token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiTokenBody {
    /// What it is for.
    pub name: String,
    /// `read` or `write`.
    pub scope: String,
    /// Lifetime in days, 1–365.
    pub expires_in_days: i64,
}

/// An API token (never its secret, except `token` once at creation).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiTokenView {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `read` or `write`.
    pub scope: String,
    /// Created, RFC 3339 UTC.
    pub created_at: String,
    /// Expires, RFC 3339 UTC.
    pub expires_at: String,
    /// Revoked, RFC 3339 UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Last used, RFC 3339 UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    /// The token text for `Authorization: Bearer` — only in the creation response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

fn token_view(t: latchkey_store::repo::ApiTokenRecord, text: Option<String>) -> ApiTokenView {
    ApiTokenView {
        id: t.id,
        name: t.name,
        scope: t.scope.as_str().to_owned(),
        created_at: rfc3339_utc(t.created_at_ms),
        expires_at: rfc3339_utc(t.expires_at_ms),
        revoked_at: t.revoked_at_ms.map(rfc3339_utc),
        last_used_at: t.last_used_at_ms.map(rfc3339_utc),
        token: text,
    }
}

/// The caller's API tokens in an organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiTokenList {
    /// Newest first.
    pub api_tokens: Vec<ApiTokenView>,
}

/// Creates an API token for the caller in the organisation; the text is returned once.
#[utoipa::path(post, path = "/api/v1/orgs/{org_id}/api-tokens", tag = "account",
    params(("org_id" = String, Path, description = "Organisation id")),
    request_body = NewApiTokenBody,
    responses(
        (status = 201, description = "Created; `token` is shown only now", body = ApiTokenView),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Missing CSRF token, or an API token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a member of this organisation", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field breaks a rule", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn create_api_token(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
    Json(body): Json<NewApiTokenBody>,
) -> Result<(StatusCode, Json<ApiTokenView>), ApiError> {
    let org = org_id(&org)?;
    let (record, text) = state
        .app
        .create_api_token(
            &caller.principal,
            &caller.actor(),
            org,
            NewApiToken {
                name: &body.name,
                scope: &body.scope,
                expires_in_days: body.expires_in_days,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(token_view(record, Some(text)))))
}

/// Lists the caller's API tokens in the organisation (no secrets).
#[utoipa::path(get, path = "/api/v1/orgs/{org_id}/api-tokens", tag = "account",
    params(("org_id" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "Tokens", body = ApiTokenList),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not a member of this organisation", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn list_api_tokens(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<String>,
) -> Result<Json<ApiTokenList>, ApiError> {
    let org = org_id(&org)?;
    let api_tokens = state
        .app
        .my_api_tokens(&caller.principal, org)
        .await?
        .into_iter()
        .map(|t| token_view(t, None))
        .collect();
    Ok(Json(ApiTokenList { api_tokens }))
}

/// Revokes one of the caller's API tokens.
#[utoipa::path(delete, path = "/api/v1/orgs/{org_id}/api-tokens/{token_id}", tag = "account",
    params(("org_id" = String, Path, description = "Organisation id"),
        ("token_id" = String, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Read-only token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token of yours", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn revoke_api_token(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path((org, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let org = org_id(&org)?;
    state
        .app
        .revoke_my_api_token(&caller.principal, &caller.actor(), org, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This module's part of the OpenAPI document (merged in `api.rs`).
#[derive(OpenApi)]
#[openapi(
    paths(step_up, unlock, forgot, reset, change_password, start_totp, confirm_totp, remove_totp,
        list_sessions, end_session, create_api_token, list_api_tokens, revoke_api_token),
    components(schemas(RotatedSession, StepUpBody, LinkTokenBody, ForgotBody, ForgotAccepted,
        ResetBody, PasswordChangeBody, TotpEnrolmentBody, TotpCodeBody, RecoveryCodes, SessionView,
        SessionList, NewApiTokenBody, ApiTokenView, ApiTokenList)),
    tags((name = "account", description = "The caller's own account: password, two-step verification, sessions, API tokens"))
)]
pub struct Doc;

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/api/v1/auth/step-up", post(step_up))
        .route("/api/v1/auth/unlock", post(unlock))
        .route("/api/v1/auth/forgot", post(forgot))
        .route("/api/v1/auth/reset", post(reset))
        .route("/api/v1/account/password", post(change_password))
        .route(
            "/api/v1/account/mfa/totp",
            post(start_totp).delete(remove_totp),
        )
        .route("/api/v1/account/mfa/totp/confirm", post(confirm_totp))
        .route("/api/v1/account/sessions", get(list_sessions))
        .route("/api/v1/account/sessions/{id}", delete(end_session))
        .route(
            "/api/v1/orgs/{org_id}/api-tokens",
            post(create_api_token).get(list_api_tokens),
        )
        .route(
            "/api/v1/orgs/{org_id}/api-tokens/{token_id}",
            delete(revoke_api_token),
        )
}
