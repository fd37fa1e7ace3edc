-- Create index "message_instance_id_chat_id" to table: "messages"
CREATE INDEX "message_instance_id_chat_id" ON "messages" ("instance_id", "chat", "id");
