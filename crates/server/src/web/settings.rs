//! `/api/v1/orgs/{org}/security-settings`: an organisation's tunable security parameters, each
//! within the brief's bounds. Reading needs an org admin; changing also needs step-up.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use latchkey_domain::OrgId;
use latchkey_domain::identity::SecuritySettings;
use latchkey_domain::identity::lockout::LockoutParams;
use latchkey_domain::identity::settings::SecuritySettingsInput;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::web::WebState;
use crate::web::problem::{ApiError, Problem};
use crate::web::session::ApiCaller;

/// Lockout of the password lanes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LockoutSettings {
    /// Consecutive failures that start a temporary lock (3–10; default 3).
    pub max_consecutive_failures: u32,
    /// Lock length per episode in ms, escalating; the last repeats (1–8 steps, each 1 min–24 h,
    /// never shorter than the one before; default 5, 15, 60 min).
    pub lock_durations_ms: Vec<i64>,
    /// Quiet time after which counters reset, ms (1 h–7 days; default 24 h).
    pub failure_window_ms: i64,
    /// Lock episodes before the hard lock (2–30; default 10).
    pub hard_lock_after_episodes: u32,
    /// E-mail the user on a lock (required below 5 episodes to the hard lock).
    pub notify_user_on_lock: bool,
}

/// An organisation's security settings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettingsBody {
    /// Minimum password length in characters (8–64; org admins are never below 12).
    pub password_min_chars: usize,
    /// Lockout after failed sign-ins.
    pub lockout: LockoutSettings,
    /// How long invitation links stay valid, hours (1–168; default 72).
    pub invitation_ttl_hours: u32,
}

impl From<SecuritySettings> for SecuritySettingsBody {
    fn from(settings: SecuritySettings) -> Self {
        let input = SecuritySettingsInput::from(settings);
        Self {
            password_min_chars: input.password_min_chars,
            lockout: LockoutSettings {
                max_consecutive_failures: input.lockout.max_consecutive_failures,
                lock_durations_ms: input.lockout.lock_durations_ms,
                failure_window_ms: input.lockout.failure_window_ms,
                hard_lock_after_episodes: input.lockout.hard_lock_after_episodes,
                notify_user_on_lock: input.lockout.notify_user_on_lock,
            },
            invitation_ttl_hours: input.invitation_ttl_hours,
        }
    }
}

impl From<SecuritySettingsBody> for SecuritySettingsInput {
    fn from(body: SecuritySettingsBody) -> Self {
        Self {
            password_min_chars: body.password_min_chars,
            lockout: LockoutParams {
                max_consecutive_failures: body.lockout.max_consecutive_failures,
                lock_durations_ms: body.lockout.lock_durations_ms,
                failure_window_ms: body.lockout.failure_window_ms,
                hard_lock_after_episodes: body.lockout.hard_lock_after_episodes,
                notify_user_on_lock: body.lockout.notify_user_on_lock,
            },
            invitation_ttl_hours: body.invitation_ttl_hours,
        }
    }
}

/// The organisation's security settings.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/security-settings", tag = "organisation",
    params(("org" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The settings", body = SecuritySettingsBody),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an org admin, or MFA not set up", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation (or not yours)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn show(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<OrgId>,
) -> Result<Json<SecuritySettingsBody>, ApiError> {
    let settings = state.app.security_settings(&caller.principal, org).await?;
    Ok(Json(settings.into()))
}

/// Replaces the organisation's security settings (org admins, after step-up).
#[utoipa::path(put, path = "/api/v1/orgs/{org}/security-settings", tag = "organisation",
    params(("org" = String, Path, description = "Organisation id")),
    request_body = SecuritySettingsBody,
    responses(
        (status = 200, description = "The new settings", body = SecuritySettingsBody),
        (status = 403, description = "Not an org admin, MFA not set up, or step-up needed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation (or not yours)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A value outside its bounds (the field is named)", body = Problem, content_type = "application/problem+json"),
    ))]
pub(crate) async fn update(
    State(state): State<WebState>,
    caller: ApiCaller,
    Path(org): Path<OrgId>,
    Json(body): Json<SecuritySettingsBody>,
) -> Result<Json<SecuritySettingsBody>, ApiError> {
    let settings = state
        .app
        .update_security_settings(&caller.principal, &caller.actor(), org, body.into())
        .await?;
    Ok(Json(settings.into()))
}

/// This module's part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(show, update),
    components(schemas(SecuritySettingsBody, LockoutSettings)),
    tags((name = "organisation", description = "An organisation's own settings (org admins)"))
)]
pub struct Doc;

/// This module's routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new().route(
        "/api/v1/orgs/{org}/security-settings",
        get(show).put(update),
    )
}
