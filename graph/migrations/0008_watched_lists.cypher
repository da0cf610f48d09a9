// Watched sub-processor lists and the differences found in them (graph/watched_lists.py).
CREATE CONSTRAINT watched_list_organisation IF NOT EXISTS FOR (n:WatchedList) REQUIRE n.organisation IS UNIQUE;
CREATE CONSTRAINT list_change_id IF NOT EXISTS FOR (n:ListChange) REQUIRE n.id IS UNIQUE;
CREATE INDEX list_change_status IF NOT EXISTS FOR (n:ListChange) ON (n.status);
