-- Same as ../sqlite/0005_orgs_invited_name.sql. memberships already has row-level security.
ALTER TABLE memberships ADD COLUMN invited_name_sealed BYTEA;
