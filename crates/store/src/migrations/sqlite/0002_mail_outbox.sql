-- Mail outbox: a message is written in the same transaction as the action that sends it and
-- delivered later by the worker, so an acknowledged action never loses its mail. Recipient,
-- subject and body are sealed (bodies carry one-time links). tenant_id is the scope: an
-- organisation, or the nil UUID for platform mail. Keep in step with ../postgres/.
CREATE TABLE mail_outbox (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient_sealed BLOB NOT NULL,
    subject_sealed BLOB NOT NULL,
    body_sealed BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL,
    next_attempt_at_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    finished_at_ms INTEGER,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX mail_outbox_due ON mail_outbox (tenant_id, status, next_attempt_at_ms);
