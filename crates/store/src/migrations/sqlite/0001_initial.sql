-- Latchkey schema v1 (SQLite). Portable types: ids TEXT (UUIDv7), times INTEGER epoch-ms UTC,
-- ciphertexts and hashes BLOB. Keep in step with ../postgres/0001_initial.sql.

-- Proves the master key matches this database (a sealed constant), so a wrong key is refused at
-- start-up instead of producing undecryptable rows.
CREATE TABLE keyring_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    key_check BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL
);

-- Tenants. Platform-level: the row's id is the tenant id of everything the organisation owns.
CREATE TABLE organisations (
    id TEXT PRIMARY KEY,
    name_sealed BLOB NOT NULL,
    contact_email_sealed BLOB NOT NULL,
    contact_email_bidx BLOB NOT NULL,
    seat_limit INTEGER NOT NULL CHECK (seat_limit > 0),
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'terminated')),
    terminated_at_ms INTEGER,
    created_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL
);

-- Per-tenant data keys (versioned) and blind-index key, wrapped by the master key.
CREATE TABLE tenant_keys (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    purpose TEXT NOT NULL CHECK (purpose IN ('data', 'index')),
    version INTEGER NOT NULL,
    wrapped BLOB NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, purpose, version)
);

CREATE TABLE sites (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- Append-only audit log, one hash chain per tenant; the platform chain uses the nil UUID.
CREATE TABLE audit_events (
    tenant_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    source_ip TEXT,
    request_id TEXT,
    details TEXT NOT NULL,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

-- The last seq and hash of each chain; its row lock serialises appends on PostgreSQL.
CREATE TABLE audit_heads (
    tenant_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL
);

-- Signed checkpoints: the server key vouches for (chain, seq, hash) at a time.
CREATE TABLE audit_checkpoints (
    tenant_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    at_ms INTEGER NOT NULL,
    signature BLOB NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
