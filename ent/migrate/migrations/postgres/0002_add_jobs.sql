-- Create "jobs" table
CREATE TABLE "jobs" ("id" character varying NOT NULL, "type" character varying NOT NULL, "payload" bytea NULL, "trace" jsonb NULL, "state" character varying NOT NULL, "attempts" bigint NOT NULL DEFAULT 0, "max_attempts" bigint NOT NULL, "run_at" timestamptz NOT NULL, "locked_until" timestamptz NULL, "claim" character varying NOT NULL DEFAULT '', "last_error" text NOT NULL DEFAULT '', "created_at" timestamptz NOT NULL, "updated_at" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create index "job_state_updated_at" to table: "jobs"
CREATE INDEX "job_state_updated_at" ON "jobs" ("state", "updated_at");
-- Create index "job_type_state_run_at" to table: "jobs"
CREATE INDEX "job_type_state_run_at" ON "jobs" ("type", "state", "run_at");
