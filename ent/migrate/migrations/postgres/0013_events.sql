-- Drop repeated deliveries of one event to one endpoint (the fan-out
-- before the event log could write one twice), keeping the first, so that
-- the unique index can be made.
DELETE FROM "webhook_deliveries" a USING "webhook_deliveries" b WHERE a."event_id" = b."event_id" AND a."endpoint_id" = b."endpoint_id" AND a."id" > b."id";
-- Create index "webhookdelivery_event_id_endpoint_id" to table: "webhook_deliveries"
CREATE UNIQUE INDEX "webhookdelivery_event_id_endpoint_id" ON "webhook_deliveries" ("event_id", "endpoint_id");
-- Create "events" table
CREATE TABLE "events" ("id" character varying NOT NULL, "subscription_id" character varying NOT NULL, "position" bigint NOT NULL, "instance_id" character varying NOT NULL, "type" character varying NOT NULL, "data" bytea NOT NULL, "created_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "event_created_at" to table: "events"
CREATE INDEX "event_created_at" ON "events" ("created_at");
-- Create index "event_subscription_id_position" to table: "events"
CREATE UNIQUE INDEX "event_subscription_id_position" ON "events" ("subscription_id", "position");
-- Create "event_cursors" table
CREATE TABLE "event_cursors" ("id" character varying NOT NULL, "appended" bigint NOT NULL DEFAULT 0, "dispatched" bigint NOT NULL DEFAULT 0, PRIMARY KEY ("id"));
