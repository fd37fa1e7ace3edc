-- Modify "message_media" table
ALTER TABLE "message_media" ADD COLUMN "gif" boolean NOT NULL DEFAULT false;
-- Modify "messages" table
ALTER TABLE "messages" ADD COLUMN "raw_type" character varying NOT NULL DEFAULT '', ADD COLUMN "contacts" text NOT NULL DEFAULT '', ADD COLUMN "poll" text NOT NULL DEFAULT '';
