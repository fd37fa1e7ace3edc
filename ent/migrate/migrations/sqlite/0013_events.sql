-- Drop repeated deliveries of one event to one endpoint (the fan-out
-- before the event log could write one twice), keeping the first, so that
-- the unique index can be made.
DELETE FROM `webhook_deliveries` WHERE `id` NOT IN (SELECT MIN(`id`) FROM `webhook_deliveries` GROUP BY `event_id`, `endpoint_id`);
-- Create index "webhookdelivery_event_id_endpoint_id" to table: "webhook_deliveries"
CREATE UNIQUE INDEX `webhookdelivery_event_id_endpoint_id` ON `webhook_deliveries` (`event_id`, `endpoint_id`);
-- Create "events" table
CREATE TABLE `events` (`id` text NOT NULL, `subscription_id` text NOT NULL, `position` integer NOT NULL, `instance_id` text NOT NULL, `type` text NOT NULL, `data` blob NOT NULL, `created_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "event_subscription_id_position" to table: "events"
CREATE UNIQUE INDEX `event_subscription_id_position` ON `events` (`subscription_id`, `position`);
-- Create index "event_created_at" to table: "events"
CREATE INDEX `event_created_at` ON `events` (`created_at`);
-- Create "event_cursors" table
CREATE TABLE `event_cursors` (`id` text NOT NULL, `appended` integer NOT NULL DEFAULT (0), `dispatched` integer NOT NULL DEFAULT (0), PRIMARY KEY (`id`));
