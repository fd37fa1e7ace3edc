-- Create "api_keys" table
CREATE TABLE "api_keys" ("id" character varying NOT NULL, "subscription_id" character varying NOT NULL, "instance_id" character varying NOT NULL, "name" character varying NOT NULL, "prefix" character varying NOT NULL, "hash" bytea NOT NULL, "scopes" jsonb NOT NULL, "created_at" timestamptz NOT NULL, "expires_at" timestamptz NULL, "last_used_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "apikey_hash" to table: "api_keys"
CREATE UNIQUE INDEX "apikey_hash" ON "api_keys" ("hash");
-- Create index "apikey_subscription_id_instance_id" to table: "api_keys"
CREATE INDEX "apikey_subscription_id_instance_id" ON "api_keys" ("subscription_id", "instance_id");
-- Create "audit_logs" table
CREATE TABLE "audit_logs" ("id" character varying NOT NULL, "subscription_id" character varying NOT NULL DEFAULT '', "at" timestamptz NOT NULL, "action" character varying NOT NULL, "actor_user_id" character varying NOT NULL DEFAULT '', "actor_api_key_id" character varying NOT NULL DEFAULT '', "target_type" character varying NOT NULL DEFAULT '', "target_id" character varying NOT NULL DEFAULT '', "ip" character varying NOT NULL DEFAULT '', "user_agent" character varying NOT NULL DEFAULT '', "details" jsonb NULL, PRIMARY KEY ("id"));
-- Create index "auditlog_subscription_id_id" to table: "audit_logs"
CREATE INDEX "auditlog_subscription_id_id" ON "audit_logs" ("subscription_id", "id");
-- Create "denied_tokens" table
CREATE TABLE "denied_tokens" ("id" character varying NOT NULL, "expires_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "deniedtoken_expires_at" to table: "denied_tokens"
CREATE INDEX "deniedtoken_expires_at" ON "denied_tokens" ("expires_at");
-- Create "instances" table
CREATE TABLE "instances" ("id" character varying NOT NULL, "subscription_id" character varying NOT NULL, "name" character varying NOT NULL, "status" character varying NOT NULL, "status_reason" character varying NOT NULL DEFAULT '', "phone_number" character varying NOT NULL DEFAULT '', "jid" character varying NOT NULL DEFAULT '', "push_name" character varying NOT NULL DEFAULT '', "metadata" jsonb NULL, "proxy_url" character varying NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "last_connected_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "instance_status" to table: "instances"
CREATE INDEX "instance_status" ON "instances" ("status");
-- Create index "instance_subscription_id_name" to table: "instances"
CREATE UNIQUE INDEX "instance_subscription_id_name" ON "instances" ("subscription_id", "name");
-- Create "refresh_tokens" table
CREATE TABLE "refresh_tokens" ("id" character varying NOT NULL, "user_id" character varying NOT NULL, "subscription_id" character varying NOT NULL, "family_id" character varying NOT NULL, "hash" bytea NOT NULL, "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, "used_at" timestamptz NULL, "revoked_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "refreshtoken_expires_at" to table: "refresh_tokens"
CREATE INDEX "refreshtoken_expires_at" ON "refresh_tokens" ("expires_at");
-- Create index "refreshtoken_family_id" to table: "refresh_tokens"
CREATE INDEX "refreshtoken_family_id" ON "refresh_tokens" ("family_id");
-- Create index "refreshtoken_hash" to table: "refresh_tokens"
CREATE UNIQUE INDEX "refreshtoken_hash" ON "refresh_tokens" ("hash");
-- Create index "refreshtoken_user_id" to table: "refresh_tokens"
CREATE INDEX "refreshtoken_user_id" ON "refresh_tokens" ("user_id");
-- Create "subscriptions" table
CREATE TABLE "subscriptions" ("id" character varying NOT NULL, "tier" character varying NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create "users" table
CREATE TABLE "users" ("id" character varying NOT NULL, "subscription_id" character varying NOT NULL, "email" character varying NOT NULL, "name" character varying NOT NULL, "password_hash" character varying NOT NULL, "role" character varying NOT NULL, "token_version" bigint NOT NULL DEFAULT 0, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "user_email" to table: "users"
CREATE UNIQUE INDEX "user_email" ON "users" ("email");
-- Create index "user_subscription_id" to table: "users"
CREATE INDEX "user_subscription_id" ON "users" ("subscription_id");
