-- Create index "auditlog_at" to table: "audit_logs"
CREATE INDEX `auditlog_at` ON `audit_logs` (`at`);
-- Add column "retention_messages_days" to table: "subscriptions"
ALTER TABLE `subscriptions` ADD COLUMN `retention_messages_days` integer NULL;
-- Add column "retention_media_days" to table: "subscriptions"
ALTER TABLE `subscriptions` ADD COLUMN `retention_media_days` integer NULL;
-- Add column "retention_deliveries_days" to table: "subscriptions"
ALTER TABLE `subscriptions` ADD COLUMN `retention_deliveries_days` integer NULL;
-- Add column "retention_audit_days" to table: "subscriptions"
ALTER TABLE `subscriptions` ADD COLUMN `retention_audit_days` integer NULL;
-- Create index "webhookdelivery_created_at" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_created_at` ON `webhook_deliveries` (`created_at`);
-- Create index "messagemedia_created_at" to table: "message_media"
CREATE INDEX `messagemedia_created_at` ON `message_media` (`created_at`);
-- Create index "message_created_at" to table: "messages"
CREATE INDEX `message_created_at` ON `messages` (`created_at`);
