//! The static security headers every response carries (security.md "HSTS, CSP …"), built once
//! per process.
//!
//! Two sets, chosen by the response's content type. HTML documents get the full policy: the
//! console's CSP, `Cross-Origin-Opener-Policy` and `Permissions-Policy`, which only documents
//! can use. Everything else (JSON, problem+json, metrics, assets) gets the short policy the OWASP
//! REST Security Cheat Sheet recommends for API responses: `default-src 'none'` (no script of any
//! kind, stricter than the document policy in every directive) with `frame-ancestors 'none'`,
//! plus nosniff, `Referrer-Policy`, `X-Frame-Options` and HSTS. Browsers ignore COOP, the
//! Permissions-Policy and the CSP's other directives on a non-document, so sending them there
//! only made every API and probe response ~250 bytes larger (the last gap of the `/healthz`
//! benchmark, see README "Performance").

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// The Content-Security-Policy of HTML documents: no inline script or style, nothing from other
/// origins, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The Content-Security-Policy of every other response: nothing may load, nothing may frame it.
pub const NON_DOCUMENT_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Which set of headers a response gets.
#[derive(Clone, Copy)]
enum Kind {
    Document,
    NonDocument,
}

/// The security headers for one kind of response, built once: header names outside the
/// standard table are validated when built, so building them per request costs.
fn security_headers(kind: Kind, tls: bool) -> &'static [(HeaderName, HeaderValue)] {
    type Set = OnceLock<Vec<(HeaderName, HeaderValue)>>;
    static DOCUMENT: Set = OnceLock::new();
    static DOCUMENT_TLS: Set = OnceLock::new();
    static NON_DOCUMENT: Set = OnceLock::new();
    static NON_DOCUMENT_TLS: Set = OnceLock::new();
    let build = || {
        let csp = match kind {
            Kind::Document => CONTENT_SECURITY_POLICY,
            Kind::NonDocument => NON_DOCUMENT_CONTENT_SECURITY_POLICY,
        };
        let mut headers = vec![
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(csp),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        ];
        if matches!(kind, Kind::Document) {
            headers.push((
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ));
            headers.push((
                HeaderName::from_static("permissions-policy"),
                HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
            ));
        }
        if tls {
            headers.push((
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=63072000; includeSubDomains"),
            ));
        }
        headers
    };
    let set = match (kind, tls) {
        (Kind::Document, false) => &DOCUMENT,
        (Kind::Document, true) => &DOCUMENT_TLS,
        (Kind::NonDocument, false) => &NON_DOCUMENT,
        (Kind::NonDocument, true) => &NON_DOCUMENT_TLS,
    };
    set.get_or_init(build)
}

/// True when the response is an HTML document (the only kind a browser renders with scripts).
fn is_document(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .get(..9)
                .is_some_and(|start| start.eq_ignore_ascii_case("text/html"))
        })
}

/// Adds the security headers, and `Cache-Control: no-store` unless the response chose a policy
/// (hashed assets are cached for a year).
pub(crate) fn add_security_headers(headers: &mut HeaderMap, tls: bool, is_asset: bool) {
    let kind = if is_document(headers) {
        Kind::Document
    } else {
        Kind::NonDocument
    };
    let wanted = security_headers(kind, tls);
    // One growth of the map for these, Cache-Control and the request id, not several.
    headers.reserve(wanted.len() + 2);
    for (name, value) in wanted {
        headers.insert(name.clone(), value.clone());
    }
    if !is_asset && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}
