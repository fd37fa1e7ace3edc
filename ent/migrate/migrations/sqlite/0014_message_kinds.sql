-- Disable the enforcement of foreign-keys constraints
PRAGMA foreign_keys = off;
-- Create "new_message_media" table
CREATE TABLE `new_message_media` (`id` text NOT NULL, `subscription_id` text NOT NULL, `mime_type` text NOT NULL DEFAULT (''), `file_name` text NOT NULL DEFAULT (''), `ptt` bool NOT NULL DEFAULT (false), `gif` bool NOT NULL DEFAULT (false), `size` integer NOT NULL DEFAULT (0), `sha256` blob NOT NULL, `data` blob NOT NULL, `created_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Copy rows from old table "message_media" to new temporary table "new_message_media"
INSERT INTO `new_message_media` (`id`, `subscription_id`, `mime_type`, `file_name`, `ptt`, `size`, `sha256`, `data`, `created_at`) SELECT `id`, `subscription_id`, `mime_type`, `file_name`, `ptt`, `size`, `sha256`, `data`, `created_at` FROM `message_media`;
-- Drop "message_media" table after copying rows
DROP TABLE `message_media`;
-- Rename temporary table "new_message_media" to "message_media"
ALTER TABLE `new_message_media` RENAME TO `message_media`;
-- Create "new_messages" table
CREATE TABLE `new_messages` (`id` text NOT NULL, `subscription_id` text NOT NULL, `instance_id` text NOT NULL, `direction` text NOT NULL, `chat` text NOT NULL DEFAULT (''), `to` text NOT NULL DEFAULT (''), `from` text NOT NULL DEFAULT (''), `type` text NOT NULL, `text` text NOT NULL DEFAULT (''), `caption` text NOT NULL DEFAULT (''), `latitude` real NULL, `longitude` real NULL, `location_name` text NOT NULL DEFAULT (''), `location_address` text NOT NULL DEFAULT (''), `raw_type` text NOT NULL DEFAULT (''), `contacts` text NOT NULL DEFAULT (''), `poll` text NOT NULL DEFAULT (''), `status` text NOT NULL, `error_code` text NOT NULL DEFAULT (''), `error_message` text NOT NULL DEFAULT (''), `wa_message_id` text NOT NULL DEFAULT (''), `reply_to` text NOT NULL DEFAULT (''), `attempts` integer NOT NULL DEFAULT (0), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `sent_at` datetime NULL, `delivered_at` datetime NULL, `read_at` datetime NULL, `bulk_id` text NULL, `bulk_seq` integer NULL, PRIMARY KEY (`id`));
-- Copy rows from old table "messages" to new temporary table "new_messages"
INSERT INTO `new_messages` (`id`, `subscription_id`, `instance_id`, `direction`, `chat`, `to`, `from`, `type`, `text`, `caption`, `latitude`, `longitude`, `location_name`, `location_address`, `status`, `error_code`, `error_message`, `wa_message_id`, `reply_to`, `attempts`, `created_at`, `updated_at`, `sent_at`, `delivered_at`, `read_at`, `bulk_id`, `bulk_seq`) SELECT `id`, `subscription_id`, `instance_id`, `direction`, `chat`, `to`, `from`, `type`, `text`, `caption`, `latitude`, `longitude`, `location_name`, `location_address`, `status`, `error_code`, `error_message`, `wa_message_id`, `reply_to`, `attempts`, `created_at`, `updated_at`, `sent_at`, `delivered_at`, `read_at`, `bulk_id`, `bulk_seq` FROM `messages`;
-- Drop "messages" table after copying rows
DROP TABLE `messages`;
-- Rename temporary table "new_messages" to "messages"
ALTER TABLE `new_messages` RENAME TO `messages`;
-- Create index "message_subscription_id_instance_id_id" to table: "messages"
CREATE INDEX `message_subscription_id_instance_id_id` ON `messages` (`subscription_id`, `instance_id`, `id`);
-- Create index "message_instance_id_wa_message_id" to table: "messages"
CREATE INDEX `message_instance_id_wa_message_id` ON `messages` (`instance_id`, `wa_message_id`);
-- Create index "message_status_updated_at" to table: "messages"
CREATE INDEX `message_status_updated_at` ON `messages` (`status`, `updated_at`);
-- Create index "message_bulk_id_status_bulk_seq" to table: "messages"
CREATE INDEX `message_bulk_id_status_bulk_seq` ON `messages` (`bulk_id`, `status`, `bulk_seq`);
-- Create index "message_instance_id_status_id" to table: "messages"
CREATE INDEX `message_instance_id_status_id` ON `messages` (`instance_id`, `status`, `id`) WHERE bulk_id IS NULL;
-- Enable back the enforcement of foreign-keys constraints
PRAGMA foreign_keys = on;
