//! The admin console: server-rendered HTML (askama), no JavaScript build step, no inline script
//! (CSP), assets versioned by content hash and served by the binary, English and Japanese.

mod i18n;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use askama::Template;
use latchkey_domain::time::rfc3339_utc;
use serde::Deserialize;
use sha2::Digest as _;
use std::sync::OnceLock;

pub use i18n::{Lang, Messages};

use crate::web::WebState;

const STYLESHEET: &str = include_str!("../../assets/console.css");

/// `/assets/console-<hash>.css`: the content hash in the name lets browsers cache it forever.
pub fn stylesheet_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        let digest = sha2::Sha256::digest(STYLESHEET.as_bytes());
        format!("/assets/console-{}.css", hex::encode(digest.get(..6).unwrap_or_default()))
    })
}

#[derive(Template)]
#[template(path = "landing.html")]
struct LandingPage<'a> {
    t: &'a Messages,
    stylesheet: &'a str,
    database_ready: bool,
    backend: &'a str,
    version: &'a str,
    server_time: String,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage<'a> {
    t: &'a Messages,
    stylesheet: &'a str,
}

/// `?lang=ja` overrides the browser's preference for this page.
#[derive(Debug, Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

fn render(template: &impl Template, status: StatusCode, lang: Lang) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = (status, Html(html)).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_LANGUAGE, HeaderValue::from_static(lang.code()));
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, Html("<!doctype html><title>Error</title><p>Internal error</p>".to_owned()))
                .into_response()
        }
    }
}

fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Lang {
    query
        .and_then(Lang::from_tag)
        .unwrap_or_else(|| Lang::from_accept_language(headers.get(header::ACCEPT_LANGUAGE)))
}

async fn landing(State(state): State<WebState>, Query(query): Query<LangQuery>, headers: HeaderMap) -> Response {
    let lang = negotiate(query.lang.as_deref(), &headers);
    let page = LandingPage {
        t: Messages::get(lang),
        stylesheet: stylesheet_path(),
        database_ready: state.app.store.ready().await.is_ok(),
        backend: state.app.store.backend().as_str(),
        version: env!("CARGO_PKG_VERSION"),
        server_time: rfc3339_utc(state.app.clock.now_ms()),
    };
    render(&page, StatusCode::OK, lang)
}

/// Unknown console paths get an HTML 404 page; unknown API paths get problem+json.
pub(crate) async fn not_found(uri: axum::http::Uri, headers: HeaderMap) -> Response {
    if uri.path().starts_with("/api/") {
        return crate::web::problem::not_found().await.into_response();
    }
    let lang = negotiate(None, &headers);
    render(
        &NotFoundPage {
            t: Messages::get(lang),
            stylesheet: stylesheet_path(),
        },
        StatusCode::NOT_FOUND,
        lang,
    )
}

async fn asset(Path(name): Path<String>) -> Response {
    if format!("/assets/{name}") != stylesheet_path() {
        return crate::web::problem::not_found().await.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// Console routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/", get(landing))
        .route("/assets/{name}", get(asset))
}
