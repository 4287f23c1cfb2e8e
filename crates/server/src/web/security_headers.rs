//! The static security headers every response carries (security.md "HSTS, CSP …"), built once
//! per process.

use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// The Content-Security-Policy: no inline script or style, nothing from other origins, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// The security headers every response carries, built once (security.md "HSTS, CSP …"): header
/// names outside the standard table are validated when built, so building them per request costs.
fn security_headers(tls: bool) -> &'static [(HeaderName, HeaderValue)] {
    static PLAIN: OnceLock<Vec<(HeaderName, HeaderValue)>> = OnceLock::new();
    static TLS: OnceLock<Vec<(HeaderName, HeaderValue)>> = OnceLock::new();
    let build = |tls: bool| {
        let mut headers = vec![
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
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
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                HeaderValue::from_static("same-origin"),
            ),
            (
                HeaderName::from_static("permissions-policy"),
                HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
            ),
        ];
        if tls {
            headers.push((
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=63072000; includeSubDomains"),
            ));
        }
        headers
    };
    if tls {
        TLS.get_or_init(|| build(true))
    } else {
        PLAIN.get_or_init(|| build(false))
    }
}

/// Adds the security headers, and `Cache-Control: no-store` unless the response chose a policy
/// (hashed assets are cached for a year).
pub(crate) fn add_security_headers(headers: &mut HeaderMap, tls: bool, is_asset: bool) {
    let wanted = security_headers(tls);
    // One growth of the map for these, Cache-Control and the request id, not several.
    headers.reserve(wanted.len() + 2);
    for (name, value) in wanted {
        headers.insert(name.clone(), value.clone());
    }
    if !is_asset && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}
