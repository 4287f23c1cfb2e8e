-- Mail outbox (see ../sqlite/0002_mail_outbox.sql), with row-level security like every table
-- that carries a tenant_id.
CREATE TABLE mail_outbox (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    recipient_sealed BYTEA NOT NULL,
    subject_sealed BYTEA NOT NULL,
    body_sealed BYTEA NOT NULL,
    created_at_ms BIGINT NOT NULL,
    next_attempt_at_ms BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    finished_at_ms BIGINT,
    PRIMARY KEY (tenant_id, id)
);

CREATE INDEX mail_outbox_due ON mail_outbox (tenant_id, status, next_attempt_at_ms);

ALTER TABLE mail_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE mail_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON mail_outbox
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
