//! The baseline for the `/healthz` throughput benchmark (`scripts/bench-http`): a bare axum
//! server returning the same body as Latchkey's `/healthz`, with none of our layers.
//! With `--same-headers` it also sends, as constants, the headers Latchkey sends on every
//! non-HTML response (security headers, `Cache-Control`, a request id): the difference between the two
//! modes is what the size of the response alone costs, before any work to produce it.
//! Usage: `bare_healthz 127.0.0.1:18081 [--same-headers]`.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::IntoResponse;
use latchkey_server::web::security_headers::NON_DOCUMENT_CONTENT_SECURITY_POLICY;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:18081".into());
    let app = if args.next().as_deref() == Some("--same-headers") {
        // Built once, as Latchkey builds its own: validating and copying header values on every
        // request would make this reference slower than the real thing.
        let extra: Vec<(HeaderName, HeaderValue)> = [
            (
                header::CONTENT_SECURITY_POLICY,
                NON_DOCUMENT_CONTENT_SECURITY_POLICY,
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::CACHE_CONTROL, "no-store"),
            (
                HeaderName::from_static("x-request-id"),
                "01a2255c-8915-727a-8607-fc1724ae7191",
            ),
        ]
        .into_iter()
        .map(|(name, value)| (name, HeaderValue::from_static(value)))
        .collect();
        let extra = std::sync::Arc::new(extra);
        axum::Router::new().route(
            "/healthz",
            axum::routing::get(move || {
                let extra = extra.clone();
                async move {
                    let mut response = (
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"status":"ok"}"#,
                    )
                        .into_response();
                    let headers = response.headers_mut();
                    headers.reserve(extra.len());
                    for (name, value) in extra.iter() {
                        headers.insert(name.clone(), value.clone());
                    }
                    response
                }
            }),
        )
    } else {
        axum::Router::new().route(
            "/healthz",
            axum::routing::get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    r#"{"status":"ok"}"#,
                )
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await
}
