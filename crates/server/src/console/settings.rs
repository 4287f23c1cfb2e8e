//! The organisation's security settings page (org admins). The form speaks minutes and hours;
//! the service stores milliseconds and checks every bound. Saving needs step-up: a stale sign-in
//! is sent to `/step-up` and comes back here.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use latchkey_domain::identity::SecuritySettings;
use latchkey_domain::identity::lockout::{HOUR_MS, LockoutParams, MINUTE_MS};
use latchkey_domain::identity::settings::SecuritySettingsInput;
use latchkey_domain::{DomainError, ErrorCode, OrgId};
use serde::Deserialize;

use crate::app::ServiceError;
use crate::console::shell::{Chrome, ConsoleCaller, message, render, url_encode};
use crate::web::WebState;

/// The form's fields, as typed.
#[derive(Debug, Clone, Deserialize)]
struct SettingsForm {
    #[serde(default)]
    _csrf: String,
    password_min_chars: String,
    max_consecutive_failures: String,
    lock_minutes: String,
    failure_window_hours: String,
    hard_lock_after_episodes: String,
    #[serde(default)]
    notify_user_on_lock: Option<String>,
    invitation_ttl_hours: String,
}

/// What the form shows.
struct FormValues {
    password_min_chars: String,
    max_consecutive_failures: String,
    lock_minutes: String,
    failure_window_hours: String,
    hard_lock_after_episodes: String,
    notify_user_on_lock: bool,
    invitation_ttl_hours: String,
}

impl From<&SecuritySettings> for FormValues {
    fn from(settings: &SecuritySettings) -> Self {
        let input = SecuritySettingsInput::from(settings.clone());
        Self {
            password_min_chars: input.password_min_chars.to_string(),
            max_consecutive_failures: input.lockout.max_consecutive_failures.to_string(),
            lock_minutes: input
                .lockout
                .lock_durations_ms
                .iter()
                .map(|ms| (ms / MINUTE_MS).to_string())
                .collect::<Vec<_>>()
                .join(", "),
            failure_window_hours: (input.lockout.failure_window_ms / HOUR_MS).to_string(),
            hard_lock_after_episodes: input.lockout.hard_lock_after_episodes.to_string(),
            notify_user_on_lock: input.lockout.notify_user_on_lock,
            invitation_ttl_hours: input.invitation_ttl_hours.to_string(),
        }
    }
}

impl From<&SettingsForm> for FormValues {
    fn from(form: &SettingsForm) -> Self {
        Self {
            password_min_chars: form.password_min_chars.clone(),
            max_consecutive_failures: form.max_consecutive_failures.clone(),
            lock_minutes: form.lock_minutes.clone(),
            failure_window_hours: form.failure_window_hours.clone(),
            hard_lock_after_episodes: form.hard_lock_after_episodes.clone(),
            notify_user_on_lock: form.notify_user_on_lock.is_some(),
            invitation_ttl_hours: form.invitation_ttl_hours.clone(),
        }
    }
}

fn number<T: std::str::FromStr>(field: &'static str, text: &str) -> Result<T, DomainError> {
    text.trim()
        .parse()
        .map_err(|_| DomainError::invalid(field, format!("{field}: enter a whole number")))
}

impl SettingsForm {
    fn to_input(&self) -> Result<SecuritySettingsInput, DomainError> {
        let lock_durations_ms = self
            .lock_minutes
            .split(',')
            .map(|m| number::<i64>("lock_minutes", m).map(|m| m.saturating_mul(MINUTE_MS)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(SecuritySettingsInput {
            password_min_chars: number("password_min_chars", &self.password_min_chars)?,
            lockout: LockoutParams {
                max_consecutive_failures: number(
                    "max_consecutive_failures",
                    &self.max_consecutive_failures,
                )?,
                lock_durations_ms,
                failure_window_ms: number::<i64>(
                    "failure_window_hours",
                    &self.failure_window_hours,
                )?
                .saturating_mul(HOUR_MS),
                hard_lock_after_episodes: number(
                    "hard_lock_after_episodes",
                    &self.hard_lock_after_episodes,
                )?,
                notify_user_on_lock: self.notify_user_on_lock.is_some(),
            },
            invitation_ttl_hours: number("invitation_ttl_hours", &self.invitation_ttl_hours)?,
        })
    }
}

#[derive(Template)]
#[template(path = "security_settings.html")]
struct SettingsPage<'a> {
    c: &'a Chrome,
    org_id: OrgId,
    org_name: &'a str,
    form: FormValues,
    saved: bool,
    error: Option<String>,
}

/// The service's refusal as a page: 404 and 403 get their own pages, rule breaks re-render.
fn refusal(c: &Chrome, e: &ServiceError) -> Option<Response> {
    match e.code() {
        ErrorCode::NotFound => Some(message(
            c,
            StatusCode::NOT_FOUND,
            "error.not_found.title",
            "error.not_found.body",
        )),
        ErrorCode::Forbidden => Some(message(
            c,
            StatusCode::FORBIDDEN,
            "error.forbidden.title",
            "error.forbidden.body",
        )),
        ErrorCode::MfaEnrolmentRequired => Some(Redirect::to("/account/mfa").into_response()),
        ErrorCode::InvalidField | ErrorCode::TenantInactive => None,
        _ => {
            tracing::error!(error = %e, "security settings page failed");
            Some(message(
                c,
                StatusCode::SERVICE_UNAVAILABLE,
                "error.unavailable.title",
                "error.unavailable.body",
            ))
        }
    }
}

async fn org_name(state: &WebState, caller: &ConsoleCaller, org: OrgId) -> String {
    state
        .app
        .my_organisations(&caller.principal)
        .await
        .ok()
        .and_then(|orgs| orgs.into_iter().find(|(o, _)| o.id == org))
        .map(|(o, _)| o.name)
        .unwrap_or_default()
}

async fn show(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<OrgId>,
) -> Response {
    let c = &caller.chrome;
    let settings = match state.app.security_settings(&caller.principal, org).await {
        Ok(s) => s,
        Err(e) => return refusal(c, &e).unwrap_or_else(|| Redirect::to("/home").into_response()),
    };
    let name = org_name(&state, &caller, org).await;
    let page = SettingsPage {
        c,
        org_id: org,
        org_name: &name,
        form: FormValues::from(&settings),
        saved: false,
        error: None,
    };
    render(&page, StatusCode::OK, c.lang)
}

async fn save(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(org): Path<OrgId>,
    Form(form): Form<SettingsForm>,
) -> Response {
    if let Err(refused) = caller.check_csrf(&state, &form._csrf) {
        return refused;
    }
    let c = &caller.chrome;
    let outcome = match form.to_input() {
        Ok(input) => {
            state
                .app
                .update_security_settings(&caller.principal, &caller.actor(), org, input)
                .await
        }
        Err(e) => Err(e.into()),
    };
    let name = org_name(&state, &caller, org).await;
    let (status, saved, error, values) = match outcome {
        Ok(settings) => (StatusCode::OK, true, None, FormValues::from(&settings)),
        Err(e) if e.code() == ErrorCode::StepUpRequired => {
            let back = url_encode(&format!("/orgs/{org}/settings/security"));
            return Redirect::to(&format!("/step-up?next={back}")).into_response();
        }
        Err(e) => match refusal(c, &e) {
            Some(page) => return page,
            None => (
                StatusCode::UNPROCESSABLE_ENTITY,
                false,
                Some(e.to_string()),
                FormValues::from(&form),
            ),
        },
    };
    let page = SettingsPage {
        c,
        org_id: org,
        org_name: &name,
        form: values,
        saved,
        error,
    };
    render(&page, status, c.lang)
}

/// The security settings page.
pub(crate) fn routes() -> Router<WebState> {
    Router::new().route("/orgs/{org}/settings/security", get(show).post(save))
}
