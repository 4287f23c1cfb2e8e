//! The admin console: server-rendered HTML (askama), no JavaScript build step, no inline script
//! (CSP), assets versioned by content hash and served by the binary, English and Japanese.

mod access;
mod account;
mod directory;
mod i18n;
mod orgs;
mod settings;
pub mod shell;
mod sign_in;
mod step_up;

use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts as _, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use latchkey_domain::time::rfc3339_utc;
use sha2::Digest as _;
use std::sync::OnceLock;

pub use i18n::{Lang, Messages};
pub use shell::{Chrome, ConsoleCaller, Visitor, render};

use crate::web::WebState;

/// A static file compiled into the binary.
struct Asset {
    stem: &'static str,
    extension: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const STYLESHEET: Asset = Asset {
    stem: "console",
    extension: "css",
    content_type: "text/css; charset=utf-8",
    body: include_str!("../../assets/console.css"),
};

const ICON: Asset = Asset {
    stem: "icon",
    extension: "svg",
    content_type: "image/svg+xml",
    body: include_str!("../../assets/icon.svg"),
};

impl Asset {
    /// `/assets/<stem>-<hash>.<ext>`: the content hash in the name lets browsers cache it forever.
    fn versioned_path(&self) -> String {
        let digest = sha2::Sha256::digest(self.body.as_bytes());
        let hash = hex::encode(digest.get(..6).unwrap_or_default());
        format!("/assets/{}-{hash}.{}", self.stem, self.extension)
    }
}

fn asset_paths() -> &'static [(String, &'static Asset); 2] {
    static PATHS: OnceLock<[(String, &'static Asset); 2]> = OnceLock::new();
    PATHS.get_or_init(|| {
        [
            (STYLESHEET.versioned_path(), &STYLESHEET),
            (ICON.versioned_path(), &ICON),
        ]
    })
}

/// The stylesheet's versioned path.
pub fn stylesheet_path() -> &'static str {
    let [(css, _), _] = asset_paths();
    css
}

/// The icon's versioned path (linked from every page, so browsers do not ask for /favicon.ico).
pub fn icon_path() -> &'static str {
    let [_, (icon, _)] = asset_paths();
    icon
}

#[derive(Template)]
#[template(path = "landing.html")]
struct LandingPage<'a> {
    c: &'a Chrome,
    database_ready: bool,
    operator_exists: bool,
    backend: &'a str,
    version: &'a str,
    server_time: String,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage<'a> {
    c: &'a Chrome,
}

async fn landing(State(state): State<WebState>, visitor: Visitor) -> Response {
    let page = LandingPage {
        c: &visitor.chrome,
        database_ready: state.app.store.ready().await.is_ok(),
        operator_exists: state.app.operator_exists().await.unwrap_or(false),
        backend: state.app.store.backend().as_str(),
        version: env!("CARGO_PKG_VERSION"),
        server_time: rfc3339_utc(state.app.clock.now_ms()),
    };
    render(&page, StatusCode::OK, visitor.chrome.lang)
}

/// Unknown console paths get an HTML 404 page; unknown API paths get problem+json.
pub(crate) async fn not_found(
    State(state): State<WebState>,
    uri: axum::http::Uri,
    request: axum::extract::Request,
) -> Response {
    if uri.path().starts_with("/api/") {
        return crate::web::problem::not_found().await.into_response();
    }
    let (mut parts, _) = request.into_parts();
    let visitor = match Visitor::from_request_parts(&mut parts, &state).await {
        Ok(v) => v,
        Err(response) => return response,
    };
    render(
        &NotFoundPage { c: &visitor.chrome },
        StatusCode::NOT_FOUND,
        visitor.chrome.lang,
    )
}

async fn asset(Path(name): Path<String>) -> Response {
    let wanted = format!("/assets/{name}");
    let Some((_, asset)) = asset_paths().iter().find(|(path, _)| *path == wanted) else {
        return crate::web::problem::not_found().await.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        asset.body,
    )
        .into_response()
}

/// Console routes.
pub(crate) fn routes() -> Router<WebState> {
    Router::new()
        .route("/", get(landing))
        .route("/assets/{name}", get(asset))
        .merge(sign_in::routes())
        .merge(settings::routes())
        .merge(step_up::routes())
        .merge(orgs::routes())
        .merge(account::routes())
        .merge(directory::routes())
        .merge(access::routes())
}
