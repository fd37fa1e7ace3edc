-- Create "messages" table
CREATE TABLE "messages" ("id" character varying NOT NULL, "subscription_id" character varying NOT NULL, "instance_id" character varying NOT NULL, "direction" character varying NOT NULL, "chat" character varying NOT NULL DEFAULT '', "to" character varying NOT NULL DEFAULT '', "from" character varying NOT NULL DEFAULT '', "type" character varying NOT NULL, "text" text NOT NULL DEFAULT '', "caption" text NOT NULL DEFAULT '', "status" character varying NOT NULL, "error_code" character varying NOT NULL DEFAULT '', "error_message" character varying NOT NULL DEFAULT '', "wa_message_id" character varying NOT NULL DEFAULT '', "reply_to" character varying NOT NULL DEFAULT '', "attempts" bigint NOT NULL DEFAULT 0, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, "sent_at" timestamptz NULL, "delivered_at" timestamptz NULL, "read_at" timestamptz NULL, PRIMARY KEY ("id"));
-- Create index "message_instance_id_wa_message_id" to table: "messages"
CREATE INDEX "message_instance_id_wa_message_id" ON "messages" ("instance_id", "wa_message_id");
-- Create index "message_status_updated_at" to table: "messages"
CREATE INDEX "message_status_updated_at" ON "messages" ("status", "updated_at");
-- Create index "message_subscription_id_instance_id_id" to table: "messages"
CREATE INDEX "message_subscription_id_instance_id_id" ON "messages" ("subscription_id", "instance_id", "id");
