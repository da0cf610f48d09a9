// E-mail subscribers, the mail queue and its cursor on the change log (graph/mail.py).
CREATE CONSTRAINT subscriber_id IF NOT EXISTS FOR (n:Subscriber) REQUIRE n.id IS UNIQUE;
CREATE INDEX subscriber_email IF NOT EXISTS FOR (n:Subscriber) ON (n.email);
CREATE INDEX subscriber_processor IF NOT EXISTS FOR (n:Subscriber) ON (n.processor);
CREATE CONSTRAINT mail_message_id IF NOT EXISTS FOR (n:MailMessage) REQUIRE n.id IS UNIQUE;
CREATE INDEX mail_message_queued IF NOT EXISTS FOR (n:MailMessage) ON (n.queuedAt);
// The mail planner starts from the changes recorded after this migration.
MATCH (s:ChangeSequence {name: 'change'}) MERGE (c:MailCursor {name: 'mail'}) ON CREATE SET c.position = s.value;
