-- Modify "messages" table
ALTER TABLE "messages" ADD COLUMN "latitude" double precision NULL, ADD COLUMN "longitude" double precision NULL, ADD COLUMN "location_name" character varying NOT NULL DEFAULT '', ADD COLUMN "location_address" character varying NOT NULL DEFAULT '';
-- Create "idempotency_keys" table
CREATE TABLE "idempotency_keys" ("id" character varying NOT NULL, "subscription_id" character varying NOT NULL, "key" character varying NOT NULL, "request_hash" character varying NOT NULL, "state" character varying NOT NULL, "status" bigint NOT NULL DEFAULT 0, "content_type" character varying NOT NULL DEFAULT '', "body" bytea NULL, "created_at" timestamptz NOT NULL, "expires_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "idempotencykey_expires_at" to table: "idempotency_keys"
CREATE INDEX "idempotencykey_expires_at" ON "idempotency_keys" ("expires_at");
-- Create index "idempotencykey_subscription_id_key" to table: "idempotency_keys"
CREATE UNIQUE INDEX "idempotencykey_subscription_id_key" ON "idempotency_keys" ("subscription_id", "key");
