//! The HTTP surface of the real server: health, readiness, metrics, OpenAPI, problem+json errors,
//! security headers, request ids, body limits, TLS, the console shell, and garbage everywhere.

use latchkey_testkit::{TestDb, TestServer};
use reqwest::{Method, StatusCode};

on_both_backends!(server_is_live_and_ready);

async fn server_is_live_and_ready(db: TestDb) -> anyhow::Result<()> {
    let server = TestServer::start(db).await?;
    for path in ["/healthz", "/readyz"] {
        let response = server.client.get(server.url(path)).send().await?;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body: serde_json::Value = response.json().await?;
        assert_eq!(body["status"], "ok");
    }
    server.shutdown().await;
    Ok(())
}

async fn sqlite_server() -> anyhow::Result<TestServer> {
    TestServer::start(TestDb::sqlite()?).await
}

#[tokio::test]
async fn errors_are_problem_json_with_the_request_id() -> anyhow::Result<()> {
    let server = sqlite_server().await?;
    let response = server
        .client
        .get(server.url("/api/v1/no-such-thing"))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let request_id = response.headers()["x-request-id"].to_str()?.to_owned();
    let body: serde_json::Value = response.json().await?;
    assert_eq!(body["code"], "not_found");
    assert_eq!(body["status"], 404);
    assert_eq!(body["request_id"], request_id.as_str());
    assert!(body["type"].as_str().unwrap().ends_with("/not_found"));

    let response = server
        .client
        .delete(server.url("/api/v1/meta"))
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: serde_json::Value = response.json().await?;
    assert_eq!(body["code"], "method_not_allowed");
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn well_formed_client_request_ids_are_kept_and_others_replaced() -> anyhow::Result<()> {
    let server = sqlite_server().await?;
    let kept = server
        .client
        .get(server.url("/healthz"))
        .header("x-request-id", "lb-1234")
        .send()
        .await?;
    assert_eq!(kept.headers()["x-request-id"], "lb-1234");
    let replaced = server
        .client
        .get(server.url("/healthz"))
        .header("x-request-id", "evil\tINFO forged line")
        .send()
        .await?;
    assert_ne!(replaced.headers()["x-request-id"], "evil\tINFO forged line");
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn every_response_carries_the_security_headers() -> anyhow::Result<()> {
    let server = sqlite_server().await?;
    // HTML documents get the console's policy plus the document-only headers; everything else
    // gets the short API policy (OWASP REST cheat sheet), which allows no script at all.
    let documents = ["/", "/sign-in", "/nope"];
    let others = ["/healthz", "/metrics", "/api/v1/meta", "/api/v1/nope"];
    for (path, is_document) in documents
        .iter()
        .map(|p| (*p, true))
        .chain(others.iter().map(|p| (*p, false)))
    {
        let response = server.client.get(server.url(path)).send().await?;
        let h = response.headers();
        let content_type = h["content-type"].to_str()?;
        assert_eq!(
            content_type.starts_with("text/html"),
            is_document,
            "{path}: {content_type}"
        );
        let csp = h["content-security-policy"].to_str()?;
        assert!(csp.starts_with("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        if is_document {
            assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
            assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{path}");
            assert!(h.contains_key("permissions-policy"), "{path}");
        } else {
            assert_eq!(csp, "default-src 'none'; frame-ancestors 'none'", "{path}");
        }
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS over plain HTTP"
        );
    }
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn tls_serves_https_with_hsts() -> anyhow::Result<()> {
    let server = TestServer::start_with(TestDb::sqlite()?, |c| c.tls.self_signed = true).await?;
    assert!(server.base.starts_with("https://"));
    let response = server.client.get(server.url("/healthz")).send().await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()?
            .contains("max-age=")
    );
    // Plain HTTP to the TLS port does not get a page.
    let plain = reqwest::Client::new()
        .get(server.base.replace("https://", "http://") + "/healthz")
        .send()
        .await;
    assert!(plain.map(|r| r.status() != StatusCode::OK).unwrap_or(true));
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() -> anyhow::Result<()> {
    let server = sqlite_server().await?;
    server.client.get(server.url("/healthz")).send().await?;
    server.client.get(server.url("/api/v1/zzz")).send().await?;
    let text = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        text.contains(
            "latchkey_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("route=\"unmatched\",status=\"404\"} 1"),
        "{text}"
    );
    assert!(text.contains(
        "latchkey_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 1"
    ));
    assert!(text.contains("latchkey_build_info{version="));
    assert!(text.contains("latchkey_db_pool_connections "));
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn openapi_document_is_3_1_and_lists_the_api() -> anyhow::Result<()> {
    let server = sqlite_server().await?;
    let doc: serde_json::Value = server
        .client
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await?
        .json()
        .await?;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/api/v1/meta"]["get"].is_object());
    assert!(doc["paths"]["/readyz"]["get"]["responses"]["503"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let meta: serde_json::Value = server
        .client
        .get(server.url("/api/v1/meta"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(
        meta["server_time"], "2026-11-29T09:00:00Z",
        "time comes from the injected clock"
    );
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn oversized_bodies_get_413_problem_json() -> anyhow::Result<()> {
    let server =
        TestServer::start_with(TestDb::sqlite()?, |c| c.http.body_limit_bytes = 4096).await?;
    let response = server
        .client
        .post(server.url("/api/v1/meta"))
        .header("content-type", "application/json")
        .body(vec![b'x'; 10 * 1024 * 1024])
        .send()
        .await?;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = response.json().await?;
    assert_eq!(body["code"], "payload_too_large");
    server.shutdown().await;
    Ok(())
}

/// A request still unfinished at the timeout (here: a body that never arrives) is abandoned with
/// 408 problem+json, its request id and the security headers. The deadline counts from arrival.
#[tokio::test]
async fn slow_requests_get_408_problem_json() -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server =
        TestServer::start_with(TestDb::sqlite()?, |c| c.http.request_timeout_secs = 1).await?;
    let mut stream =
        tokio::net::TcpStream::connect(server.base.trim_start_matches("http://")).await?;
    let started = std::time::Instant::now();
    stream
        .write_all(
            b"POST /api/v1/auth/operator-setup HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\
              content-type: application/json\r\ncontent-length: 100\r\n\
              x-request-id: slow-1\r\n\r\n{\"tok",
        )
        .await?;
    let mut raw = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut raw),
    )
    .await??;
    let waited = started.elapsed();
    let raw = String::from_utf8(raw)?;
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let head = head.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 408"), "{head}");
    assert!(
        head.contains("content-type: application/problem+json"),
        "{head}"
    );
    assert!(head.contains("x-request-id: slow-1"), "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    let body: serde_json::Value = serde_json::from_str(body)?;
    assert_eq!(body["code"], "timeout");
    assert_eq!(body["status"], 408);
    assert_eq!(body["request_id"], "slow-1");
    assert!(
        waited >= std::time::Duration::from_millis(900) && waited.as_secs() < 10,
        "{waited:?}"
    );
    server.shutdown().await;
    Ok(())
}

/// What a subscriber wrote, for inspection.
#[derive(Clone, Default)]
struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CapturedLog {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// Every line logged while handling a request carries its id: the access line (INFO, or DEBUG
/// for probes) and lines the handler itself writes. The current-thread runtime keeps the server
/// on this thread, so the thread's default subscriber sees everything it logs.
#[tokio::test]
async fn every_log_line_of_a_request_carries_its_id() -> anyhow::Result<()> {
    let captured = CapturedLog::default();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(captured.clone())
        .event_format(latchkey_server::logging::HumanFormat::default())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = sqlite_server().await?;
    for (path, id) in [("/api/v1/nope", "log-me-1"), ("/healthz", "probe-1")] {
        server
            .client
            .get(server.url(path))
            .header("x-request-id", id)
            .send()
            .await?;
    }
    // A database that is gone makes the readiness handler log a warning of its own.
    server.app.store.close().await;
    let ready = server
        .client
        .get(server.url("/readyz"))
        .header("x-request-id", "ready-1")
        .send()
        .await?;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    server.shutdown().await;
    let text = String::from_utf8(captured.0.lock().unwrap().clone())?;
    let line = |needle: &str| text.lines().find(|l| l.contains(needle)).map(str::to_owned);
    let access = line("request{request_id=log-me-1}:").expect("access line");
    assert!(
        access.contains(" INFO ") && access.contains("status=404"),
        "{access}"
    );
    let probe = line("request{request_id=probe-1}:").expect("probe line");
    assert!(
        probe.contains("DEBUG") && probe.contains("route=\"/healthz\""),
        "{probe}"
    );
    let warned = line("readiness check failed").expect("handler line");
    assert!(
        warned.contains(" WARN request{request_id=ready-1}: "),
        "{warned}"
    );
    assert!(
        text.lines()
            .filter(|l| l.contains("request finished"))
            .all(|l| l.contains("request{request_id=")),
        "{text}"
    );
    Ok(())
}

#[tokio::test]
async fn console_landing_page_speaks_english_and_japanese() -> anyhow::Result<()> {
    let server = sqlite_server().await?;
    let en = server.client.get(server.url("/")).send().await?;
    assert_eq!(en.status(), StatusCode::OK);
    assert!(
        en.headers()["content-type"]
            .to_str()?
            .starts_with("text/html")
    );
    let html = en.text().await?;
    assert!(html.contains("<html lang=\"en\">") && html.contains("No operator yet"));
    assert!(!html.contains("<script"), "no inline script");
    let ja = server
        .client
        .get(server.url("/"))
        .header("accept-language", "ja-JP,ja;q=0.9,en;q=0.5")
        .send()
        .await?
        .text()
        .await?;
    assert!(ja.contains("<html lang=\"ja\">") && ja.contains("稼働状況"));
    // The stylesheet link is content-hashed and served with a long cache lifetime.
    let href = html
        .split("href=\"/assets/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let css = server
        .client
        .get(server.url(&format!("/assets/{href}")))
        .send()
        .await?;
    assert_eq!(css.status(), StatusCode::OK);
    assert!(
        css.headers()["cache-control"]
            .to_str()?
            .contains("immutable")
    );
    assert_eq!(
        server
            .client
            .get(server.url("/assets/other.css"))
            .send()
            .await?
            .status(),
        StatusCode::NOT_FOUND
    );
    let missing = server
        .client
        .get(server.url("/no/such/page"))
        .send()
        .await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await?.contains("Page not found"));
    server.shutdown().await;
    Ok(())
}

/// Garbage to every route with every method: never a 5xx, never a dropped connection.
#[tokio::test]
async fn garbage_to_every_route_never_gets_a_5xx() -> anyhow::Result<()> {
    let server =
        TestServer::start_with(TestDb::sqlite()?, |c| c.http.body_limit_bytes = 64 * 1024).await?;
    let long_path = format!("/{}", "a".repeat(8_000));
    let paths = [
        "/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/v1/meta",
        "/api/v1/openapi.json",
        "/api/v1/auth/operator-setup",
        "/assets/x.css",
        "/api/v1/",
        "/api/v1/%00",
        "/..%2f..%2fetc%2fpasswd",
        "/?lang=%ff%fe",
        "/?lang=xx-YY",
        "/assets/..%2f..%2fCargo.toml",
        long_path.as_str(),
    ];
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::HEAD,
    ];
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", b"{\"unterminated".to_vec()),
        ("application/json", vec![0xff, 0xfe, 0x00, 0x80]),
        ("text/plain", b"\0\r\n\x1b[31m".to_vec()),
        ("application/x-www-form-urlencoded", b"a=%zz&&=".to_vec()),
        ("application/json", vec![b'['; 100 * 1024]),
    ];
    let mut checked = 0;
    for path in paths {
        for method in &methods {
            for (content_type, body) in &bodies {
                let response = server
                    .client
                    .request(method.clone(), server.url(path))
                    .header("content-type", *content_type)
                    .header("accept-language", "ja;q=abc, ;;;,,*;q=-1")
                    .body(body.clone())
                    .send()
                    .await?;
                assert!(
                    response.status().as_u16() < 500,
                    "{method} {path} with {content_type} body answered {}",
                    response.status()
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, paths.len() * methods.len() * bodies.len());
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn graceful_shutdown_releases_the_port_and_closes_the_database() -> anyhow::Result<()> {
    let server = sqlite_server().await?;
    let base = server.base.clone();
    let store = server.app.store.clone();
    assert_eq!(
        server
            .client
            .get(server.url("/healthz"))
            .send()
            .await?
            .status(),
        StatusCode::OK
    );
    server.shutdown().await;
    assert!(
        reqwest::get(format!("{base}/healthz")).await.is_err(),
        "nothing listens after shutdown"
    );
    assert!(store.read().await.is_err(), "the pool is closed");
    Ok(())
}
