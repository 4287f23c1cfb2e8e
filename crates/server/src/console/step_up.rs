//! `/step-up`: confirm it is you before a sensitive action (role changes, deletions, security
//! settings). The password and code go through the one login code path (shared throttle and
//! lockout counters); success gives the session a new id and returns to the page that asked, where
//! the action can be sent again.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;

use crate::console::shell::{Chrome, ConsoleCaller, message, render, safe_next};
use crate::identity::LoginError;
use crate::identity::step_up::StepUp;
use crate::web::WebState;
use crate::web::account::device_cookie_name;
use crate::web::session::{cookie, session_cookie};

#[derive(Template)]
#[template(path = "step_up.html")]
struct StepUpPage<'a> {
    c: &'a Chrome,
    next: &'a str,
    mfa: bool,
    failed: bool,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn page(caller: ConsoleCaller, Query(query): Query<NextQuery>) -> Response {
    let c = &caller.chrome;
    let page = StepUpPage {
        c,
        next: safe_next(query.next.as_deref()),
        mfa: caller.principal.mfa_enrolled,
        failed: false,
    };
    render(&page, StatusCode::OK, c.lang)
}

/// The step-up form. (No `Debug`: it carries a password.)
#[derive(Deserialize)]
struct StepUpForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    next: String,
    password: String,
    #[serde(default)]
    totp: String,
}

async fn confirm(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    headers: HeaderMap,
    Form(form): Form<StepUpForm>,
) -> Response {
    if let Err(refused) = caller.check_csrf(&state, &form._csrf) {
        return refused;
    }
    let c = &caller.chrome;
    let next = safe_next(Some(&form.next));
    let totp = form.totp.trim();
    let outcome = state
        .app
        .step_up(
            &caller.principal,
            StepUp {
                password: &form.password,
                totp: (!totp.is_empty()).then_some(totp),
                source_ip: caller.origin.source_ip.clone(),
                request_id: caller.origin.request_id.clone(),
                device_token: cookie(&headers, device_cookie_name(state.tls)),
            },
        )
        .await;
    match outcome {
        Ok(token) => {
            let mut response = Redirect::to(next).into_response();
            response
                .headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&token, state.tls));
            response
        }
        Err(LoginError::InvalidCredentials) => {
            let page = StepUpPage {
                c,
                next,
                mfa: caller.principal.mfa_enrolled,
                failed: true,
            };
            render(&page, StatusCode::OK, c.lang)
        }
        Err(LoginError::Throttled { .. }) => message(
            c,
            StatusCode::TOO_MANY_REQUESTS,
            "sign_in.title",
            "sign_in.throttled",
        ),
        Err(LoginError::Service(e)) => {
            tracing::error!(error = %e, "step-up failed in the store");
            message(
                c,
                StatusCode::SERVICE_UNAVAILABLE,
                "error.unavailable.title",
                "error.unavailable.body",
            )
        }
    }
}

/// The step-up page.
pub(crate) fn routes() -> Router<WebState> {
    Router::new().route("/step-up", get(page).post(confirm))
}
