//! The baseline for the `/healthz` throughput benchmark (`scripts/bench-http`): a bare axum
//! server returning the same body as Latchkey's `/healthz`, with none of our layers.
//! Usage: `bare_healthz 127.0.0.1:18081`.

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".into());
    let app = axum::Router::new().route(
        "/healthz",
        axum::routing::get(|| async {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                r#"{"status":"ok"}"#,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await
}
