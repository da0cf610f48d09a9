// Controllers' objections to announced engagements (graph/objections.py).
CREATE CONSTRAINT objection_id IF NOT EXISTS FOR (n:Objection) REQUIRE n.id IS UNIQUE;
CREATE INDEX objection_engagement IF NOT EXISTS FOR (n:Objection) ON (n.engagement);
