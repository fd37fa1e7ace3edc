-- Create index "webhookdelivery_endpoint_id_status_id" to table: "webhook_deliveries"
CREATE INDEX `webhookdelivery_endpoint_id_status_id` ON `webhook_deliveries` (`endpoint_id`, `status`, `id`);
