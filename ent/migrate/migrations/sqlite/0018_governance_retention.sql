-- Create index "auditlog_subscription_id_at" to table: "audit_logs"
CREATE INDEX `auditlog_subscription_id_at` ON `audit_logs` (`subscription_id`, `at`);
-- Add column "retention_messages_days" to table: "subscriptions"
ALTER TABLE `subscriptions` ADD COLUMN `retention_messages_days` integer NULL;
-- Add column "retention_media_days" to table: "subscriptions"
ALTER TABLE `subscriptions` ADD COLUMN `retention_media_days` integer NULL;
-- Add column "retention_deliveries_days" to table: "subscriptions"
ALTER TABLE `subscriptions` ADD COLUMN `retention_deliveries_days` integer NULL;
-- Add column "retention_audit_days" to table: "subscriptions"
ALTER TABLE `subscriptions` ADD COLUMN `retention_audit_days` integer NULL;
-- Create index "webhookdelivery_subscription_id_created_at" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_subscription_id_created_at` ON `webhook_deliveries` (`subscription_id`, `created_at`);
-- Create index "messagemedia_subscription_id_created_at" to table: "message_media"
CREATE INDEX `messagemedia_subscription_id_created_at` ON `message_media` (`subscription_id`, `created_at`);
-- Create index "message_subscription_id_created_at" to table: "messages"
CREATE INDEX `message_subscription_id_created_at` ON `messages` (`subscription_id`, `created_at`);
