-- The directory: sites' addresses and holidays, space trees, people's profiles, groups, the
-- device registry, device groups, labels and role scopes. Keep in step with
-- ../postgres/0007_directory.sql.

-- Roles with scope: space managers, device owners and (time-limited) guests. SQLite cannot alter
-- a CHECK constraint, so the table is rebuilt (nothing references memberships).
CREATE TABLE memberships_new (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    role TEXT NOT NULL CHECK (role IN ('org_admin', 'space_manager', 'device_owner', 'member', 'guest')),
    status TEXT NOT NULL CHECK (status IN ('invited', 'active', 'disabled')),
    created_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL,
    invited_name_sealed BLOB,
    PRIMARY KEY (tenant_id, account_id)
);
INSERT INTO memberships_new (tenant_id, account_id, role, status, created_at_ms, version, invited_name_sealed)
    SELECT tenant_id, account_id, role, status, created_at_ms, version, invited_name_sealed FROM memberships;
DROP TABLE memberships;
ALTER TABLE memberships_new RENAME TO memberships;

-- Sites get an address (optional) and a version for If-Match.
ALTER TABLE sites ADD COLUMN address TEXT;
ALTER TABLE sites ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- A site's holiday calendar: named dates (the site's local calendar, YYYY-MM-DD). Schedules will
-- read it for "closed on holidays" exceptions.
CREATE TABLE site_holidays (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    site_id TEXT NOT NULL,
    day TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (tenant_id, site_id, day)
);

-- Spaces: one tree per site, any depth (parent_id NULL at the top). The kind is a free label
-- (building, floor, office, room, unit…), not a fixed schema. Cycles are refused by the service,
-- which checks a move against the whole tree inside the write transaction.
CREATE TABLE spaces (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    id TEXT NOT NULL,
    site_id TEXT NOT NULL,
    parent_id TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX spaces_by_parent ON spaces (tenant_id, parent_id);

-- Per-organisation profile of a person, on the membership: a display name override and an
-- employee number (both sealed with the tenant keys; the number unique per organisation through
-- its blind index), and the end of a guest's membership.
ALTER TABLE memberships ADD COLUMN display_name_sealed BLOB;
ALTER TABLE memberships ADD COLUMN employee_number_sealed BLOB;
ALTER TABLE memberships ADD COLUMN employee_number_bidx BLOB;
ALTER TABLE memberships ADD COLUMN expires_at_ms INTEGER;
CREATE UNIQUE INDEX memberships_employee_number ON memberships (tenant_id, employee_number_bidx);

-- A space manager's scope: the roots of the space subtrees they manage.
CREATE TABLE space_manager_scopes (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    account_id TEXT NOT NULL,
    space_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, account_id, space_id)
);

-- Groups of people, and their members (members of the organisation).
CREATE TABLE people_groups (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    created_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE group_members (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    group_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, group_id, account_id)
);
CREATE INDEX group_members_by_account ON group_members (tenant_id, account_id);

-- The device registry (locks and hubs). Binding to real hardware comes with the devices work.
CREATE TABLE devices (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('lock', 'hub')),
    name TEXT NOT NULL,
    model TEXT,
    space_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
    created_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX devices_by_space ON devices (tenant_id, space_id);

-- A device owner's scope: the devices they own (the residential case).
CREATE TABLE device_owners (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    device_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, device_id, account_id)
);
CREATE INDEX device_owners_by_account ON device_owners (tenant_id, account_id);

-- Groups of devices, and their members.
CREATE TABLE device_groups (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    created_at_ms INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

CREATE TABLE device_group_members (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    device_group_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, device_group_id, device_id)
);

-- Free-form labels on directory objects (site, space, person, group, device, device_group), one
-- row per label so that `?label=` is an indexed exact match on both backends.
CREATE TABLE labels (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    object_kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (tenant_id, object_kind, object_id, label)
);
CREATE INDEX labels_by_label ON labels (tenant_id, label);
