-- Create index "messagemedia_subscription_id_id" to table: "message_media"
CREATE INDEX `messagemedia_subscription_id_id` ON `message_media` (`subscription_id`, `id`);
-- Create "exports" table
CREATE TABLE `exports` (`id` text NOT NULL, `subscription_id` text NOT NULL, `requested_by` text NOT NULL DEFAULT (''), `status` text NOT NULL, `size_bytes` integer NOT NULL DEFAULT (0), `error` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `completed_at` datetime NULL, `expires_at` datetime NOT NULL, `unfinished_of` text NULL, PRIMARY KEY (`id`));
-- Create index "export_subscription_id_id" to table: "exports"
CREATE INDEX `export_subscription_id_id` ON `exports` (`subscription_id`, `id`);
-- Create index "export_unfinished_of" to table: "exports"
CREATE UNIQUE INDEX `export_unfinished_of` ON `exports` (`unfinished_of`);
-- Create index "export_expires_at" to table: "exports"
CREATE INDEX `export_expires_at` ON `exports` (`expires_at`);
