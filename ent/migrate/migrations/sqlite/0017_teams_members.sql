-- Add column "member_role" to table: "users"
ALTER TABLE `users` ADD COLUMN `member_role` text NOT NULL DEFAULT ('owner');
-- Create "invitations" table
CREATE TABLE `invitations` (`id` text NOT NULL, `subscription_id` text NOT NULL, `email` text NOT NULL, `role` text NOT NULL, `hash` blob NOT NULL, `invited_by` text NOT NULL DEFAULT (''), `created_at` datetime NOT NULL, `expires_at` datetime NOT NULL, `accepted_at` datetime NULL, PRIMARY KEY (`id`));
-- Create index "invitation_hash" to table: "invitations"
CREATE UNIQUE INDEX `invitation_hash` ON `invitations` (`hash`);
-- Create index "invitation_subscription_id_id" to table: "invitations"
CREATE INDEX `invitation_subscription_id_id` ON `invitations` (`subscription_id`, `id`);
