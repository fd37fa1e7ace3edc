-- Create "jobs" table
CREATE TABLE `jobs` (`id` text NOT NULL, `type` text NOT NULL, `payload` blob NULL, `trace` json NULL, `state` text NOT NULL, `attempts` integer NOT NULL DEFAULT (0), `max_attempts` integer NOT NULL, `run_at` datetime NOT NULL, `locked_until` datetime NULL, `claim` text NOT NULL DEFAULT (''), `last_error` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "job_type_state_run_at" to table: "jobs"
CREATE INDEX `job_type_state_run_at` ON `jobs` (`type`, `state`, `run_at`);
-- Create index "job_state_updated_at" to table: "jobs"
CREATE INDEX `job_state_updated_at` ON `jobs` (`state`, `updated_at`);
