// Names are looked up case-insensitively by the API; these serve exact-name and kind lookups.
CREATE INDEX organisation_name IF NOT EXISTS FOR (n:Organisation) ON (n.name);
CREATE INDEX data_category_name IF NOT EXISTS FOR (n:DataCategory) ON (n.name);
CREATE INDEX activity_name IF NOT EXISTS FOR (n:ProcessingActivity) ON (n.name);
CREATE INDEX legal_basis_title IF NOT EXISTS FOR (n:LegalBasis) ON (n.title);
CREATE INDEX disclosure_valid IF NOT EXISTS FOR (n:Disclosure) ON (n.validFrom, n.validUntil);
CREATE INDEX engagement_status IF NOT EXISTS FOR (n:Engagement) ON (n.status);
CREATE INDEX change_event_entity IF NOT EXISTS FOR (n:ChangeEvent) ON (n.entityType, n.entityId);
CREATE INDEX change_event_occurred IF NOT EXISTS FOR (n:ChangeEvent) ON (n.occurredAt);
