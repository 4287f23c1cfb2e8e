//! The delivery worker's step: claim due messages scope by scope, send them, record the outcome.
//! Transient failures back off (30 s, 2 min, 10 min, 30 min, then hourly) up to 12 attempts;
//! permanent ones stop at once. Several server nodes may run it: a message is claimed with a
//! lease before sending, so only one node sends it.

use latchkey_domain::Scope;
use latchkey_store::repo::{Attempt, MailRepo, NewMail};

use crate::app::{App, ServiceError};
use crate::identity::reset::RESET_REQUEST_KIND;

/// Attempts before a message is given up.
pub const MAX_ATTEMPTS: i64 = 12;
/// How long a claimed message is reserved for the node sending it.
const LEASE_MS: i64 = 5 * 60 * 1000;
/// Messages taken per scope per pass.
const BATCH: i64 = 50;

/// Wait before the next attempt after `attempts` failed ones.
pub fn backoff_ms(attempts: i64) -> i64 {
    const MINUTE: i64 = 60_000;
    match attempts {
        ..=1 => 30_000,
        2 => 2 * MINUTE,
        3 => 10 * MINUTE,
        4 => 30 * MINUTE,
        _ => 60 * MINUTE,
    }
}

/// What one delivery pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Delivered.
    pub sent: usize,
    /// Failed, will retry.
    pub retrying: usize,
    /// Failed for good.
    pub given_up: usize,
}

impl App {
    /// Enqueues a message in its own transaction (the operator's `latchkey mail test`).
    pub async fn enqueue_mail(&self, scope: Scope, mail: NewMail) -> Result<String, ServiceError> {
        let mut tx = self.store.write().await?;
        let id = tx.enqueue_mail(scope, &mail, self.clock.now_ms()).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Resolves stored forgotten-password requests (which may queue reset mails), then sends
    /// every due message once. Without a configured mailer nothing is sent.
    pub async fn deliver_due_mail(&self) -> Result<DeliveryReport, ServiceError> {
        // A failure here must not hold up the other mail: logged, retried on the next pass.
        if let Err(e) = self.resolve_reset_requests().await {
            tracing::error!(error = %e, "resolving forgotten-password requests failed");
        }
        let mut report = DeliveryReport::default();
        let Some(mailer) = &self.mailer else {
            return Ok(report);
        };
        for scope in self.store.scopes().await? {
            let now_ms = self.clock.now_ms();
            // Look with a read transaction first: most passes find nothing, and on SQLite a
            // write transaction per scope would queue behind every other writer.
            let mut due = self
                .store
                .read()
                .await?
                .due_mail(scope, now_ms, BATCH)
                .await?;
            // Stored forgotten-password requests live in the outbox but are never sent.
            due.retain(|queued| queued.mail.kind != RESET_REQUEST_KIND);
            if due.is_empty() {
                continue;
            }
            let due = {
                let mut tx = self.store.write().await?;
                let mut claimed = Vec::with_capacity(due.len());
                for queued in due {
                    if tx
                        .claim_mail(scope, &queued.id, now_ms, now_ms + LEASE_MS)
                        .await?
                    {
                        claimed.push(queued);
                    }
                }
                tx.commit().await?;
                claimed
            };
            for queued in due {
                let attempt = match mailer.deliver(&queued, self.clock.now_ms()).await {
                    Ok(()) => {
                        report.sent += 1;
                        Attempt::Sent
                    }
                    Err(e) if e.permanent || queued.attempts + 1 >= MAX_ATTEMPTS => {
                        tracing::error!(kind = %queued.mail.kind, id = %queued.id, error = %e, "mail given up");
                        report.given_up += 1;
                        Attempt::GaveUp { error: e.message }
                    }
                    Err(e) => {
                        let at_ms = self.clock.now_ms() + backoff_ms(queued.attempts + 1);
                        tracing::warn!(kind = %queued.mail.kind, id = %queued.id, error = %e, "mail delivery failed; will retry");
                        report.retrying += 1;
                        Attempt::Retry {
                            error: e.message,
                            at_ms,
                        }
                    }
                };
                let mut tx = self.store.write().await?;
                tx.record_mail_attempt(scope, &queued.id, &attempt, self.clock.now_ms())
                    .await?;
                tx.commit().await?;
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps_at_an_hour() {
        let waits: Vec<i64> = (1..=7).map(backoff_ms).collect();
        assert_eq!(
            waits,
            vec![
                30_000, 120_000, 600_000, 1_800_000, 3_600_000, 3_600_000, 3_600_000
            ]
        );
    }
}
