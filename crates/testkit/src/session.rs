//! A signed-in API client: the session cookie and CSRF token from `POST /api/v1/auth/login`,
//! sent on every request the way a browser (or a script) would.

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use crate::server::TestServer;

/// An API session (cookie + CSRF token) or an API token.
#[derive(Debug, Clone)]
pub struct ApiSession {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The HTTP client.
    pub client: reqwest::Client,
    /// `Cookie` header value, for cookie sessions.
    pub cookie: Option<String>,
    /// The CSRF token of a cookie session.
    pub csrf: Option<String>,
    /// `Authorization: Bearer` token, for API-token callers.
    pub bearer: Option<String>,
}

impl ApiSession {
    /// Signs in through the API; fails unless the answer is 200 with a session cookie.
    pub async fn sign_in(
        server: &TestServer,
        email: &str,
        password: &str,
        totp: Option<&str>,
    ) -> anyhow::Result<Self> {
        let response = server
            .client
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password, "totp": totp }))
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::OK,
            "sign-in failed: {}",
            response.status()
        );
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("no session cookie"))?;
        let body: Value = response.json().await?;
        Ok(Self {
            base: server.base.clone(),
            client: server.client.clone(),
            cookie: Some(cookie),
            csrf: body
                .get("csrf_token")
                .and_then(Value::as_str)
                .map(str::to_owned),
            bearer: None,
        })
    }

    /// A caller that presents an API token.
    pub fn with_token(server: &TestServer, token: &str) -> Self {
        Self {
            base: server.base.clone(),
            client: server.client.clone(),
            cookie: None,
            csrf: None,
            bearer: Some(token.to_owned()),
        }
    }

    /// An anonymous caller (no cookie, no token).
    pub fn anonymous(server: &TestServer) -> Self {
        Self {
            base: server.base.clone(),
            client: server.client.clone(),
            cookie: None,
            csrf: None,
            bearer: None,
        }
    }

    /// A request with this caller's credentials (and the CSRF token on unsafe methods).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let unsafe_method = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
        let mut builder = self.client.request(method, format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            builder = builder.header("cookie", cookie);
        }
        if let (true, Some(csrf)) = (unsafe_method, &self.csrf) {
            builder = builder.header("x-csrf-token", csrf);
        }
        if let Some(bearer) = &self.bearer {
            builder = builder.bearer_auth(bearer);
        }
        builder
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> anyhow::Result<Response> {
        Ok(self.request(Method::GET, path).send().await?)
    }

    /// `method path` with a JSON body.
    pub async fn send(&self, method: Method, path: &str, body: Value) -> anyhow::Result<Response> {
        Ok(self.request(method, path).json(&body).send().await?)
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Response> {
        self.send(Method::POST, path, body).await
    }

    /// `method path`, then the status and the JSON body (`Null` when empty or not JSON).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut builder = self.request(method, path);
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        let response = builder.send().await?;
        let status = response.status();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }
}
