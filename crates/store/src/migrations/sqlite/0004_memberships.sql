-- Roles, API tokens and the device lane. Keep in step with ../postgres/0004_memberships.sql.

-- An account's membership of an organisation: a tenant row (row-level security on PostgreSQL).
-- 'invited' holds a seat until the invitation is accepted or revoked.
CREATE TABLE memberships (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    role TEXT NOT NULL CHECK (role IN ('org_admin', 'member')),
    status TEXT NOT NULL CHECK (status IN ('invited', 'active', 'disabled')),
    created_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, account_id)
);

-- Which organisations an account belongs to, ids only (platform level). Sign-in needs this list
-- before it knows which tenant to enter; roles and status stay in the tenant's memberships row.
-- (`org_id`, not `tenant_id`: a platform table, outside row-level security.)
CREATE TABLE account_links (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    org_id TEXT NOT NULL REFERENCES organisations (id),
    PRIMARY KEY (account_id, org_id)
);

-- API tokens for integrations: only the HMAC digest of the secret is stored.
CREATE TABLE api_tokens (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    id TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    digest BLOB NOT NULL UNIQUE,
    created_at_ms INTEGER NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER,
    last_used_at_ms INTEGER,
    PRIMARY KEY (tenant_id, id)
);

-- The device lane (research §2.2 L2): a browser that signed in before carries a device cookie and
-- has its own failure counter, so an attacker's failures do not lock its owner out.
CREATE TABLE trusted_devices (
    digest BLOB PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    password_lockout TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    last_used_at_ms INTEGER NOT NULL
);

CREATE INDEX trusted_devices_by_account ON trusted_devices (account_id);

-- Invitations bind a token to an organisation.
ALTER TABLE one_time_tokens ADD COLUMN org_id TEXT REFERENCES organisations (id);

-- When the session's owner last proved who they are (sign-in or step-up).
ALTER TABLE sessions ADD COLUMN authenticated_at_ms INTEGER NOT NULL DEFAULT 0;

-- Tenant-configurable security parameters (JSON, validated against the brief's bounds).
ALTER TABLE organisations ADD COLUMN security_settings TEXT NOT NULL DEFAULT '{}';
