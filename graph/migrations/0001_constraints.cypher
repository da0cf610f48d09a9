// Every register node: unique key across kinds (the generic write path finds nodes by it).
CREATE CONSTRAINT entity_key IF NOT EXISTS FOR (n:Entity) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT register_id IF NOT EXISTS FOR (n:Register) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT organisation_id IF NOT EXISTS FOR (n:Organisation) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT data_subject_id IF NOT EXISTS FOR (n:DataSubjectCategory) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT data_category_id IF NOT EXISTS FOR (n:DataCategory) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT legal_basis_id IF NOT EXISTS FOR (n:LegalBasis) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT system_id IF NOT EXISTS FOR (n:System) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT activity_id IF NOT EXISTS FOR (n:ProcessingActivity) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT disclosure_id IF NOT EXISTS FOR (n:Disclosure) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT engagement_id IF NOT EXISTS FOR (n:Engagement) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT change_event_id IF NOT EXISTS FOR (n:ChangeEvent) REQUIRE n.id IS UNIQUE;
CREATE CONSTRAINT change_event_sequence IF NOT EXISTS FOR (n:ChangeEvent) REQUIRE n.sequence IS UNIQUE;
CREATE CONSTRAINT change_sequence_name IF NOT EXISTS FOR (n:ChangeSequence) REQUIRE n.name IS UNIQUE;
CREATE CONSTRAINT migration_id IF NOT EXISTS FOR (n:Migration) REQUIRE n.id IS UNIQUE;
