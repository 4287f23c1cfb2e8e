-- Grants: subject (person or group) may do rights (unlock, share, manage) on a target (lock, space
-- subtree, device group) during a schedule. The schedule is stored as the JSON of the domain's
-- ScheduleSpec and validated again when loaded. Revoked grants are kept (revoked_at_ms) for the
-- access review and the audit trail; derived grants (delegation) name their parent and sharer.
-- Keep in step with ../postgres/0008_grants.sql.
CREATE TABLE grants (
    tenant_id TEXT NOT NULL REFERENCES organisations (id),
    id TEXT NOT NULL,
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('person', 'group')),
    subject_id TEXT NOT NULL,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('lock', 'space', 'device_group')),
    target_id TEXT NOT NULL,
    rights TEXT NOT NULL,
    schedule TEXT NOT NULL,
    -- The schedule's end of validity, repeated as a column for the "expiring soon" review.
    valid_until_ms INTEGER,
    uses INTEGER NOT NULL DEFAULT 0,
    parent_id TEXT,
    shared_by TEXT,
    reshare_depth INTEGER NOT NULL DEFAULT 0,
    max_share_duration_ms INTEGER,
    note TEXT,
    created_by TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    revoked_at_ms INTEGER,
    revoked_by TEXT,
    version INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX grants_by_subject ON grants (tenant_id, subject_kind, subject_id);
CREATE INDEX grants_by_target ON grants (tenant_id, target_kind, target_id);
CREATE INDEX grants_by_parent ON grants (tenant_id, parent_id);
CREATE INDEX grants_by_end ON grants (tenant_id, valid_until_ms);

-- The version of everything an access decision reads, per organisation. The server caches each
-- organisation's decision model and reloads it when this number moved, so a change takes effect
-- on the next request on every node. Triggers bump it: no service can forget to.
CREATE TABLE access_versions (
    tenant_id TEXT NOT NULL PRIMARY KEY REFERENCES organisations (id),
    version INTEGER NOT NULL
);

CREATE TRIGGER memberships_insert_bumps_access AFTER INSERT ON memberships
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER memberships_update_bumps_access AFTER UPDATE ON memberships
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER memberships_delete_bumps_access AFTER DELETE ON memberships
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER sites_insert_bumps_access AFTER INSERT ON sites
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER sites_update_bumps_access AFTER UPDATE ON sites
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER sites_delete_bumps_access AFTER DELETE ON sites
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER site_holidays_insert_bumps_access AFTER INSERT ON site_holidays
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER site_holidays_update_bumps_access AFTER UPDATE ON site_holidays
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER site_holidays_delete_bumps_access AFTER DELETE ON site_holidays
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER spaces_insert_bumps_access AFTER INSERT ON spaces
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER spaces_update_bumps_access AFTER UPDATE ON spaces
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER spaces_delete_bumps_access AFTER DELETE ON spaces
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER people_groups_insert_bumps_access AFTER INSERT ON people_groups
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER people_groups_update_bumps_access AFTER UPDATE ON people_groups
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER people_groups_delete_bumps_access AFTER DELETE ON people_groups
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER group_members_insert_bumps_access AFTER INSERT ON group_members
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER group_members_update_bumps_access AFTER UPDATE ON group_members
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER group_members_delete_bumps_access AFTER DELETE ON group_members
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER devices_insert_bumps_access AFTER INSERT ON devices
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER devices_update_bumps_access AFTER UPDATE ON devices
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER devices_delete_bumps_access AFTER DELETE ON devices
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER device_groups_insert_bumps_access AFTER INSERT ON device_groups
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER device_groups_update_bumps_access AFTER UPDATE ON device_groups
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER device_groups_delete_bumps_access AFTER DELETE ON device_groups
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER device_group_members_insert_bumps_access AFTER INSERT ON device_group_members
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER device_group_members_update_bumps_access AFTER UPDATE ON device_group_members
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER device_group_members_delete_bumps_access AFTER DELETE ON device_group_members
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER grants_insert_bumps_access AFTER INSERT ON grants
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER grants_update_bumps_access AFTER UPDATE ON grants
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER grants_delete_bumps_access AFTER DELETE ON grants
BEGIN
    INSERT INTO access_versions (tenant_id, version) VALUES (OLD.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = version + 1;
END;
