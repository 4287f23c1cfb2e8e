-- Grants: subject (person or group) may do rights (unlock, share, manage) on a target (lock, space
-- subtree, device group) during a schedule. The schedule is stored as the JSON of the domain's
-- ScheduleSpec and validated again when loaded. Revoked grants are kept (revoked_at_ms) for the
-- access review and the audit trail; derived grants (delegation) name their parent and sharer.
-- Same as ../sqlite/0008_grants.sql, plus row-level security.
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
    valid_until_ms BIGINT,
    uses BIGINT NOT NULL DEFAULT 0,
    parent_id TEXT,
    shared_by TEXT,
    reshare_depth BIGINT NOT NULL DEFAULT 0,
    max_share_duration_ms BIGINT,
    note TEXT,
    created_by TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT,
    revoked_by TEXT,
    version BIGINT NOT NULL,
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
    version BIGINT NOT NULL
);

ALTER TABLE grants ENABLE ROW LEVEL SECURITY;
ALTER TABLE grants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON grants
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE access_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE access_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON access_versions
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- One statement-level trigger per table: the tenant is the transaction's (set for row-level
-- security), so a bulk change bumps the version once. Outside a tenant transaction (platform
-- maintenance) there is nothing to bump.
CREATE FUNCTION bump_access_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tenant TEXT := current_setting('app.tenant_id', true);
BEGIN
    -- The platform scope (the nil id) is not an organisation and has no access version.
    IF tenant IS NOT NULL AND tenant <> '' AND EXISTS (SELECT 1 FROM organisations WHERE id = tenant) THEN
        INSERT INTO access_versions (tenant_id, version) VALUES (tenant, 1)
            ON CONFLICT (tenant_id) DO UPDATE SET version = access_versions.version + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER memberships_bumps_access AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_version();

CREATE TRIGGER sites_bumps_access AFTER INSERT OR UPDATE OR DELETE ON sites
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_version();

CREATE TRIGGER site_holidays_bumps_access AFTER INSERT OR UPDATE OR DELETE ON site_holidays
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_version();

CREATE TRIGGER spaces_bumps_access AFTER INSERT OR UPDATE OR DELETE ON spaces
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_version();

CREATE TRIGGER people_groups_bumps_access AFTER INSERT OR UPDATE OR DELETE ON people_groups
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_version();

CREATE TRIGGER group_members_bumps_access AFTER INSERT OR UPDATE OR DELETE ON group_members
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_version();

CREATE TRIGGER devices_bumps_access AFTER INSERT OR UPDATE OR DELETE ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_version();

CREATE TRIGGER device_groups_bumps_access AFTER INSERT OR UPDATE OR DELETE ON device_groups
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_version();

CREATE TRIGGER device_group_members_bumps_access AFTER INSERT OR UPDATE OR DELETE ON device_group_members
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_version();

CREATE TRIGGER grants_bumps_access AFTER INSERT OR UPDATE OR DELETE ON grants
    FOR EACH STATEMENT EXECUTE FUNCTION bump_access_version();
