-- The name an org admin typed when inviting someone, sealed with the tenant's key. Shown for the
-- membership while it is only invited, so that inviting an address that already has an account
-- (in another organisation) shows the admin nothing they did not type — not that account's name.
ALTER TABLE memberships ADD COLUMN invited_name_sealed BLOB;
