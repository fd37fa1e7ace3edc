-- Create index "auditlog_subscription_id_at" to table: "audit_logs"
CREATE INDEX "auditlog_subscription_id_at" ON "audit_logs" ("subscription_id", "at");
-- Create index "messagemedia_subscription_id_created_at" to table: "message_media"
CREATE INDEX "messagemedia_subscription_id_created_at" ON "message_media" ("subscription_id", "created_at");
-- Create index "message_subscription_id_created_at" to table: "messages"
CREATE INDEX "message_subscription_id_created_at" ON "messages" ("subscription_id", "created_at");
-- Modify "subscriptions" table
ALTER TABLE "subscriptions" ADD COLUMN "retention_messages_days" bigint NULL, ADD COLUMN "retention_media_days" bigint NULL, ADD COLUMN "retention_deliveries_days" bigint NULL, ADD COLUMN "retention_audit_days" bigint NULL;
-- Create index "webhookdelivery_subscription_id_created_at" to table: "webhook_deliveries"
CREATE INDEX "webhookdelivery_subscription_id_created_at" ON "webhook_deliveries" ("subscription_id", "created_at");
