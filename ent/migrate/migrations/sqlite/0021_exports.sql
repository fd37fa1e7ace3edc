-- Create "exports" table
CREATE TABLE `exports` (`id` text NOT NULL, `subscription_id` text NOT NULL, `requested_by` text NOT NULL DEFAULT (''), `status` text NOT NULL, `size_bytes` integer NOT NULL DEFAULT (0), `error` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `completed_at` datetime NULL, `expires_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "export_subscription_id_id" to table: "exports"
CREATE INDEX `export_subscription_id_id` ON `exports` (`subscription_id`, `id`);
-- Create index "export_one_unfinished" to table: "exports"
CREATE UNIQUE INDEX `export_one_unfinished` ON `exports` (`subscription_id`) WHERE status IN ('pending', 'running');
-- Create index "export_expires_at" to table: "exports"
CREATE INDEX `export_expires_at` ON `exports` (`expires_at`);
