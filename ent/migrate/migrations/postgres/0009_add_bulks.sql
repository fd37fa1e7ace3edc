-- Modify "messages" table
ALTER TABLE "messages" ADD COLUMN "bulk_id" character varying NULL, ADD COLUMN "bulk_seq" bigint NULL;
-- Create index "message_bulk_id_status_bulk_seq" to table: "messages"
CREATE INDEX "message_bulk_id_status_bulk_seq" ON "messages" ("bulk_id", "status", "bulk_seq");
-- Create index "message_instance_id_status_id" to table: "messages"
CREATE INDEX "message_instance_id_status_id" ON "messages" ("instance_id", "status", "id");
-- Create "bulks" table
CREATE TABLE "bulks" ("id" character varying NOT NULL, "subscription_id" character varying NOT NULL, "instance_id" character varying NOT NULL, "status" character varying NOT NULL, "template_id" character varying NOT NULL DEFAULT '', "text" text NOT NULL DEFAULT '', "total" bigint NOT NULL, "pacing_min_ms" bigint NOT NULL, "pacing_max_ms" bigint NOT NULL, "generation" bigint NOT NULL DEFAULT 0, "scheduled_at" timestamptz NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "started_at" timestamptz NULL, "completed_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "bulk_status_updated_at" to table: "bulks"
CREATE INDEX "bulk_status_updated_at" ON "bulks" ("status", "updated_at");
-- Create index "bulk_subscription_id_id" to table: "bulks"
CREATE INDEX "bulk_subscription_id_id" ON "bulks" ("subscription_id", "id");
