-- Create "message_media" table
CREATE TABLE `message_media` (`id` text NOT NULL, `subscription_id` text NOT NULL, `mime_type` text NOT NULL DEFAULT (''), `file_name` text NOT NULL DEFAULT (''), `ptt` bool NOT NULL DEFAULT (false), `size` integer NOT NULL DEFAULT (0), `sha256` blob NOT NULL, `data` blob NOT NULL, `created_at` datetime NOT NULL, PRIMARY KEY (`id`));
