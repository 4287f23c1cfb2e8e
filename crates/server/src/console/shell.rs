//! What every console page shares: the page chrome (language, assets, who is signed in, the
//! navigation, the CSRF token for forms) and the extractors that build it.
//!
//! - [`Visitor`]: any request; knows the signed-in caller if there is one.
//! - [`ConsoleCaller`]: a signed-in caller; anyone else is sent to `/sign-in?next=…`.
//! - Forms that change state carry the session's CSRF token in a hidden `_csrf` field
//!   ([`ConsoleCaller::check_csrf`]); forms used before signing in (sign-in, set password,
//!   forgot password) are guarded by the same-origin check and `SameSite=Lax` instead, since no
//!   session exists yet to bind a token to.

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::app::ServiceError;
use crate::console::i18n::{Lang, Messages};
use crate::console::{icon_path, stylesheet_path};
use crate::identity::Principal;
use crate::web::WebState;
use crate::web::session::{Origin, cookie, csrf_matches, csrf_token, session_cookie_name};
use latchkey_domain::identity::Role;

/// The signed-in person, as the navigation shows them.
#[derive(Debug, Clone)]
pub struct NavUser {
    /// Display name.
    pub name: String,
    /// Platform operator.
    pub operator: bool,
    /// Admin or operator without two-step verification: every page says so.
    pub needs_mfa: bool,
    /// The organisation the directory and access links point at, if the person's role there
    /// reaches any of them.
    pub org: Option<OrgNav>,
}

/// Which directory and access pages of one organisation the navigation offers.
#[derive(Debug, Clone)]
pub struct OrgNav {
    /// The organisation's id.
    pub id: String,
    /// Org admin: sites, people and groups.
    pub admin: bool,
    /// Admin, space manager or device owner: devices (and sites for managers).
    pub directory: bool,
}

impl OrgNav {
    /// The organisation in the path (`/orgs/<id>/…`) when the person belongs to it, else the
    /// first where their role reaches furthest.
    fn pick(path: &str, orgs: &[(latchkey_domain::tenancy::Organisation, Role)]) -> Option<Self> {
        let in_path = path
            .strip_prefix("/orgs/")
            .and_then(|rest| rest.split('/').next());
        let chosen = orgs
            .iter()
            .find(|(o, _)| in_path.is_some_and(|id| o.id.to_string() == id))
            .or_else(|| orgs.iter().max_by_key(|(_, role)| *role))?;
        let (org, role) = chosen;
        Some(Self {
            id: org.id.to_string(),
            admin: role.is_admin(),
            directory: matches!(
                role,
                Role::OrgAdmin | Role::SpaceManager | Role::DeviceOwner
            ),
        })
    }
}

/// The parts of a page that come from the request rather than the page.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The page language.
    pub lang: Lang,
    messages: &'static Messages,
    /// Versioned stylesheet path.
    pub stylesheet: &'static str,
    /// Versioned icon path.
    pub icon: &'static str,
    /// Who is signed in, if anyone.
    pub user: Option<NavUser>,
    /// The session's CSRF token for forms (empty when signed out).
    pub csrf: String,
}

impl Chrome {
    /// The message for `key` in the page language.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.messages.text(key)
    }

    /// The language code (`en`, `ja`).
    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }
}

/// Picks the page language: `?lang=` first, then `Accept-Language`.
pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Lang {
    let from_query = query.and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "lang")
            .and_then(|(_, v)| Lang::from_tag(v))
    });
    from_query.unwrap_or_else(|| Lang::from_accept_language(headers.get(header::ACCEPT_LANGUAGE)))
}

/// Renders a page with a status; a template failure becomes a plain 500 page (and a log line).
pub fn render(template: &impl Template, status: StatusCode, lang: Lang) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            response.headers_mut().insert(
                header::CONTENT_LANGUAGE,
                HeaderValue::from_static(lang.code()),
            );
            // Pages may show personal data: never cache them anywhere.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Error</title><p>Internal error</p>".to_owned()),
            )
                .into_response()
        }
    }
}

/// A page that only says something (errors, confirmations).
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    /// Chrome.
    pub c: &'a Chrome,
    /// Catalog key of the title.
    pub title: &'a str,
    /// Catalog key of the text.
    pub body: &'a str,
}

/// Renders a [`MessagePage`].
pub fn message(c: &Chrome, status: StatusCode, title: &str, body: &str) -> Response {
    render(&MessagePage { c, title, body }, status, c.lang)
}

/// The HTTP status of a service refusal, for a page that shows it.
pub fn status_of(e: &ServiceError) -> StatusCode {
    StatusCode::from_u16(e.code().http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The page for a store failure (logged with the request id; the visitor learns nothing more).
pub fn unavailable(c: &Chrome, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %error, "console page failed");
    message(
        c,
        StatusCode::SERVICE_UNAVAILABLE,
        "error.unavailable.title",
        "error.unavailable.body",
    )
}

/// The one answer for unknown, used, expired, tampered and cross-tenant links.
pub fn invalid_link(c: &Chrome) -> Response {
    message(
        c,
        StatusCode::NOT_FOUND,
        "error.link.title",
        "error.link.body",
    )
}

/// A form refused for a missing or wrong CSRF token, or sent from another site.
pub fn csrf_refused(c: &Chrome) -> Response {
    message(
        c,
        StatusCode::FORBIDDEN,
        "error.csrf.title",
        "error.csrf.body",
    )
}

/// Too many failed attempts from the visitor's address.
pub fn throttled(c: &Chrome) -> Response {
    message(
        c,
        StatusCode::TOO_MANY_REQUESTS,
        "account.throttled.title",
        "sign_in.throttled",
    )
}

/// A redirect that also sets a new session cookie (sign-in, step-up, password change).
pub fn redirect_with_session(to: &str, token: &str, tls: bool) -> Response {
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        crate::web::session::session_cookie(token, tls),
    );
    response
}

/// Any visitor of a console page.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The page chrome.
    pub chrome: Chrome,
    /// The signed-in caller, if any.
    pub principal: Option<Principal>,
    /// The session id from the cookie, when signed in.
    pub session_token: Option<String>,
    /// Where the request comes from.
    pub origin: Origin,
    /// The path and query, to come back to after signing in.
    pub here: String,
}

impl FromRequestParts<WebState> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let lang = negotiate(parts.uri.query(), &parts.headers);
        let origin = Origin::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        let token = cookie(&parts.headers, session_cookie_name(state.tls)).map(str::to_owned);
        let principal = match &token {
            Some(token) => state
                .app
                .principal_from_session(token)
                .await
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "session lookup failed");
                    None
                }),
            None => None,
        };
        let session_token = token.filter(|_| principal.is_some());
        let user = match &principal {
            Some(p) => {
                let orgs = state.app.my_organisations(p).await.unwrap_or_default();
                let admin_somewhere = orgs.iter().any(|(_, role)| role.is_admin());
                Some(NavUser {
                    name: p.name.clone(),
                    operator: p.is_operator,
                    needs_mfa: (p.is_operator || admin_somewhere) && !p.mfa_enrolled,
                    org: OrgNav::pick(parts.uri.path(), &orgs),
                })
            }
            None => None,
        };
        let chrome = Chrome {
            lang,
            messages: Messages::get(lang),
            stylesheet: stylesheet_path(),
            icon: icon_path(),
            user,
            csrf: session_token
                .as_deref()
                .map(|t| csrf_token(&state.app, t))
                .unwrap_or_default(),
        };
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned());
        Ok(Visitor {
            chrome,
            principal,
            session_token,
            origin,
            here,
        })
    }
}

/// A signed-in console caller.
#[derive(Debug, Clone)]
pub struct ConsoleCaller {
    /// The page chrome.
    pub chrome: Chrome,
    /// Who is signed in.
    pub principal: Principal,
    /// The session id from the cookie.
    pub session_token: String,
    /// Where the request comes from.
    pub origin: Origin,
}

impl ConsoleCaller {
    /// Refuses a form whose `_csrf` field is not this session's token (403 page).
    #[allow(clippy::result_large_err)]
    pub fn check_csrf(&self, state: &WebState, presented: &str) -> Result<(), Response> {
        if csrf_matches(&state.app, &self.session_token, presented) {
            Ok(())
        } else {
            Err(csrf_refused(&self.chrome))
        }
    }

    /// The audit actor.
    pub fn actor(&self) -> crate::app::Actor {
        self.origin.actor(&self.principal)
    }
}

/// Only same-site paths are followed after sign-in (no open redirect).
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        // Browsers drop tabs and newlines inside URLs ("/\t/evil" becomes "//evil") and read
        // "\" as "/", so any control character or backslash disqualifies the path.
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n
        }
        _ => "/home",
    }
}

impl FromRequestParts<WebState> for ConsoleCaller {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let visitor = Visitor::from_request_parts(parts, state).await?;
        match (visitor.principal, visitor.session_token) {
            (Some(principal), Some(session_token)) => Ok(ConsoleCaller {
                chrome: visitor.chrome,
                principal,
                session_token,
                origin: visitor.origin,
            }),
            _ => {
                let next: String = url_encode(&visitor.here);
                Err(Redirect::to(&format!("/sign-in?next={next}")).into_response())
            }
        }
    }
}

/// Percent-encodes everything but unreserved characters (for a path inside a query value).
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/orgs/1/people?page=2")),
            "/orgs/1/people?page=2"
        );
        assert_eq!(safe_next(Some("//evil.example/")), "/home");
        assert_eq!(safe_next(Some("https://evil.example/")), "/home");
        assert_eq!(safe_next(Some("/\\evil.example")), "/home");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/home");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/home");
        assert_eq!(safe_next(None), "/home");
    }

    #[test]
    fn paths_survive_a_query_value() {
        assert_eq!(url_encode("/a b?x=1&y"), "/a%20b%3Fx%3D1%26y");
    }
}
