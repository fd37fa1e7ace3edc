-- Create index "auditlog_at" to table: "audit_logs"
CREATE INDEX "auditlog_at" ON "audit_logs" ("at");
-- Create index "messagemedia_created_at" to table: "message_media"
CREATE INDEX "messagemedia_created_at" ON "message_media" ("created_at");
-- Create index "message_created_at" to table: "messages"
CREATE INDEX "message_created_at" ON "messages" ("created_at");
-- Modify "subscriptions" table
ALTER TABLE "subscriptions" ADD COLUMN "retention_messages_days" bigint NULL, ADD COLUMN "retention_media_days" bigint NULL, ADD COLUMN "retention_deliveries_days" bigint NULL, ADD COLUMN "retention_audit_days" bigint NULL;
-- Create index "webhookdelivery_created_at" to table: "webhook_deliveries"
CREATE INDEX "webhookdelivery_created_at" ON "webhook_deliveries" ("created_at");
