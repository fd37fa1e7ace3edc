-- Create "instance_leases" table
CREATE TABLE `instance_leases` (`instance_id` text NOT NULL, `node_id` text NOT NULL, `expires_at` datetime NOT NULL, `epoch` integer NOT NULL DEFAULT (1), PRIMARY KEY (`instance_id`));
-- Create index "instancelease_node_id" to table: "instance_leases"
CREATE INDEX `instancelease_node_id` ON `instance_leases` (`node_id`);
-- Create "nodes" table
CREATE TABLE `nodes` (`id` text NOT NULL, `heartbeat_at` datetime NOT NULL, `started_at` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create index "node_heartbeat_at" to table: "nodes"
CREATE INDEX `node_heartbeat_at` ON `nodes` (`heartbeat_at`);
