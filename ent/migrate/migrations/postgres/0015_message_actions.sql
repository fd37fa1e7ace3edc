-- Modify "messages" table
ALTER TABLE "messages" ADD COLUMN "reactions" jsonb NULL, ADD COLUMN "edited_at" timestamptz NULL, ADD COLUMN "deleted_at" timestamptz NULL, ADD COLUMN "deleted_by" character varying NOT NULL DEFAULT '', ADD COLUMN "mentions" jsonb NULL, ADD COLUMN "is_forwarded" boolean NOT NULL DEFAULT false, ADD COLUMN "link_preview" boolean NOT NULL DEFAULT true;
