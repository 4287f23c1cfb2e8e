//! Real headless Chromium over WebDriver (Debian `chromium` + `chromium-driver`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;

/// A chromedriver process and a browser session on it. Dropping it kills chromedriver.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn binary(var: &str, default: &str) -> Option<String> {
    let path = std::env::var(var).unwrap_or_else(|_| default.to_owned());
    std::path::Path::new(&path).exists().then_some(path)
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session, or `None` (skip) when they are not
    /// installed and not required.
    pub async fn start() -> anyhow::Result<Option<Self>> {
        let (Some(driver_bin), Some(chromium)) = (
            binary("LATCHKEY_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"),
            binary("LATCHKEY_TEST_CHROMIUM", "/usr/bin/chromium"),
        ) else {
            return crate::missing_service("chromium + chromedriver");
        };
        let port = free_port()?;
        // Its own process group, so that ending it also ends the Chromium it started even when a
        // test fails before closing the session.
        let driver = std::os::unix::process::CommandExt::process_group(
            Command::new(driver_bin)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            0,
        )
        .spawn()?;
        let mut browser_guard = DriverGuard(Some(driver));
        let profile = tempfile::tempdir()?;
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        caps.insert(
            "goog:loggingPrefs".into(),
            serde_json::json!({ "browser": "ALL" }),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            // chromedriver speaks plain HTTP on loopback: no TLS stack needed for WebDriver.
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() > deadline => {
                    anyhow::bail!("chromedriver did not accept a session: {e}")
                }
                // chromedriver is still starting: poll its port (a bounded wait on a real
                // process, not a timing assumption in the code under test).
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Ok(Some(Self {
            client,
            driver: browser_guard
                .0
                .take()
                .ok_or_else(|| anyhow::anyhow!("driver lost"))?,
            _profile: profile,
        }))
    }

    /// The browser console's entries at level SEVERE (errors, CSP violations) since the last call.
    pub async fn console_errors(&self) -> anyhow::Result<Vec<String>> {
        let logs = self.client.issue_cmd(BrowserLog).await?;
        Ok(logs
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e.get("level").and_then(|l| l.as_str()) == Some("SEVERE"))
                    .map(|e| {
                        e.get("message")
                            .and_then(|m| m.as_str())
                            .unwrap_or("")
                            .to_owned()
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Ends the session and chromedriver.
    pub async fn close(self) -> anyhow::Result<()> {
        self.client.clone().close().await?;
        Ok(())
    }
}

/// Ends chromedriver's whole process group (chromedriver and every Chromium process).
fn end_process_group(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-KILL")
        .arg("--")
        .arg(format!("-{}", child.id()))
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Browser {
    fn drop(&mut self) {
        end_process_group(&mut self.driver);
    }
}

struct DriverGuard(Option<Child>);

impl Drop for DriverGuard {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            end_process_group(child);
        }
    }
}

/// chromedriver's log endpoint (`POST /session/{id}/se/log`), which W3C WebDriver lacks.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}
