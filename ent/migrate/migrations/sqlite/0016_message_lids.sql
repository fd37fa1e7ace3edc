-- Add columns "chat_lid" and "from_lid" to table: "messages". ADD COLUMN
-- rather than atlas's copy-and-rename rebuild: the table keeps its rows in
-- place, however many messages it holds.
ALTER TABLE `messages` ADD COLUMN `chat_lid` text NOT NULL DEFAULT ('');
ALTER TABLE `messages` ADD COLUMN `from_lid` text NOT NULL DEFAULT ('');
