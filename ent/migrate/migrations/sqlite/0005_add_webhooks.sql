-- Create "webhook_deliveries" table
CREATE TABLE `webhook_deliveries` (`id` text NOT NULL, `subscription_id` text NOT NULL, `instance_id` text NOT NULL, `endpoint_id` text NOT NULL, `event_id` text NOT NULL, `event_type` text NOT NULL, `payload` blob NOT NULL, `status` text NOT NULL, `attempts` integer NOT NULL DEFAULT (0), `last_status_code` integer NOT NULL DEFAULT (0), `last_error` text NOT NULL DEFAULT (''), `last_response` text NOT NULL DEFAULT (''), `latency_ms` integer NOT NULL DEFAULT (0), `next_attempt_at` datetime NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "webhookdelivery_subscription_id_endpoint_id_id" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_subscription_id_endpoint_id_id` ON `webhook_deliveries` (`subscription_id`, `endpoint_id`, `id`);
-- Create index "webhookdelivery_status_next_attempt_at" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_status_next_attempt_at` ON `webhook_deliveries` (`status`, `next_attempt_at`);
-- Create "webhook_endpoints" table
CREATE TABLE `webhook_endpoints` (`id` text NOT NULL, `subscription_id` text NOT NULL, `instance_id` text NOT NULL, `url` text NOT NULL, `events` json NOT NULL, `description` text NOT NULL DEFAULT (''), `enabled` bool NOT NULL DEFAULT (true), `secret` text NOT NULL, `previous_secret` text NOT NULL DEFAULT (''), `rotated_at` datetime NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `last_success_at` datetime NULL, `first_failure_at` datetime NULL, `disabled_reason` text NOT NULL DEFAULT (''), PRIMARY KEY (`id`));
-- Create index "webhookendpoint_subscription_id_instance_id_id" to table: "webhook_endpoints"
CREATE INDEX `webhookendpoint_subscription_id_instance_id_id` ON `webhook_endpoints` (`subscription_id`, `instance_id`, `id`);
