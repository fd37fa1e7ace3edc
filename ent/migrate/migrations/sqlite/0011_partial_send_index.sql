-- Drop index "message_instance_id_status_id" from table: "messages"
DROP INDEX `message_instance_id_status_id`;
-- Create index "message_instance_id_status_id" to table: "messages"
CREATE INDEX `message_instance_id_status_id` ON `messages` (`instance_id`, `status`, `id`) WHERE bulk_id IS NULL;
