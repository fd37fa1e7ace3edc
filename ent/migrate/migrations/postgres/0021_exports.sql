-- Create index "messagemedia_subscription_id_id" to table: "message_media"
CREATE INDEX "messagemedia_subscription_id_id" ON "message_media" ("subscription_id", "id");
-- Create "exports" table
CREATE TABLE "exports" ("id" character varying NOT NULL, "subscription_id" character varying NOT NULL, "requested_by" character varying NOT NULL DEFAULT '', "status" character varying NOT NULL, "size_bytes" bigint NOT NULL DEFAULT 0, "error" character varying NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "completed_at" timestamptz NULL, "expires_at" timestamptz NOT NULL, "unfinished_of" character varying NULL, PRIMARY KEY ("id"));
-- Create index "export_expires_at" to table: "exports"
CREATE INDEX "export_expires_at" ON "exports" ("expires_at");
-- Create index "export_subscription_id_id" to table: "exports"
CREATE INDEX "export_subscription_id_id" ON "exports" ("subscription_id", "id");
-- Create index "export_unfinished_of" to table: "exports"
CREATE UNIQUE INDEX "export_unfinished_of" ON "exports" ("unfinished_of");
