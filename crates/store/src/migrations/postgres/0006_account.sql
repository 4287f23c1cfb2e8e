-- The account's own security: pending TOTP enrolments, MFA recovery codes, and the lock e-mails
-- sent (for the ≤ 5 a day cap, research §2.2 L4). Platform level like accounts: no tenant_id.
-- Keep in step with ../sqlite/0006_account.sql.

-- A TOTP secret generated at enrolment, sealed with the platform keys; it becomes the account's
-- factor only when a code from it is confirmed (so a half-finished enrolment locks nobody out).
CREATE TABLE mfa_enrolments (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id),
    secret_sealed BYTEA NOT NULL,
    created_at_ms BIGINT NOT NULL
);

-- Recovery codes: only the HMAC digest of each code is stored; each is accepted once.
CREATE TABLE recovery_codes (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    digest BYTEA NOT NULL,
    created_at_ms BIGINT NOT NULL,
    used_at_ms BIGINT,
    PRIMARY KEY (account_id, digest)
);

-- One row per lock e-mail sent, to cap them per account per day.
CREATE TABLE lock_notices (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    sent_at_ms BIGINT NOT NULL
);

CREATE INDEX lock_notices_by_account ON lock_notices (account_id, sent_at_ms);
