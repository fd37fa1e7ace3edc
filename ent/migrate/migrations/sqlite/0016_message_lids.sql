-- Add columns "chat_lid" and "from_lid" to table: "messages". ADD COLUMN
-- rather than atlas's table rebuild, so that columns other branches add to
-- "messages" in their own migrations survive this one.
ALTER TABLE `messages` ADD COLUMN `chat_lid` text NOT NULL DEFAULT ('');
ALTER TABLE `messages` ADD COLUMN `from_lid` text NOT NULL DEFAULT ('');
