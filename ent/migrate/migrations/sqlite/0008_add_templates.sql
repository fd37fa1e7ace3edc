-- Create "templates" table
CREATE TABLE `templates` (`id` text NOT NULL, `subscription_id` text NOT NULL, `name` text NOT NULL, `body` text NOT NULL, `variables` json NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "template_subscription_id_name" to table: "templates"
CREATE UNIQUE INDEX `template_subscription_id_name` ON `templates` (`subscription_id`, `name`);
-- Create index "template_subscription_id_id" to table: "templates"
CREATE INDEX `template_subscription_id_id` ON `templates` (`subscription_id`, `id`);
