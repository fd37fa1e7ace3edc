-- Create "messages" table
CREATE TABLE `messages` (`id` text NOT NULL, `subscription_id` text NOT NULL, `instance_id` text NOT NULL, `direction` text NOT NULL, `chat` text NOT NULL DEFAULT (''), `to` text NOT NULL DEFAULT (''), `from` text NOT NULL DEFAULT (''), `type` text NOT NULL, `text` text NOT NULL DEFAULT (''), `caption` text NOT NULL DEFAULT (''), `status` text NOT NULL, `error_code` text NOT NULL DEFAULT (''), `error_message` text NOT NULL DEFAULT (''), `wa_message_id` text NOT NULL DEFAULT (''), `reply_to` text NOT NULL DEFAULT (''), `attempts` integer NOT NULL DEFAULT (0), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `sent_at` datetime NULL, `delivered_at` datetime NULL, `read_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "message_subscription_id_instance_id_id" to table: "messages"
CREATE INDEX `message_subscription_id_instance_id_id` ON `messages` (`subscription_id`, `instance_id`, `id`);
-- Create index "message_instance_id_wa_message_id" to table: "messages"
CREATE INDEX `message_instance_id_wa_message_id` ON `messages` (`instance_id`, `wa_message_id`);
-- Create index "message_status_updated_at" to table: "messages"
CREATE INDEX `message_status_updated_at` ON `messages` (`status`, `updated_at`);
