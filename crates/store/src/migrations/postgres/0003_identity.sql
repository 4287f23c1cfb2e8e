-- Identity, platform level: an account may belong to several organisations, so accounts, their
-- sessions and one-time tokens live outside any tenant. E-mail and name are sealed with the
-- platform keys; e-mail lookups use the platform blind index. Same as ../sqlite/0003_identity.sql; no tenant_id, so no row-level security.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    email_sealed BYTEA NOT NULL,
    email_bidx BYTEA NOT NULL UNIQUE,
    name_sealed BYTEA NOT NULL,
    password_hash TEXT,
    is_operator BIGINT NOT NULL CHECK (is_operator IN (0, 1)),
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'disabled')),
    password_lockout TEXT NOT NULL,
    totp_secret_sealed BYTEA,
    totp_last_step BIGINT,
    mfa_lockout TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    version BIGINT NOT NULL
);

-- Sessions: only an HMAC of the opaque id is stored (a database leak yields no usable cookie).
CREATE TABLE sessions (
    id_digest BYTEA PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at_ms BIGINT NOT NULL,
    last_seen_at_ms BIGINT NOT NULL,
    idle_timeout_ms BIGINT NOT NULL,
    absolute_expiry_ms BIGINT NOT NULL
);

CREATE INDEX sessions_by_account ON sessions (account_id);

-- One-time tokens (operator setup, invitations, resets, unlock links): HMAC-stored, single use.
CREATE TABLE one_time_tokens (
    digest BYTEA PRIMARY KEY,
    purpose TEXT NOT NULL,
    account_id TEXT REFERENCES accounts (id),
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    used_at_ms BIGINT
);
