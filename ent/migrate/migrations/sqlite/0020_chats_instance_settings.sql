-- Add column "settings" to table: "instances"
ALTER TABLE `instances` ADD COLUMN `settings` json NULL;
