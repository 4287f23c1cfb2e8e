//! Console pages: the caller's account (password, two-step verification, sessions, API tokens),
//! forgotten password and reset, and the e-mailed unlock link. Every page calls the same services
//! as the API; state-changing forms of a signed-in caller carry the session's CSRF token, and the
//! forms used before signing in (forgot, reset, unlock) are guarded by the same-origin check.
//! GET pages of e-mailed links only render (mail scanners prefetch links); the POST spends.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use latchkey_domain::time::rfc3339_utc;
use latchkey_domain::{ErrorCode, OrgId};
use serde::Deserialize;

use crate::console::shell::{
    Chrome, ConsoleCaller, Visitor, csrf_refused, invalid_link, message, redirect_with_session,
    render, throttled, unavailable,
};
use crate::identity::LoginError;
use crate::identity::api_tokens::NewApiToken;
use crate::identity::mfa::TotpEnrolment;
use crate::identity::reset::{PasswordChange, PasswordReset};
use crate::identity::step_up::StepUp;
use crate::web::WebState;
use crate::web::account::device_cookie_name;
use crate::web::session::{cookie, same_origin, session_cookie};

/// One session row on the account page.
struct SessionRow {
    id: String,
    created_at: String,
    last_seen_at: String,
    current: bool,
}

/// One API token row.
struct TokenRow {
    org_id: String,
    id: String,
    name: String,
    scope: String,
    expires_at: String,
    live: bool,
}

/// An organisation the caller may create tokens in.
struct OrgOption {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "account/index.html")]
struct AccountPage<'a> {
    c: &'a Chrome,
    email: &'a str,
    mfa_enrolled: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    sessions: Vec<SessionRow>,
    tokens: Vec<TokenRow>,
    orgs: Vec<OrgOption>,
    new_token: Option<String>,
}

#[derive(Template)]
#[template(path = "account/mfa.html")]
struct MfaPage<'a> {
    c: &'a Chrome,
    enrolled: bool,
    codes_left: i64,
    pending: Option<TotpEnrolment>,
    recovery_codes: Vec<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "account/forgot.html")]
struct ForgotPage<'a> {
    c: &'a Chrome,
    email: &'a str,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "account/reset.html")]
struct ResetPage<'a> {
    c: &'a Chrome,
    token: &'a str,
    mfa: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "account/unlock.html")]
struct UnlockPage<'a> {
    c: &'a Chrome,
    token: &'a str,
}

/// The catalog key of a `?done=` notice; unknown values show nothing.
fn notice_key(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "password" => Some("account.notice.password"),
        "session" => Some("account.notice.session"),
        "token_revoked" => Some("account.notice.token_revoked"),
        "mfa_removed" => Some("account.notice.mfa_removed"),
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn account_page_response(
    state: &WebState,
    caller: &ConsoleCaller,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<String>,
    new_token: Option<String>,
) -> Response {
    let c = &caller.chrome;
    let app = &state.app;
    let sessions = match app.my_sessions(&caller.principal).await {
        Ok(list) => list
            .into_iter()
            .map(|s| SessionRow {
                id: s.id,
                created_at: rfc3339_utc(s.record.created_at_ms),
                last_seen_at: rfc3339_utc(s.record.last_seen_at_ms),
                current: s.current,
            })
            .collect(),
        Err(e) => return unavailable(c, &e),
    };
    let orgs = match app.my_organisations(&caller.principal).await {
        Ok(orgs) => orgs,
        Err(e) => return unavailable(c, &e),
    };
    let now_ms = app.clock.now_ms();
    let mut tokens = Vec::new();
    for (org, _) in &orgs {
        match app.my_api_tokens(&caller.principal, org.id).await {
            Ok(list) => tokens.extend(list.into_iter().map(|t| TokenRow {
                org_id: org.id.to_string(),
                live: t.is_live(now_ms),
                id: t.id,
                name: format!("{} — {}", org.name, t.name),
                scope: t.scope.as_str().to_owned(),
                expires_at: rfc3339_utc(t.expires_at_ms),
            })),
            Err(e) => return unavailable(c, &e),
        }
    }
    let page = AccountPage {
        c,
        email: &caller.principal.email,
        mfa_enrolled: caller.principal.mfa_enrolled,
        notice,
        error,
        sessions,
        tokens,
        orgs: orgs
            .into_iter()
            .map(|(org, _)| OrgOption {
                id: org.id.to_string(),
                name: org.name,
            })
            .collect(),
        new_token,
    };
    render(&page, status, c.lang)
}

async fn account_page(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Query(query): Query<DoneQuery>,
) -> Response {
    let notice = notice_key(query.done.as_deref());
    account_page_response(&state, &caller, StatusCode::OK, notice, None, None).await
}

/// The password change form. (No `Debug`: it carries passwords.)
#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    _csrf: String,
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    if let Err(refused) = caller.check_csrf(&state, &form._csrf) {
        return refused;
    }
    let result = state
        .app
        .change_password(
            &caller.principal,
            PasswordChange {
                current_password: &form.current_password,
                new_password: &form.new_password,
                source_ip: caller.origin.source_ip.clone(),
                request_id: caller.origin.request_id.clone(),
                device_token: cookie(&headers, device_cookie_name(state.tls)),
            },
        )
        .await;
    match result {
        Ok(token) => redirect_with_session("/account?done=password", &token, state.tls),
        Err(e) if e.code() == ErrorCode::RateLimited => throttled(&caller.chrome),
        Err(e) if e.code() == ErrorCode::InvalidField => {
            account_page_response(
                &state,
                &caller,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(e.to_string()),
                None,
            )
            .await
        }
        Err(e) => unavailable(&caller.chrome, &e),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    _csrf: String,
}

async fn end_session(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = caller.check_csrf(&state, &form._csrf) {
        return refused;
    }
    match state
        .app
        .end_my_session(&caller.principal, &caller.actor(), &id)
        .await
    {
        Ok(()) => Redirect::to("/account?done=session").into_response(),
        Err(e) if e.code() == ErrorCode::NotFound => message(
            &caller.chrome,
            StatusCode::NOT_FOUND,
            "error.not_found.title",
            "error.not_found.body",
        ),
        Err(e) => unavailable(&caller.chrome, &e),
    }
}

#[derive(Debug, Deserialize)]
struct NewTokenForm {
    #[serde(default)]
    _csrf: String,
    org_id: String,
    name: String,
    scope: String,
    expires_in_days: String,
}

async fn create_api_token(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Form(form): Form<NewTokenForm>,
) -> Response {
    if let Err(refused) = caller.check_csrf(&state, &form._csrf) {
        return refused;
    }
    let error = |text: String| {
        let (state, caller) = (&state, &caller);
        async move {
            account_page_response(
                state,
                caller,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(text),
                None,
            )
            .await
        }
    };
    let Ok(org) = form.org_id.parse::<OrgId>() else {
        return message(
            &caller.chrome,
            StatusCode::NOT_FOUND,
            "error.not_found.title",
            "error.not_found.body",
        );
    };
    let Ok(days) = form.expires_in_days.trim().parse::<i64>() else {
        return error(caller.chrome.t("account.tokens.days_invalid").to_owned()).await;
    };
    let result = state
        .app
        .create_api_token(
            &caller.principal,
            &caller.actor(),
            org,
            NewApiToken {
                name: &form.name,
                scope: &form.scope,
                expires_in_days: days,
            },
        )
        .await;
    match result {
        Ok((_, text)) => {
            account_page_response(&state, &caller, StatusCode::CREATED, None, None, Some(text))
                .await
        }
        Err(e) if e.code() == ErrorCode::InvalidField => error(e.to_string()).await,
        Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::Forbidden) => message(
            &caller.chrome,
            StatusCode::NOT_FOUND,
            "error.not_found.title",
            "error.not_found.body",
        ),
        Err(e) => unavailable(&caller.chrome, &e),
    }
}

async fn revoke_api_token(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Path((org, id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = caller.check_csrf(&state, &form._csrf) {
        return refused;
    }
    let not_found = || {
        message(
            &caller.chrome,
            StatusCode::NOT_FOUND,
            "error.not_found.title",
            "error.not_found.body",
        )
    };
    let Ok(org) = org.parse::<OrgId>() else {
        return not_found();
    };
    match state
        .app
        .revoke_my_api_token(&caller.principal, &caller.actor(), org, &id)
        .await
    {
        Ok(()) => Redirect::to("/account?done=token_revoked").into_response(),
        Err(e) if matches!(e.code(), ErrorCode::NotFound | ErrorCode::Forbidden) => not_found(),
        Err(e) => unavailable(&caller.chrome, &e),
    }
}

async fn mfa_page_response(
    state: &WebState,
    caller: &ConsoleCaller,
    status: StatusCode,
    recovery_codes: Vec<String>,
    error: Option<String>,
) -> Response {
    let c = &caller.chrome;
    let (pending, codes_left) = if caller.principal.mfa_enrolled {
        match state.app.recovery_codes_left(&caller.principal).await {
            Ok(left) => (None, left),
            Err(e) => return unavailable(c, &e),
        }
    } else {
        match state.app.pending_totp_enrolment(&caller.principal).await {
            Ok(pending) => (pending, 0),
            Err(e) => return unavailable(c, &e),
        }
    };
    let page = MfaPage {
        c,
        enrolled: caller.principal.mfa_enrolled || !recovery_codes.is_empty(),
        codes_left,
        pending,
        recovery_codes,
        error,
    };
    render(&page, status, c.lang)
}

async fn mfa_page(State(state): State<WebState>, caller: ConsoleCaller) -> Response {
    mfa_page_response(&state, &caller, StatusCode::OK, Vec::new(), None).await
}

async fn start_mfa(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = caller.check_csrf(&state, &form._csrf) {
        return refused;
    }
    match state.app.start_totp_enrolment(&caller.principal).await {
        Ok(_) => Redirect::to("/account/mfa").into_response(),
        Err(e) if e.code() == ErrorCode::Conflict => Redirect::to("/account/mfa").into_response(),
        Err(e) => unavailable(&caller.chrome, &e),
    }
}

#[derive(Debug, Deserialize)]
struct CodeForm {
    #[serde(default)]
    _csrf: String,
    code: String,
}

async fn confirm_mfa(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    Form(form): Form<CodeForm>,
) -> Response {
    if let Err(refused) = caller.check_csrf(&state, &form._csrf) {
        return refused;
    }
    match state
        .app
        .confirm_totp_enrolment(&caller.principal, &form.code)
        .await
    {
        Ok(codes) => mfa_page_response(&state, &caller, StatusCode::OK, codes, None).await,
        Err(e) if matches!(e.code(), ErrorCode::InvalidField | ErrorCode::Conflict) => {
            mfa_page_response(
                &state,
                &caller,
                StatusCode::UNPROCESSABLE_ENTITY,
                Vec::new(),
                Some(e.to_string()),
            )
            .await
        }
        Err(e) => unavailable(&caller.chrome, &e),
    }
}

/// Removing MFA re-authenticates in the same form (step-up). (No `Debug`: it carries a password.)
#[derive(Deserialize)]
struct RemoveMfaForm {
    #[serde(default)]
    _csrf: String,
    password: String,
    #[serde(default)]
    totp: String,
}

async fn remove_mfa(
    State(state): State<WebState>,
    caller: ConsoleCaller,
    headers: HeaderMap,
    Form(form): Form<RemoveMfaForm>,
) -> Response {
    if let Err(refused) = caller.check_csrf(&state, &form._csrf) {
        return refused;
    }
    let c = &caller.chrome;
    let totp = form.totp.trim();
    let stepped = state
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
    let token = match stepped {
        Ok(token) => token,
        Err(LoginError::Throttled { .. }) => return throttled(c),
        Err(LoginError::InvalidCredentials) => {
            let text = c.t("sign_in.failed").to_owned();
            return mfa_page_response(
                &state,
                &caller,
                // 200 like the sign-in form: a 401 needs a WWW-Authenticate challenge a form has not.
                StatusCode::OK,
                Vec::new(),
                Some(text),
            )
            .await;
        }
        Err(LoginError::Service(e)) => return unavailable(c, &e),
    };
    let principal = match state.app.principal_from_session(&token).await {
        Ok(Some(p)) => p,
        Ok(None) => return Redirect::to("/sign-in").into_response(),
        Err(e) => return unavailable(c, &e),
    };
    let removed = state
        .app
        .remove_totp(
            &principal,
            caller.origin.source_ip.clone(),
            caller.origin.request_id.clone(),
        )
        .await;
    match removed {
        Ok(()) => redirect_with_session("/account?done=mfa_removed", &token, state.tls),
        Err(e) if matches!(e.code(), ErrorCode::Forbidden | ErrorCode::NotFound) => {
            let mut response = message(
                c,
                StatusCode::FORBIDDEN,
                "account.mfa.remove_refused.title",
                "account.mfa.remove_refused.body",
            );
            response
                .headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&token, state.tls));
            response
        }
        Err(e) => unavailable(c, &e),
    }
}

async fn forgot_page(visitor: Visitor) -> Response {
    let page = ForgotPage {
        c: &visitor.chrome,
        email: "",
        error: None,
    };
    render(&page, StatusCode::OK, visitor.chrome.lang)
}

#[derive(Debug, Deserialize)]
struct ForgotForm {
    email: String,
}

async fn forgot(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(form): Form<ForgotForm>,
) -> Response {
    let c = &visitor.chrome;
    if !same_origin(&headers) {
        return csrf_refused(c);
    }
    match state
        .app
        .request_password_reset(&visitor.origin.anonymous("forgot_password"), &form.email)
        .await
    {
        // The same page whether or not the address has an account (no enumeration).
        Ok(()) => message(
            c,
            StatusCode::OK,
            "account.forgot.sent.title",
            "account.forgot.sent.body",
        ),
        Err(e) if e.code() == ErrorCode::InvalidField => {
            let page = ForgotPage {
                c,
                email: &form.email,
                error: Some(e.to_string()),
            };
            render(&page, StatusCode::UNPROCESSABLE_ENTITY, c.lang)
        }
        Err(e) if e.code() == ErrorCode::RateLimited => throttled(c),
        Err(e) => unavailable(c, &e),
    }
}

async fn reset_page(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Response {
    let c = &visitor.chrome;
    match state.app.reset_link_account(&token).await {
        Ok(Some((_, mfa))) => render(
            &ResetPage {
                c,
                token: &token,
                mfa,
                error: None,
            },
            StatusCode::OK,
            c.lang,
        ),
        Ok(None) => invalid_link(c),
        Err(e) => unavailable(c, &e),
    }
}

/// The reset form. (No `Debug`: it carries a password.)
#[derive(Deserialize)]
struct ResetForm {
    password: String,
    #[serde(default)]
    totp: String,
}

async fn reset(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> Response {
    let c = &visitor.chrome;
    if !same_origin(&headers) {
        return csrf_refused(c);
    }
    let totp = form.totp.trim();
    let result = state
        .app
        .reset_password(
            &visitor.origin.anonymous("password_reset"),
            PasswordReset {
                token: &token,
                password: &form.password,
                totp: (!totp.is_empty()).then_some(totp),
            },
        )
        .await;
    match result {
        Ok(()) => message(
            c,
            StatusCode::OK,
            "account.reset.done.title",
            "account.reset.done.body",
        ),
        Err(e) if e.code() == ErrorCode::NotFound => invalid_link(c),
        Err(e) if e.code() == ErrorCode::RateLimited => throttled(c),
        Err(e) if e.code() == ErrorCode::InvalidField => {
            let mfa = matches!(
                state.app.reset_link_account(&token).await,
                Ok(Some((_, true)))
            );
            render(
                &ResetPage {
                    c,
                    token: &token,
                    mfa,
                    error: Some(e.to_string()),
                },
                StatusCode::UNPROCESSABLE_ENTITY,
                c.lang,
            )
        }
        Err(e) => unavailable(c, &e),
    }
}

async fn unlock_page(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(token): Path<String>,
) -> Response {
    let c = &visitor.chrome;
    match state.app.unlock_link_is_live(&token).await {
        Ok(true) => render(&UnlockPage { c, token: &token }, StatusCode::OK, c.lang),
        Ok(false) => invalid_link(c),
        Err(e) => unavailable(c, &e),
    }
}

async fn unlock(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let c = &visitor.chrome;
    if !same_origin(&headers) {
        return csrf_refused(c);
    }
    match state
        .app
        .unlock_with_link(&visitor.origin.anonymous("unlock"), &token)
        .await
    {
        Ok(()) => message(
            c,
            StatusCode::OK,
            "account.unlock.done.title",
            "account.unlock.done.body",
        ),
        Err(e) if e.code() == ErrorCode::NotFound => invalid_link(c),
        Err(e) if e.code() == ErrorCode::RateLimited => {
            let secs = state
                .app
                .throttle
                .check(
                    visitor.origin.source_ip.as_deref(),
                    state.app.clock.now_ms(),
                )
                .err()
                .unwrap_or(60);
            let mut response = throttled(c);
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Err(e) => unavailable(c, &e),
    }
}

/// This area's console routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/account", get(account_page))
        .route("/account/password", post(change_password))
        .route("/account/sessions/{id}/end", post(end_session))
        .route("/account/api-tokens", post(create_api_token))
        .route(
            "/account/api-tokens/{org_id}/{token_id}/revoke",
            post(revoke_api_token),
        )
        .route("/account/mfa", get(mfa_page))
        .route("/account/mfa/start", post(start_mfa))
        .route("/account/mfa/confirm", post(confirm_mfa))
        .route("/account/mfa/remove", post(remove_mfa))
        .route("/forgot-password", get(forgot_page).post(forgot))
        .route("/reset-password/{token}", get(reset_page).post(reset))
        .route("/unlock/{token}", get(unlock_page).post(unlock))
}
