//! Mail transports: `.eml` files in a directory (default), or an SMTP relay over TLS (lettre with
//! rustls, STARTTLS or implicit TLS, optional authentication).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use latchkey_store::repo::QueuedMail;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{Config, ConfigError, MailTransportKind, SmtpSecurity};

/// A delivery failure: transient ones are retried with backoff, permanent ones are not.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct MailError {
    /// What failed (no message content, no addresses).
    pub message: String,
    /// True when retrying cannot help (e.g. the relay rejected the recipient with 5xx).
    pub permanent: bool,
}

impl MailError {
    fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
        }
    }
    fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }
}

#[derive(Clone)]
enum Transport {
    Files(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// Sends queued mail.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    transport: Transport,
    /// Log the message's first link at INFO (loopback deployments without real mail).
    log_links: bool,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.transport {
            Transport::Files(dir) => format!("files in {}", dir.display()),
            Transport::Smtp(_) => "smtp".into(),
        };
        f.debug_struct("Mailer")
            .field("transport", &kind)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// Builds the mailer the configuration describes.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let mail = &config.mail;
        let from: Mailbox = mail
            .from
            .parse()
            .map_err(|e| ConfigError(format!("mail.from: {e}")))?;
        let transport = match mail.transport {
            MailTransportKind::Files => Transport::Files(config.mail_dir()),
            MailTransportKind::Smtp => {
                let host = mail.smtp_host.clone().unwrap_or_default();
                let builder = match mail.smtp_security {
                    SmtpSecurity::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)
                    }
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&host),
                    SmtpSecurity::None => Ok(
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host),
                    ),
                }
                .map_err(|e| ConfigError(format!("mail.smtp_host {host:?}: {e}")))?;
                let default_port = match mail.smtp_security {
                    SmtpSecurity::Starttls => 587,
                    SmtpSecurity::Tls => 465,
                    SmtpSecurity::None => 25,
                };
                let mut builder = builder
                    .port(mail.smtp_port.unwrap_or(default_port))
                    .timeout(Some(Duration::from_secs(30)));
                if let Some(user) = &mail.smtp_username {
                    let password = config.smtp_password()?.unwrap_or_default();
                    builder = builder.credentials(Credentials::new(user.clone(), password));
                }
                Transport::Smtp(builder.build())
            }
        };
        Ok(Self {
            from,
            transport,
            log_links: config.listen.ip().is_loopback()
                && mail.transport == MailTransportKind::Files,
        })
    }

    /// Delivers one message; `now_ms` stamps its Date header (the injected clock).
    pub async fn deliver(&self, queued: &QueuedMail, now_ms: i64) -> Result<(), MailError> {
        let to: Mailbox =
            queued.mail.to.parse().map_err(|e| {
                MailError::permanent(format!("recipient address is not valid: {e}"))
            })?;
        let date =
            SystemTime::UNIX_EPOCH + Duration::from_millis(u64::try_from(now_ms).unwrap_or(0));
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(queued.mail.subject.clone())
            .message_id(Some(format!("<{}@latchkey>", queued.id)))
            .date(date)
            .header(ContentType::TEXT_PLAIN)
            .body(queued.mail.body.clone())
            .map_err(|e| MailError::permanent(format!("cannot build the message: {e}")))?;
        match &self.transport {
            Transport::Files(dir) => {
                let path = write_eml(dir, &queued.id, &message.formatted())?;
                tracing::info!(kind = %queued.mail.kind, file = ?path, "mail written to file");
                // Loopback deployments have no mail relay: the operator reads links here.
                if self.log_links
                    && let Some(link) = first_link(&queued.mail.body)
                {
                    tracing::info!(kind = %queued.mail.kind, link = %link, "mail link (loopback deployment)");
                }
                Ok(())
            }
            Transport::Smtp(smtp) => match smtp.send(message).await {
                Ok(_) => {
                    tracing::info!(kind = %queued.mail.kind, "mail delivered to the SMTP relay");
                    Ok(())
                }
                Err(e) if e.is_permanent() => Err(MailError::permanent(format!(
                    "SMTP relay refused the message: {e}"
                ))),
                Err(e) => Err(MailError::transient(format!("SMTP delivery failed: {e}"))),
            },
        }
    }
}

fn write_eml(dir: &Path, id: &str, bytes: &[u8]) -> Result<PathBuf, MailError> {
    let fail = |e: std::io::Error| {
        MailError::transient(format!("cannot write mail to {}: {e}", dir.display()))
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(fail)?;
    let path = dir.join(format!("{id}.eml"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(&path).map_err(fail)?, bytes).map_err(fail)?;
    Ok(path)
}

fn first_link(body: &str) -> Option<&str> {
    let start = body.find("https://").or_else(|| body.find("http://"))?;
    let rest = body.get(start..)?;
    Some(rest.split_whitespace().next().unwrap_or(rest))
}
