-- Identity, platform level: an account may belong to several organisations, so accounts, their
-- sessions and one-time tokens live outside any tenant. E-mail and name are sealed with the
-- platform keys; e-mail lookups use the platform blind index. Keep in step with ../postgres/.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    email_sealed BLOB NOT NULL,
    email_bidx BLOB NOT NULL UNIQUE,
    name_sealed BLOB NOT NULL,
    password_hash TEXT,
    is_operator INTEGER NOT NULL CHECK (is_operator IN (0, 1)),
    status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'disabled')),
    password_lockout TEXT NOT NULL,
    totp_secret_sealed BLOB,
    totp_last_step INTEGER,
    mfa_lockout TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL
);

-- Sessions: only an HMAC of the opaque id is stored (a database leak yields no usable cookie).
CREATE TABLE sessions (
    id_digest BLOB PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at_ms INTEGER NOT NULL,
    last_seen_at_ms INTEGER NOT NULL,
    idle_timeout_ms INTEGER NOT NULL,
    absolute_expiry_ms INTEGER NOT NULL
);

CREATE INDEX sessions_by_account ON sessions (account_id);

-- One-time tokens (operator setup, invitations, resets, unlock links): HMAC-stored, single use.
CREATE TABLE one_time_tokens (
    digest BLOB PRIMARY KEY,
    purpose TEXT NOT NULL,
    account_id TEXT REFERENCES accounts (id),
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    used_at_ms INTEGER
);
