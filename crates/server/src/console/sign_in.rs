//! Signing in and out, the signed-in home page, and the operator setup page.
//!
//! The sign-in form calls the same [`App::login`](crate::app::App::login) as the API (one code
//! path, one lockout counter — research T9). A failed sign-in re-renders the form with one
//! message for every reason (unknown account, wrong password or code, locked).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use latchkey_domain::ErrorCode;
use serde::Deserialize;

use crate::console::shell::{Chrome, ConsoleCaller, Visitor, message, render, safe_next};
use crate::identity::bootstrap::OperatorSetup;
use crate::identity::{LoginError, LoginRequest};
use crate::web::WebState;
use crate::web::account::{device_cookie, device_cookie_name};
use crate::web::session::{clear_session_cookie, cookie, same_origin, session_cookie};

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    c: &'a Chrome,
    next: &'a str,
    email: &'a str,
    failed: bool,
    throttled: bool,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn sign_in_page(visitor: Visitor, Query(query): Query<NextQuery>) -> Response {
    let next = safe_next(query.next.as_deref());
    if visitor.principal.is_some() {
        return Redirect::to(next).into_response();
    }
    let page = SignInPage {
        c: &visitor.chrome,
        next,
        email: "",
        failed: false,
        throttled: false,
    };
    render(&page, StatusCode::OK, visitor.chrome.lang)
}

/// The sign-in form. (No `Debug`: it carries a password.)
#[derive(Deserialize)]
struct SignInForm {
    email: String,
    password: String,
    #[serde(default)]
    totp: String,
    #[serde(default)]
    next: String,
}

async fn sign_in(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let c = &visitor.chrome;
    if !same_origin(&headers) {
        return message(
            c,
            StatusCode::FORBIDDEN,
            "error.csrf.title",
            "error.csrf.body",
        );
    }
    let totp = form.totp.trim();
    let result = state
        .app
        .login(LoginRequest {
            email: &form.email,
            password: &form.password,
            totp: (!totp.is_empty()).then_some(totp),
            source_ip: visitor.origin.source_ip.clone(),
            request_id: visitor.origin.request_id.clone(),
            device_token: cookie(&headers, device_cookie_name(state.tls)),
        })
        .await;
    let next = safe_next(Some(&form.next));
    let failed_page = |status: StatusCode, throttled: bool| {
        let page = SignInPage {
            c,
            next,
            email: &form.email,
            failed: !throttled,
            throttled,
        };
        render(&page, status, c.lang)
    };
    match result {
        Ok(success) => {
            // A sign-in replaces any session this browser had.
            if let Some(old) = &visitor.session_token
                && let Err(e) = state.app.logout(old).await
            {
                tracing::warn!(error = %e, "could not end the previous session");
            }
            let mut response = Redirect::to(next).into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&success.session_token, state.tls),
            );
            if let Some(device) = &success.device_token {
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, device_cookie(device, state.tls));
            }
            response
        }
        // 200, not 401: a 401 must carry a WWW-Authenticate challenge, which a form has not, and
        // browsers report it as a failed resource load. The page says what happened.
        Err(LoginError::InvalidCredentials) => failed_page(StatusCode::OK, false),
        Err(LoginError::Throttled { retry_after_secs }) => {
            let mut response = failed_page(StatusCode::TOO_MANY_REQUESTS, true);
            if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Err(LoginError::Service(e)) if e.code() == ErrorCode::RateLimited => {
            failed_page(StatusCode::TOO_MANY_REQUESTS, true)
        }
        Err(LoginError::Service(e)) => {
            tracing::error!(error = %e, "sign-in failed in the store");
            message(
                c,
                StatusCode::SERVICE_UNAVAILABLE,
                "error.unavailable.title",
                "error.unavailable.body",
            )
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    _csrf: String,
}

async fn sign_out(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = caller.check_csrf(&state, &form._csrf) {
        return refused;
    }
    if let Err(e) = state.app.logout(&caller.session_token).await {
        tracing::error!(error = %e, "sign-out failed in the store");
    }
    let mut response = Redirect::to("/sign-in").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, clear_session_cookie(state.tls));
    response
}

/// One organisation on the home page.
struct HomeOrg {
    id: String,
    name: String,
    role_key: &'static str,
    admin: bool,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    c: &'a Chrome,
    email: &'a str,
    operator: bool,
    organisations: Vec<HomeOrg>,
}

async fn home(State(state): State<WebState>, caller: ConsoleCaller) -> Response {
    let organisations = match state.app.my_organisations(&caller.principal).await {
        Ok(orgs) => orgs
            .into_iter()
            .map(|(org, role)| HomeOrg {
                id: org.id.to_string(),
                name: org.name,
                role_key: if role.is_admin() {
                    "role.org_admin"
                } else {
                    "role.member"
                },
                admin: role.is_admin(),
            })
            .collect(),
        Err(e) => {
            tracing::error!(error = %e, "home page failed in the store");
            Vec::new()
        }
    };
    let page = HomePage {
        c: &caller.chrome,
        email: &caller.principal.email,
        operator: caller.principal.is_operator,
        organisations,
    };
    render(&page, StatusCode::OK, caller.chrome.lang)
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage<'a> {
    c: &'a Chrome,
    token: &'a str,
    email: &'a str,
    name: &'a str,
    error: Option<String>,
}

fn invalid_link(c: &Chrome) -> Response {
    message(
        c,
        StatusCode::NOT_FOUND,
        "error.link.title",
        "error.link.body",
    )
}

async fn setup_page(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Response {
    let c = &visitor.chrome;
    match state.app.operator_setup_link_is_live(&token).await {
        Ok(true) => render(
            &SetupPage {
                c,
                token: &token,
                email: "",
                name: "",
                error: None,
            },
            StatusCode::OK,
            c.lang,
        ),
        Ok(false) => invalid_link(c),
        Err(e) => {
            tracing::error!(error = %e, "setup page failed in the store");
            invalid_link(c)
        }
    }
}

/// The operator setup form. (No `Debug`: it carries a password.)
#[derive(Deserialize)]
struct SetupForm {
    email: String,
    name: String,
    password: String,
}

async fn setup(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> Response {
    let c = &visitor.chrome;
    if !same_origin(&headers) {
        return message(
            c,
            StatusCode::FORBIDDEN,
            "error.csrf.title",
            "error.csrf.body",
        );
    }
    let actor = visitor.origin.anonymous("operator_setup");
    let outcome = state
        .app
        .complete_operator_setup(
            &actor,
            OperatorSetup {
                token: &token,
                email: &form.email,
                name: &form.name,
                password: &form.password,
            },
        )
        .await;
    match outcome {
        Ok(_) => {}
        Err(e) if e.code() == ErrorCode::NotFound => return invalid_link(c),
        Err(e) if e.code() == ErrorCode::InvalidField || e.code() == ErrorCode::Conflict => {
            let page = SetupPage {
                c,
                token: &token,
                email: &form.email,
                name: &form.name,
                error: Some(e.to_string()),
            };
            return render(&page, StatusCode::UNPROCESSABLE_ENTITY, c.lang);
        }
        Err(e) => {
            tracing::error!(error = %e, "operator setup failed");
            return message(
                c,
                StatusCode::SERVICE_UNAVAILABLE,
                "error.unavailable.title",
                "error.unavailable.body",
            );
        }
    }
    // Signed in straight away; the next step is two-step verification (mandatory for operators).
    let login = state
        .app
        .login(LoginRequest {
            email: &form.email,
            password: &form.password,
            totp: None,
            source_ip: visitor.origin.source_ip.clone(),
            request_id: visitor.origin.request_id.clone(),
            device_token: None,
        })
        .await;
    match login {
        Ok(success) => {
            let mut response = Redirect::to("/account/mfa").into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&success.session_token, state.tls),
            );
            response
        }
        Err(_) => Redirect::to("/sign-in").into_response(),
    }
}

/// Sign-in, sign-out, home and operator setup routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/sign-in", get(sign_in_page).post(sign_in))
        .route("/sign-out", axum::routing::post(sign_out))
        .route("/home", get(home))
        .route("/setup/{token}", get(setup_page).post(setup))
}
