// Webhook endpoints the notifier delivers to (graph/webhooks.py).
CREATE CONSTRAINT webhook_endpoint_id IF NOT EXISTS FOR (n:WebhookEndpoint) REQUIRE n.id IS UNIQUE;
CREATE INDEX webhook_endpoint_status IF NOT EXISTS FOR (n:WebhookEndpoint) ON (n.status);
// Sub-processor changes after a sequence, in order (graph/subprocessor_changes.py).
CREATE INDEX change_event_type_sequence IF NOT EXISTS FOR (n:ChangeEvent) ON (n.entityType, n.sequence);
