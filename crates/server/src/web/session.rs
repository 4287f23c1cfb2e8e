//! Session cookies, CSRF tokens, and the extractors that turn a request's credential (a session
//! cookie, or an `Authorization: Bearer` API token) into a [`Principal`].
//!
//! - The cookie is `__Host-latchkey_session` (Secure, so only over TLS) or `latchkey_session` on
//!   plain loopback HTTP; always `HttpOnly`, `SameSite=Lax`, `Path=/`, no `Domain`, no expiry
//!   attribute (the server decides when a session ends).
//! - CSRF: every state-changing request authenticated by the cookie must carry the session's CSRF
//!   token (`X-CSRF-Token` header for the API, `_csrf` form field for the console). The token is
//!   an HMAC of the session id, so it needs no storage and dies with the session (a token from an
//!   ended session never matches). Requests whose `Origin` is another site are refused as well.
//! - Bearer API tokens are not sent by browsers on their own, so they need no CSRF token.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use base64::Engine as _;
use latchkey_domain::ErrorCode;
use subtle::ConstantTimeEq as _;

use crate::app::{Actor, App};
use crate::identity::Principal;
use crate::web::WebState;
use crate::web::problem::{ApiError, Problem, current_request_id};

/// The cookie name over TLS: the `__Host-` prefix makes browsers refuse it unless Secure,
/// host-only and `Path=/`.
pub const SECURE_SESSION_COOKIE: &str = "__Host-latchkey_session";
/// The cookie name on plain loopback HTTP (browsers drop `__Host-` cookies without TLS).
pub const PLAIN_SESSION_COOKIE: &str = "latchkey_session";
/// The header that carries the CSRF token on API requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The purpose under which CSRF tokens are derived from session ids.
const CSRF_PURPOSE: &str = "csrf";

/// The session cookie's name for this deployment.
pub fn session_cookie_name(tls: bool) -> &'static str {
    if tls {
        SECURE_SESSION_COOKIE
    } else {
        PLAIN_SESSION_COOKIE
    }
}

/// `Set-Cookie` value that stores a new session id.
pub fn session_cookie(token: &str, tls: bool) -> HeaderValue {
    let secure = if tls { "; Secure" } else { "" };
    let text = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{secure}",
        session_cookie_name(tls)
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(tls: bool) -> HeaderValue {
    let secure = if tls { "; Secure" } else { "" };
    let text = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        session_cookie_name(tls)
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The CSRF token of a session.
pub fn csrf_token(app: &App, session_token: &str) -> String {
    let digest = app
        .store
        .keyring()
        .token_digest(CSRF_PURPOSE, session_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// True if `presented` is the session's CSRF token (compared in constant time).
pub fn csrf_matches(app: &App, session_token: &str, presented: &str) -> bool {
    let expected = csrf_token(app, session_token);
    expected.as_bytes().ct_eq(presented.as_bytes()).into()
}

/// False if the browser says the request comes from another site. `Sec-Fetch-Site` decides when
/// present (every current browser sends it): only `same-origin` and `none` (typed or bookmarked)
/// pass. Without it, an `Origin` must name this host; `Origin: null` (sent for forms under
/// `Referrer-Policy: no-referrer` by browsers without `Sec-Fetch-Site`) is refused. Requests
/// with neither header (non-browser clients, which carry no ambient cookie) pass.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

/// True for methods that change state.
pub fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Where the request comes from (for audit events and the per-IP throttle). The peer address
/// is used as is: `X-Forwarded-For` from an untrusted peer is ignored (research T12).
#[derive(Debug, Clone)]
pub struct Origin {
    /// The client IP.
    pub source_ip: Option<String>,
    /// The request id.
    pub request_id: Option<String>,
}

impl Origin {
    /// An anonymous actor from this origin.
    pub fn anonymous(&self, what: &str) -> Actor {
        Actor {
            id: format!("anonymous:{what}"),
            source_ip: self.source_ip.clone(),
            request_id: self.request_id.clone(),
        }
    }

    /// The actor for a principal calling from this origin.
    pub fn actor(&self, principal: &Principal) -> Actor {
        principal.actor(self.source_ip.clone(), self.request_id.clone())
    }
}

fn origin_of(parts: &Parts) -> Origin {
    Origin {
        source_ip: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string()),
        request_id: current_request_id(),
    }
}

impl FromRequestParts<WebState> for Origin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &WebState) -> Result<Self, Self::Rejection> {
        Ok(origin_of(parts))
    }
}

/// An authenticated API caller: a Bearer API token, or a session cookie plus — on
/// state-changing methods — the session's CSRF token in `X-CSRF-Token`.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// Who is calling.
    pub principal: Principal,
    /// The session id from the cookie, when the caller used one.
    pub session_token: Option<String>,
    /// Where from.
    pub origin: Origin,
}

impl ApiCaller {
    /// The audit actor.
    pub fn actor(&self) -> Actor {
        self.origin.actor(&self.principal)
    }
}

fn unauthenticated() -> ApiError {
    ApiError(Problem::new(
        ErrorCode::Unauthenticated,
        "sign in first, or send a valid API token as Authorization: Bearer",
    ))
}

fn csrf_refused() -> ApiError {
    ApiError(Problem::new(
        ErrorCode::Forbidden,
        "missing or invalid CSRF token: send the X-CSRF-Token header from GET /api/v1/me",
    ))
}

impl FromRequestParts<WebState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let origin = origin_of(parts);
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let bearer = auth
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .ok_or_else(unauthenticated)?;
            let principal = state
                .app
                .principal_from_api_token(bearer.trim())
                .await?
                .ok_or_else(unauthenticated)?;
            return Ok(ApiCaller {
                principal,
                session_token: None,
                origin,
            });
        }
        let token = cookie(&parts.headers, session_cookie_name(state.tls))
            .ok_or_else(unauthenticated)?
            .to_owned();
        let principal = state
            .app
            .principal_from_session(&token)
            .await?
            .ok_or_else(unauthenticated)?;
        if is_unsafe(&parts.method) {
            let presented = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !same_origin(&parts.headers) || !csrf_matches(&state.app, &token, presented) {
                return Err(csrf_refused());
            }
        }
        Ok(ApiCaller {
            principal,
            session_token: Some(token),
            origin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let h = headers(&[("cookie", "a=1; latchkey_session=abc; latchkey_session_x=2")]);
        assert_eq!(cookie(&h, "latchkey_session"), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn cross_site_requests_are_refused_and_same_site_ones_pass() {
        assert!(same_origin(&headers(&[])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(same_origin(&headers(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "null")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "null")
        ])));
    }

    #[test]
    fn cookie_attributes_follow_the_brief() {
        let secure = session_cookie("t", true);
        assert_eq!(
            secure.to_str().ok(),
            Some("__Host-latchkey_session=t; Path=/; HttpOnly; SameSite=Lax; Secure")
        );
        let plain = session_cookie("t", false);
        assert_eq!(
            plain.to_str().ok(),
            Some("latchkey_session=t; Path=/; HttpOnly; SameSite=Lax")
        );
    }
}
