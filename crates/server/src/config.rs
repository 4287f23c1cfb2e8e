//! Configuration: one TOML file, then `LATCHKEY_*` environment variables, then command-line flags,
//! each overriding the one before (defaults < file < env < flags). Secrets may come from files
//! (`master_key_file`, `database_url_file`) so they stay out of the environment and the TOML.
//! Unknown keys and bad values are errors that name the key and say what is allowed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Environment variables with our prefix that are not configuration keys (test harness and CLI).
const NON_CONFIG_ENV: &[&str] = &["config", "require_services"];

/// Bounds for the HTTP body limit, in bytes.
pub const BODY_LIMIT_BOUNDS: (u64, u64) = (1024, 64 * 1024 * 1024);
/// Bounds for the request timeout, in seconds.
pub const TIMEOUT_BOUNDS: (u64, u64) = (1, 300);
/// Allowed `http.import_timeout_secs`: half a minute to an hour.
pub const IMPORT_TIMEOUT_BOUNDS: (u64, u64) = (30, 3_600);
/// Bounds for the audit checkpoint interval, in seconds.
pub const CHECKPOINT_BOUNDS: (u64, u64) = (60, 86_400);

/// The effective configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the SQLite database, master key, mail files and backups live.
    pub data_dir: PathBuf,
    /// Address to listen on. Plain HTTP is allowed on loopback only.
    pub listen: SocketAddr,
    /// `sqlite://…` or `postgres://…`; default: `sqlite://<data_dir>/latchkey.db`.
    pub database_url: Option<String>,
    /// A file holding the database URL (keeps the password out of env and TOML).
    pub database_url_file: Option<PathBuf>,
    /// The master key as 64 hex digits (prefer `master_key_file`).
    pub master_key: Option<String>,
    /// The master key file; default `<data_dir>/master.key`, created on first start.
    pub master_key_file: Option<PathBuf>,
    /// TLS settings.
    pub tls: TlsConfig,
    /// Log settings.
    pub log: LogConfig,
    /// HTTP limits.
    pub http: HttpConfig,
    /// Audit log settings.
    pub audit: AuditConfig,
    /// Outgoing mail.
    pub mail: MailConfig,
}

/// TLS: certificate files, or a self-signed certificate for evaluation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert: Option<PathBuf>,
    /// PEM private key.
    pub key: Option<PathBuf>,
    /// Generate (once, in the data dir) and use a self-signed certificate.
    pub self_signed: bool,
}

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// Logging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `human` or `json`.
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `latchkey_server=debug,info`.
    pub level: String,
}

/// HTTP limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Largest request body accepted.
    pub body_limit_bytes: u64,
    /// Requests running longer are abandoned with 408.
    pub request_timeout_secs: u64,
    /// The same for CSV imports (`…/imports`), which check and write a whole file in one
    /// transaction: thousands of invitations, each with its e-mail and audit event.
    pub import_timeout_secs: u64,
    /// The address people use to reach the console (`https://keys.example.com`), used in the
    /// links of invitation, reset and unlock e-mails. Default: the listen address.
    pub public_url: Option<String>,
}

/// Audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// How often a signed checkpoint is written on every chain.
    pub checkpoint_interval_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./latchkey-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            database_url_file: None,
            master_key: None,
            master_key_file: None,
            tls: TlsConfig::default(),
            log: LogConfig::default(),
            http: HttpConfig::default(),
            audit: AuditConfig::default(),
            mail: MailConfig::default(),
        }
    }
}

/// How mail leaves the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailTransportKind {
    /// `.eml` files in `mail.dir` (the single-machine default; nothing leaves the host).
    #[default]
    Files,
    /// An SMTP relay.
    Smtp,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (required), usually port 587.
    #[default]
    Starttls,
    /// TLS from the first byte ("SMTPS"), usually port 465.
    Tls,
    /// No TLS — allowed only to a loopback relay.
    None,
}

/// Outgoing mail (invitations, lock notices, resets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// `files` or `smtp`.
    pub transport: MailTransportKind,
    /// Sender, e.g. `Latchkey <no-reply@example.com>`.
    pub from: String,
    /// Where the files transport writes; default `<data_dir>/mail`.
    pub dir: Option<PathBuf>,
    /// SMTP relay host.
    pub smtp_host: Option<String>,
    /// SMTP port; default 587 (starttls), 465 (tls), 25 (none).
    pub smtp_port: Option<u16>,
    /// `starttls`, `tls` or `none` (loopback only).
    pub smtp_security: SmtpSecurity,
    /// SMTP user name.
    pub smtp_username: Option<String>,
    /// SMTP password (prefer `smtp_password_file`).
    pub smtp_password: Option<String>,
    /// A file holding the SMTP password.
    pub smtp_password_file: Option<PathBuf>,
    /// How often the delivery worker looks for due mail.
    pub poll_interval_secs: u64,
}

/// Bounds for the mail poll interval, in seconds.
pub const MAIL_POLL_BOUNDS: (u64, u64) = (1, 3600);

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            transport: MailTransportKind::Files,
            from: "Latchkey <latchkey@localhost>".into(),
            dir: None,
            smtp_host: None,
            smtp_port: None,
            smtp_security: SmtpSecurity::Starttls,
            smtp_username: None,
            smtp_password: None,
            smtp_password_file: None,
            poll_interval_secs: 10,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            level: "info".into(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            request_timeout_secs: 30,
            import_timeout_secs: 600,
            public_url: None,
        }
    }
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            checkpoint_interval_secs: 3600,
        }
    }
}

/// Values given as command-line flags; `None` leaves the lower layers' value.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlagOverrides {
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--log-format`.
    #[serde(skip_serializing_if = "Option::is_none", rename = "log.format")]
    pub log_format: Option<LogFormat>,
    /// `--tls-cert`.
    #[serde(skip_serializing_if = "Option::is_none", rename = "tls.cert")]
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key`.
    #[serde(skip_serializing_if = "Option::is_none", rename = "tls.key")]
    pub tls_key: Option<PathBuf>,
    /// `--tls-self-signed`.
    #[serde(skip_serializing_if = "Option::is_none", rename = "tls.self_signed")]
    pub tls_self_signed: Option<bool>,
}

/// A configuration problem, naming the key and what is allowed.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// Where the configuration comes from.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// The TOML file, if any (`--config` / `LATCHKEY_CONFIG`).
    pub file: Option<PathBuf>,
    /// Environment variables (normally `std::env::vars()`; tests pass their own).
    pub env: Vec<(String, String)>,
    /// Command-line flags.
    pub flags: FlagOverrides,
}

impl Config {
    /// Loads defaults < file < env < flags and validates the result.
    pub fn load(sources: &ConfigSources) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = &sources.file {
            if !file.is_file() {
                return Err(ConfigError(format!(
                    "config file {} does not exist or is not a file",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        for (key, value) in env_pairs(&sources.env)? {
            figment = figment.merge(Serialized::global(&key, value));
        }
        for (key, value) in flag_pairs(&sources.flags)? {
            figment = figment.merge(Serialized::global(&key, value));
        }
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError(describe(e, sources.file.as_deref())))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bounded = |key: &str, value: u64, (lo, hi): (u64, u64)| {
            if (lo..=hi).contains(&value) {
                Ok(())
            } else {
                Err(ConfigError(format!(
                    "{key} = {value} is out of range: allowed {lo} to {hi}"
                )))
            }
        };
        bounded(
            "http.body_limit_bytes",
            self.http.body_limit_bytes,
            BODY_LIMIT_BOUNDS,
        )?;
        bounded(
            "http.request_timeout_secs",
            self.http.request_timeout_secs,
            TIMEOUT_BOUNDS,
        )?;
        bounded(
            "http.import_timeout_secs",
            self.http.import_timeout_secs,
            IMPORT_TIMEOUT_BOUNDS,
        )?;
        bounded(
            "audit.checkpoint_interval_secs",
            self.audit.checkpoint_interval_secs,
            CHECKPOINT_BOUNDS,
        )?;
        if let Some(url) = &self.http.public_url {
            let shape_ok = (url.starts_with("https://") || url.starts_with("http://"))
                && !url.ends_with('/')
                && url.split("://").nth(1).is_some_and(|rest| {
                    !rest.is_empty() && !rest.contains(['/', '?', '#', ' ', '@'])
                });
            if !shape_ok {
                return Err(ConfigError(format!(
                    "http.public_url = {url:?} is not an origin: use e.g. \"https://keys.example.com\" \
                     (scheme and host, optional port, no path or trailing slash)"
                )));
            }
        }
        if self.database_url.is_some() && self.database_url_file.is_some() {
            return Err(ConfigError(
                "database_url and database_url_file are both set: keep one".into(),
            ));
        }
        if self.master_key.is_some() && self.master_key_file.is_some() {
            return Err(ConfigError(
                "master_key and master_key_file are both set: keep one".into(),
            ));
        }
        match (&self.tls.cert, &self.tls.key, self.tls.self_signed) {
            (Some(_), None, _) => {
                return Err(ConfigError(
                    "tls.cert is set but tls.key is not: give both PEM files".into(),
                ));
            }
            (None, Some(_), _) => {
                return Err(ConfigError(
                    "tls.key is set but tls.cert is not: give both PEM files".into(),
                ));
            }
            (Some(_), Some(_), true) => {
                return Err(ConfigError(
                    "tls.self_signed cannot be combined with tls.cert/tls.key: choose one".into(),
                ));
            }
            _ => {}
        }
        if !self.tls_enabled() && !self.listen.ip().is_loopback() {
            return Err(ConfigError(format!(
                "listen = {} is not a loopback address and TLS is off: plain HTTP is allowed only on \
                 127.0.0.1/::1. Give --tls-cert and --tls-key (or --tls-self-signed for evaluation), \
                 or listen on 127.0.0.1 behind a TLS-terminating proxy",
                self.listen
            )));
        }
        bounded(
            "mail.poll_interval_secs",
            self.mail.poll_interval_secs,
            MAIL_POLL_BOUNDS,
        )?;
        self.validate_mail()?;
        if self.log.level.trim().is_empty() {
            return Err(ConfigError(
                "log.level must not be empty (e.g. \"info\")".into(),
            ));
        }
        Ok(())
    }

    fn validate_mail(&self) -> Result<(), ConfigError> {
        let mail = &self.mail;
        if mail.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError(format!(
                "mail.from = {:?} is not a mailbox: use e.g. \"Latchkey <no-reply@example.com>\"",
                mail.from
            )));
        }
        if mail.smtp_password.is_some() && mail.smtp_password_file.is_some() {
            return Err(ConfigError(
                "mail.smtp_password and mail.smtp_password_file are both set: keep one".into(),
            ));
        }
        if mail.transport != MailTransportKind::Smtp {
            return Ok(());
        }
        let Some(host) = mail.smtp_host.as_deref().filter(|h| !h.trim().is_empty()) else {
            return Err(ConfigError(
                "mail.transport = \"smtp\" needs mail.smtp_host (the relay's host name)".into(),
            ));
        };
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if mail.smtp_security == SmtpSecurity::None && !loopback {
            return Err(ConfigError(format!(
                "mail.smtp_security = \"none\" sends mail unencrypted and is allowed only to a loopback \
                 relay, not {host}: use \"starttls\" (port 587) or \"tls\" (port 465)"
            )));
        }
        Ok(())
    }

    /// The mail directory of the files transport.
    pub fn mail_dir(&self) -> PathBuf {
        self.mail
            .dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("mail"))
    }

    /// The SMTP password in effect (reading `smtp_password_file` if set).
    pub fn smtp_password(&self) -> Result<Option<String>, ConfigError> {
        if let Some(path) = &self.mail.smtp_password_file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError(format!("mail.smtp_password_file {}: {e}", path.display()))
            })?;
            return Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()));
        }
        Ok(self.mail.smtp_password.clone())
    }

    /// True when the server terminates TLS itself.
    pub fn tls_enabled(&self) -> bool {
        self.tls.self_signed || self.tls.cert.is_some()
    }

    /// The master key file in effect.
    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    /// The database URL in effect (reading `database_url_file` if set).
    pub fn effective_database_url(&self) -> Result<String, ConfigError> {
        if let Some(path) = &self.database_url_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ConfigError(format!("database_url_file {}: {e}", path.display())))?;
            return Ok(text.trim().to_owned());
        }
        Ok(self
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("latchkey.db").display())))
    }

    /// The configuration as TOML with secrets replaced by `***`.
    pub fn redacted_toml(&self) -> String {
        let mut shown = self.clone();
        if shown.master_key.is_some() {
            shown.master_key = Some("***".into());
        }
        if shown.mail.smtp_password.is_some() {
            shown.mail.smtp_password = Some("***".into());
        }
        if let Some(url) = &shown.database_url {
            shown.database_url = Some(
                latchkey_store::StoreUrl::parse(url)
                    .map(|u| u.to_string())
                    .unwrap_or_else(|_| "***".into()),
            );
        }
        toml_like(&shown)
    }
}

/// Turns `LATCHKEY_*` variables into (key path, value) pairs: `LATCHKEY_HTTP__BODY_LIMIT_BYTES`
/// → `http.body_limit_bytes`. A variable that names no configuration key is an error, so a typo
/// is not silently ignored.
fn env_pairs(
    vars: &[(String, String)],
) -> Result<Vec<(String, figment::value::Value)>, ConfigError> {
    let known = known_keys();
    let mut pairs = Vec::new();
    for (name, raw) in vars {
        let Some(rest) = name.strip_prefix("LATCHKEY_") else {
            continue;
        };
        let path = rest.to_ascii_lowercase().replace("__", ".");
        if NON_CONFIG_ENV.contains(&path.as_str()) || path.starts_with("test_") {
            continue;
        }
        let Some((_, textual)) = known.iter().find(|(k, _)| *k == path) else {
            let names: Vec<&str> = known.iter().map(|(k, _)| k.as_str()).collect();
            return Err(ConfigError(format!(
                "environment variable {name} names no configuration key `{path}`; known keys: {}",
                names.join(", ")
            )));
        };
        // Text keys keep the raw text (a hex key of all digits must not become a number); others
        // go through figment's parser, which reads numbers and booleans.
        let value = if *textual {
            figment::value::Value::from(raw.clone())
        } else {
            raw.parse::<figment::value::Value>()
                .unwrap_or_else(|never| match never {})
        };
        pairs.push((path, value));
    }
    Ok(pairs)
}

/// Every key path of the configuration (`listen`, `http.body_limit_bytes`, …) and whether its
/// value is text (strings, paths, addresses, and the unset options, which are all text).
fn known_keys() -> Vec<(String, bool)> {
    let textual = |v: &serde_json::Value| !(v.is_number() || v.is_boolean());
    let mut keys = Vec::new();
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(Config::default()) {
        for (key, value) in map {
            match value {
                serde_json::Value::Object(inner) => {
                    keys.extend(
                        inner
                            .iter()
                            .map(|(k, v)| (format!("{key}.{k}"), textual(v))),
                    );
                }
                other => keys.push((key, textual(&other))),
            }
        }
    }
    keys
}

fn flag_pairs(flags: &FlagOverrides) -> Result<Vec<(String, serde_json::Value)>, ConfigError> {
    let value = serde_json::to_value(flags).map_err(|e| ConfigError(e.to_string()))?;
    Ok(value
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

fn describe(error: figment::Error, file: Option<&Path>) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                String::new()
            } else {
                format!("key `{}`: ", e.path.join("."))
            };
            let source = match (&e.metadata, file) {
                (Some(m), _) if m.source.is_some() => {
                    format!(
                        " (from {} {})",
                        m.name,
                        m.source.as_ref().map(|s| s.to_string()).unwrap_or_default()
                    )
                }
                // Figment names the provider ("TOML file") but not always the path: add it.
                (_, Some(file)) => format!(" (in {})", file.display()),
                (Some(m), None) => format!(" (from {})", m.name),
                (None, None) => String::new(),
            };
            format!("{key}{}{source}", e.kind)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Renders the config as TOML-like `key = value` lines (serde_json drives it, so every field is
/// shown, in declaration order of sections).
fn toml_like(config: &Config) -> String {
    let mut out = String::new();
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(config) else {
        return out;
    };
    let mut sections = Vec::new();
    for (key, value) in &map {
        match value {
            serde_json::Value::Object(inner) => sections.push((key.clone(), inner.clone())),
            serde_json::Value::Null => out.push_str(&format!("# {key} = (not set)\n")),
            other => out.push_str(&format!("{key} = {other}\n")),
        }
    }
    for (name, inner) in sections {
        out.push_str(&format!("\n[{name}]\n"));
        for (key, value) in inner {
            match value {
                serde_json::Value::Null => out.push_str(&format!("# {key} = (not set)\n")),
                other => out.push_str(&format!("{key} = {other}\n")),
            }
        }
    }
    out
}

/// True if `path` exists.
pub(crate) fn exists(path: &Path) -> bool {
    path.try_exists().unwrap_or(true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_listen_on_loopback_8080_with_sqlite_in_data_dir() {
        let config = Config::load(&ConfigSources::default()).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(
            config.effective_database_url().unwrap(),
            "sqlite://./latchkey-data/latchkey.db"
        );
        assert_eq!(
            config.master_key_path(),
            PathBuf::from("./latchkey-data/master.key")
        );
    }

    #[test]
    fn flags_override_env_which_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("latchkey.toml");
        std::fs::write(&file, "data_dir = \"/from-file\"\nlisten = \"127.0.0.1:1000\"\n[http]\nrequest_timeout_secs = 5\n").unwrap();
        let sources = ConfigSources {
            file: Some(file.clone()),
            env: env(&[
                ("LATCHKEY_LISTEN", "127.0.0.1:2000"),
                ("LATCHKEY_HTTP__REQUEST_TIMEOUT_SECS", "7"),
            ]),
            flags: FlagOverrides {
                listen: Some("127.0.0.1:3000".parse().unwrap()),
                ..FlagOverrides::default()
            },
        };
        let config = Config::load(&sources).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("/from-file"));
        assert_eq!(config.listen.port(), 3000);
        assert_eq!(config.http.request_timeout_secs, 7);
    }

    #[test]
    fn unknown_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "lisen = \"127.0.0.1:1\"\n").unwrap();
        let err = Config::load(&ConfigSources {
            file: Some(file),
            ..ConfigSources::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("lisen"), "{err}");

        let err = Config::load(&ConfigSources {
            env: env(&[("LATCHKEY_DATABSE_URL", "x")]),
            ..ConfigSources::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("databse_url"), "{err}");
    }

    #[test]
    fn test_harness_variables_are_not_config() {
        let config = Config::load(&ConfigSources {
            env: env(&[
                ("LATCHKEY_REQUIRE_SERVICES", "1"),
                ("LATCHKEY_TEST_POSTGRES_URL", "postgres://x"),
            ]),
            ..ConfigSources::default()
        });
        assert!(config.is_ok());
    }

    #[test]
    fn bad_values_name_the_key_and_the_bounds() {
        let err = Config::load(&ConfigSources {
            env: env(&[("LATCHKEY_HTTP__BODY_LIMIT_BYTES", "1")]),
            ..ConfigSources::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("http.body_limit_bytes") && err.contains("1024"),
            "{err}"
        );

        let err = Config::load(&ConfigSources {
            env: env(&[("LATCHKEY_LISTEN", "not an address")]),
            ..ConfigSources::default()
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("listen"), "{err}");
    }

    #[test]
    fn plain_http_off_loopback_is_refused() {
        let err = Config::load(&ConfigSources {
            flags: FlagOverrides {
                listen: Some("0.0.0.0:8080".parse().unwrap()),
                ..FlagOverrides::default()
            },
            ..ConfigSources::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("loopback") && err.contains("--tls-cert"),
            "{err}"
        );
        let ok = Config::load(&ConfigSources {
            flags: FlagOverrides {
                listen: Some("0.0.0.0:8443".parse().unwrap()),
                tls_self_signed: Some(true),
                ..FlagOverrides::default()
            },
            ..ConfigSources::default()
        });
        assert!(ok.is_ok());
    }

    #[test]
    fn secrets_are_redacted() {
        let config = Config::load(&ConfigSources {
            env: env(&[
                ("LATCHKEY_MASTER_KEY", &"ab".repeat(32)),
                (
                    "LATCHKEY_DATABASE_URL",
                    "postgres://app:hunter2@db:5432/latchkey",
                ),
            ]),
            ..ConfigSources::default()
        })
        .unwrap();
        let shown = config.redacted_toml();
        assert!(
            !shown.contains("hunter2") && !shown.contains(&"ab".repeat(32)),
            "{shown}"
        );
        assert!(shown.contains("app:***@db"), "{shown}");
    }
}
