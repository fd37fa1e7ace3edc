-- Create "templates" table
CREATE TABLE "templates" ("id" character varying NOT NULL, "subscription_id" character varying NOT NULL, "name" character varying NOT NULL, "body" text NOT NULL, "variables" jsonb NOT NULL, "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "template_subscription_id_id" to table: "templates"
CREATE INDEX "template_subscription_id_id" ON "templates" ("subscription_id", "id");
-- Create index "template_subscription_id_name" to table: "templates"
CREATE UNIQUE INDEX "template_subscription_id_name" ON "templates" ("subscription_id", "name");
