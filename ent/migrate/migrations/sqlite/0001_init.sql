-- Create "api_keys" table
CREATE TABLE `api_keys` (`id` text NOT NULL, `subscription_id` text NOT NULL, `instance_id` text NOT NULL, `name` text NOT NULL, `prefix` text NOT NULL, `hash` blob NOT NULL, `scopes` json NOT NULL, `created_at` datetime NOT NULL, `expires_at` datetime NULL, `last_used_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "apikey_hash" to table: "api_keys"
CREATE UNIQUE INDEX `apikey_hash` ON `api_keys` (`hash`);
-- Create index "apikey_subscription_id_instance_id" to table: "api_keys"
CREATE INDEX `apikey_subscription_id_instance_id` ON `api_keys` (`subscription_id`, `instance_id`);
-- Create "audit_logs" table
CREATE TABLE `audit_logs` (`id` text NOT NULL, `subscription_id` text NOT NULL DEFAULT (''), `at` datetime NOT NULL, `action` text NOT NULL, `actor_user_id` text NOT NULL DEFAULT (''), `actor_api_key_id` text NOT NULL DEFAULT (''), `target_type` text NOT NULL DEFAULT (''), `target_id` text NOT NULL DEFAULT (''), `ip` text NOT NULL DEFAULT (''), `user_agent` text NOT NULL DEFAULT (''), `details` json NULL, PRIMARY KEY (`id`));
-- Create index "auditlog_subscription_id_id" to table: "audit_logs"
CREATE INDEX `auditlog_subscription_id_id` ON `audit_logs` (`subscription_id`, `id`);
-- Create "denied_tokens" table
CREATE TABLE `denied_tokens` (`id` text NOT NULL, `expires_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "deniedtoken_expires_at" to table: "denied_tokens"
CREATE INDEX `deniedtoken_expires_at` ON `denied_tokens` (`expires_at`);
-- Create "instances" table
CREATE TABLE `instances` (`id` text NOT NULL, `subscription_id` text NOT NULL, `name` text NOT NULL, `status` text NOT NULL, `status_reason` text NOT NULL DEFAULT (''), `phone_number` text NOT NULL DEFAULT (''), `jid` text NOT NULL DEFAULT (''), `push_name` text NOT NULL DEFAULT (''), `metadata` json NULL, `proxy_url` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `last_connected_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "instance_subscription_id_name" to table: "instances"
CREATE UNIQUE INDEX `instance_subscription_id_name` ON `instances` (`subscription_id`, `name`);
-- Create index "instance_status" to table: "instances"
CREATE INDEX `instance_status` ON `instances` (`status`);
-- Create "refresh_tokens" table
CREATE TABLE `refresh_tokens` (`id` text NOT NULL, `user_id` text NOT NULL, `subscription_id` text NOT NULL, `family_id` text NOT NULL, `hash` blob NOT NULL, `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `used_at` datetime NULL, `revoked_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "refreshtoken_hash" to table: "refresh_tokens"
CREATE UNIQUE INDEX `refreshtoken_hash` ON `refresh_tokens` (`hash`);
-- Create index "refreshtoken_family_id" to table: "refresh_tokens"
CREATE INDEX `refreshtoken_family_id` ON `refresh_tokens` (`family_id`);
-- Create index "refreshtoken_user_id" to table: "refresh_tokens"
CREATE INDEX `refreshtoken_user_id` ON `refresh_tokens` (`user_id`);
-- Create index "refreshtoken_expires_at" to table: "refresh_tokens"
CREATE INDEX `refreshtoken_expires_at` ON `refresh_tokens` (`expires_at`);
-- Create "subscriptions" table
CREATE TABLE `subscriptions` (`id` text NOT NULL, `tier` text NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create "users" table
CREATE TABLE `users` (`id` text NOT NULL, `subscription_id` text NOT NULL, `email` text NOT NULL, `name` text NOT NULL, `password_hash` text NOT NULL, `role` text NOT NULL, `token_version` integer NOT NULL DEFAULT (0), `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "user_email" to table: "users"
CREATE UNIQUE INDEX `user_email` ON `users` (`email`);
-- Create index "user_subscription_id" to table: "users"
CREATE INDEX `user_subscription_id` ON `users` (`subscription_id`);
