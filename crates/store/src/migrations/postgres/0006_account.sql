-- The account's own security: pending TOTP enrolments, MFA recovery codes, and the security
-- e-mails sent (lock and reset mails are capped per account, research §2.2 L4). Platform level like accounts: no tenant_id.
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

-- One row per security e-mail sent ('lock', 'reset'), to cap them per account (an attacker
-- must not be able to mail-bomb someone through locks or forgot-password requests).
CREATE TABLE account_notices (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    kind TEXT NOT NULL,
    sent_at_ms BIGINT NOT NULL
);

CREATE INDEX account_notices_by_account ON account_notices (account_id, kind, sent_at_ms);
