-- Modify "messages" table
ALTER TABLE "messages" ADD COLUMN "chat_lid" character varying NOT NULL DEFAULT '', ADD COLUMN "from_lid" character varying NOT NULL DEFAULT '';
