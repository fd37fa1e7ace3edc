-- Modify "instances" table
ALTER TABLE "instances" ADD COLUMN "settings" jsonb NULL;
