-- Create "daily_stats" table
CREATE TABLE `daily_stats` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `subscription_id` text NOT NULL, `instance_id` text NOT NULL DEFAULT (''), `day` date NOT NULL, `sent` integer NOT NULL DEFAULT (0), `failed` integer NOT NULL DEFAULT (0), `delivered` integer NOT NULL DEFAULT (0), `read` integer NOT NULL DEFAULT (0), `received` integer NOT NULL DEFAULT (0), `api_calls` integer NOT NULL DEFAULT (0));
-- Create index "dailystat_subscription_id_instance_id_day" to table: "daily_stats"
CREATE UNIQUE INDEX `dailystat_subscription_id_instance_id_day` ON `daily_stats` (`subscription_id`, `instance_id`, `day`);
