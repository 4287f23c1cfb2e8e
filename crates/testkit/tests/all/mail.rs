//! Mail: the outbox keeps messages sealed until the worker delivers them through a real SMTP
//! listener (or to files), with retries and backoff on the injected clock.

use std::sync::Arc;

use latchkey_domain::{Clock as _, Scope};
use latchkey_server::config::{Config, MailTransportKind, SmtpSecurity};
use latchkey_server::identity::accounts::NewAccount;
use latchkey_server::mail::{DeliveryReport, Mailer, backoff_ms};
use latchkey_server::{Actor, App};
use latchkey_store::repo::{AuditRepo, MailRepo, NewMail};
use latchkey_testkit::{SmtpListener, TestDb};

on_both_backends!(queued_mail_is_sealed_and_survives_a_restart_until_delivered);

const ADDRESS: &str = "quokka-recipient@mail-test.example";

fn test_mail() -> NewMail {
    NewMail {
        kind: "test".into(),
        to: ADDRESS.into(),
        subject: "Your Latchkey invitation".into(),
        body: "Set your password: https://latchkey.example/invite/abc123\r\n.\r\nA line starting with a dot.".into(),
    }
}

fn smtp_config(smtp: &SmtpListener, db: &TestDb) -> Config {
    let mut config = Config {
        data_dir: db.dir.path().to_path_buf(),
        ..Config::default()
    };
    config.mail.transport = MailTransportKind::Smtp;
    config.mail.smtp_host = Some(smtp.addr.ip().to_string());
    config.mail.smtp_port = Some(smtp.addr.port());
    config.mail.smtp_security = SmtpSecurity::None;
    config.mail.from = "Latchkey <no-reply@latchkey.example>".into();
    config
}

/// (pending, sent, failed) messages in the platform outbox.
async fn outbox_counts(app: &App) -> anyhow::Result<(i64, i64, i64)> {
    Ok(app.store.read().await?.mail_counts(Scope::Platform).await?)
}

async fn smtp_app(db: &TestDb, smtp: &SmtpListener) -> anyhow::Result<App> {
    let config = smtp_config(smtp, db);
    config.validate()?;
    Ok(App::new(db.open().await?, Arc::new(db.clock.clone()))
        .with_mailer(Mailer::from_config(&config)?))
}

#[tokio::test]
async fn queued_mail_is_delivered_over_smtp_with_headers_and_body_intact() -> anyhow::Result<()> {
    let db = TestDb::sqlite()?;
    let smtp = SmtpListener::start().await?;
    let app = smtp_app(&db, &smtp).await?;
    let id = app.enqueue_mail(Scope::Platform, test_mail()).await?;
    assert!(
        smtp.received().is_empty(),
        "nothing is sent before the worker runs"
    );
    let report = app.deliver_due_mail().await?;
    assert_eq!(
        report,
        DeliveryReport {
            sent: 1,
            retrying: 0,
            given_up: 0
        }
    );
    let received = smtp.received();
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.rcpt_to, vec![ADDRESS.to_owned()]);
    assert_eq!(mail.mail_from, "no-reply@latchkey.example");
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Your Latchkey invitation")
    );
    assert_eq!(mail.header("Message-ID"), Some(format!("<{id}@latchkey>")));
    assert!(
        mail.header("Date")
            .unwrap()
            .contains("29 Nov 2026 09:00:00"),
        "Date from the injected clock"
    );
    let body = mail.body();
    assert!(
        body.contains("https://latchkey.example/invite/abc123"),
        "{body}"
    );
    assert!(
        body.contains("\r\n.\r\nA line starting with a dot."),
        "dot-stuffing round-trips: {body:?}"
    );
    // Delivered mail is not sent twice.
    assert_eq!(app.deliver_due_mail().await?, DeliveryReport::default());
    assert_eq!(outbox_counts(&app).await?, (0, 1, 0));
    Ok(())
}

#[tokio::test]
async fn stored_reset_requests_are_resolved_never_sent_and_mail_only_known_addresses()
-> anyhow::Result<()> {
    let db = TestDb::sqlite()?;
    let smtp = SmtpListener::start().await?;
    let app = smtp_app(&db, &smtp).await?;
    app.create_account(
        &Actor::operator_cli(),
        NewAccount {
            email: ADDRESS,
            name: "Quinn Quokka",
            password: "a-long-enough-passphrase",
            is_operator: false,
        },
    )
    .await?;
    let caller = Actor {
        id: "anonymous:forgot_password".into(),
        source_ip: Some("192.0.2.7".into()),
        request_id: Some("req-forgot-1".into()),
    };
    app.request_password_reset(&caller, ADDRESS).await?;
    app.request_password_reset(&caller, "nobody@mail-test.example")
        .await?;
    assert_eq!(
        outbox_counts(&app).await?,
        (2, 0, 0),
        "both requests stored"
    );

    let report = app.deliver_due_mail().await?;
    assert_eq!(report.sent, 1, "{report:?}");
    let received = smtp.received();
    assert_eq!(received.len(), 1, "only the reset mail goes out");
    assert_eq!(received[0].rcpt_to, vec![ADDRESS.to_owned()]);
    // The body is base64 (it is partly Japanese); the subject names the mail.
    let subject = received[0].header("Subject").unwrap_or_default();
    assert!(subject.contains("Latchkey password"), "{subject}");
    // Both requests resolved and gone (a stranger's address is not kept), the reset mail sent.
    assert_eq!(outbox_counts(&app).await?, (0, 1, 0));
    let events = app
        .store
        .read()
        .await?
        .audit_events(Scope::Platform, 0, 1_000)
        .await?;
    let requested: Vec<_> = events
        .iter()
        .filter(|e| e.action == "authn_password_reset_requested")
        .collect();
    assert_eq!(requested.len(), 1);
    assert_eq!(requested[0].source_ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(requested[0].request_id.as_deref(), Some("req-forgot-1"));

    // Nothing is left to do or to send.
    assert_eq!(app.resolve_reset_requests().await?, 0);
    assert_eq!(app.deliver_due_mail().await?, DeliveryReport::default());
    assert_eq!(smtp.received().len(), 1);
    Ok(())
}

#[tokio::test]
async fn transient_rejection_is_retried_after_the_backoff() -> anyhow::Result<()> {
    let db = TestDb::sqlite()?;
    let smtp = SmtpListener::start().await?;
    let app = smtp_app(&db, &smtp).await?;
    smtp.reject_next("451 4.3.0 try again later");
    app.enqueue_mail(Scope::Platform, test_mail()).await?;
    assert_eq!(app.deliver_due_mail().await?.retrying, 1);
    // Not due again until the backoff has passed on the clock.
    db.clock.advance_ms(backoff_ms(1) - 1);
    assert_eq!(app.deliver_due_mail().await?, DeliveryReport::default());
    db.clock.advance_ms(1);
    assert_eq!(app.deliver_due_mail().await?.sent, 1);
    assert_eq!(smtp.received().len(), 1);
    assert_eq!(outbox_counts(&app).await?, (0, 1, 0));
    Ok(())
}

#[tokio::test]
async fn permanent_rejection_is_given_up_without_retrying() -> anyhow::Result<()> {
    let db = TestDb::sqlite()?;
    let smtp = SmtpListener::start().await?;
    let app = smtp_app(&db, &smtp).await?;
    smtp.reject_next("550 5.1.1 no such user");
    app.enqueue_mail(Scope::Platform, test_mail()).await?;
    assert_eq!(app.deliver_due_mail().await?.given_up, 1);
    db.clock.advance_ms(24 * 3_600_000);
    assert_eq!(app.deliver_due_mail().await?, DeliveryReport::default());
    assert!(smtp.received().is_empty());
    assert_eq!(outbox_counts(&app).await?, (0, 0, 1));
    Ok(())
}

#[tokio::test]
async fn unreachable_relay_keeps_the_mail_pending() -> anyhow::Result<()> {
    let db = TestDb::sqlite()?;
    let smtp = SmtpListener::start().await?;
    let mut config = smtp_config(&smtp, &db);
    // A port nothing listens on.
    config.mail.smtp_port = Some(
        std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port(),
    );
    let app = App::new(db.open().await?, Arc::new(db.clock.clone()))
        .with_mailer(Mailer::from_config(&config)?);
    app.enqueue_mail(Scope::Platform, test_mail()).await?;
    assert_eq!(app.deliver_due_mail().await?.retrying, 1);
    assert_eq!(outbox_counts(&app).await?, (1, 0, 0));
    Ok(())
}

#[tokio::test]
async fn files_transport_writes_private_eml_files() -> anyhow::Result<()> {
    let db = TestDb::sqlite()?;
    let config = Config {
        data_dir: db.dir.path().to_path_buf(),
        ..Config::default()
    };
    let app = App::new(db.open().await?, Arc::new(db.clock.clone()))
        .with_mailer(Mailer::from_config(&config)?);
    let id = app.enqueue_mail(Scope::Platform, test_mail()).await?;
    assert_eq!(app.deliver_due_mail().await?.sent, 1);
    let file = config.mail_dir().join(format!("{id}.eml"));
    let text = std::fs::read_to_string(&file)?;
    assert!(
        text.contains("Subject: Your Latchkey invitation") && text.contains(ADDRESS),
        "{text}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file)?.permissions().mode() & 0o077,
        0,
        "mail files carry secrets"
    );
    Ok(())
}

#[test]
fn unencrypted_smtp_is_refused_off_loopback() {
    let mut config = Config::default();
    config.mail.transport = MailTransportKind::Smtp;
    config.mail.smtp_host = Some("smtp.example.com".into());
    config.mail.smtp_security = SmtpSecurity::None;
    let err = config.validate().unwrap_err().to_string();
    assert!(
        err.contains("loopback") && err.contains("starttls"),
        "{err}"
    );
    config.mail.smtp_host = None;
    config.mail.smtp_security = SmtpSecurity::Starttls;
    assert!(
        config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("smtp_host")
    );
}

async fn queued_mail_is_sealed_and_survives_a_restart_until_delivered(
    db: TestDb,
) -> anyhow::Result<()> {
    // Enqueue with a store that then "crashes" (is dropped without delivering).
    let store = db.open().await?;
    let mut tx = store.write().await?;
    tx.enqueue_mail(Scope::Platform, &test_mail(), db.clock.now_ms())
        .await?;
    tx.commit().await?;
    store.close().await;

    // At rest, neither the address nor the link is readable.
    let needles = [
        "quokka-recipient",
        "invite/abc123",
        "Your Latchkey invitation",
    ];
    match db.sqlite_file() {
        Some(file) => {
            let mut raw = std::fs::read(&file)?;
            if let Ok(wal) = std::fs::read(file.with_extension("db-wal")) {
                raw.extend(wal);
            }
            for needle in needles {
                assert!(
                    !raw.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{needle} in the raw file"
                );
            }
        }
        None => {
            let platform = uuid::Uuid::nil().to_string();
            let rows = db
                .raw_texts(
                    Some(&platform),
                    "SELECT row_to_json(m)::text FROM mail_outbox m",
                )
                .await?;
            assert_eq!(rows.len(), 1);
            for needle in needles {
                assert!(!rows[0].contains(needle), "{needle} in {}", rows[0]);
            }
        }
    }

    // After the restart the message is still there and is delivered.
    let smtp = SmtpListener::start().await?;
    let app = smtp_app(&db, &smtp).await?;
    assert_eq!(app.deliver_due_mail().await?.sent, 1);
    assert_eq!(smtp.received()[0].rcpt_to, vec![ADDRESS.to_owned()]);
    Ok(())
}
