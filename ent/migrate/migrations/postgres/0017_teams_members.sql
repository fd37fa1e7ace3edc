-- Modify "users" table
ALTER TABLE "users" ADD COLUMN "member_role" character varying NOT NULL DEFAULT 'owner';
-- Create "invitations" table
CREATE TABLE "invitations" ("id" character varying NOT NULL, "subscription_id" character varying NOT NULL, "email" character varying NOT NULL, "role" character varying NOT NULL, "hash" bytea NOT NULL, "invited_by" character varying NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "accepted_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "invitation_hash" to table: "invitations"
CREATE UNIQUE INDEX "invitation_hash" ON "invitations" ("hash");
-- Create index "invitation_subscription_id_id" to table: "invitations"
CREATE INDEX "invitation_subscription_id_id" ON "invitations" ("subscription_id", "id");
