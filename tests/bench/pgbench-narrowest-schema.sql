-- The narrowest schema of a request on PostgreSQL, beside the server's (pgbench.sh): the pair's
-- one row (a request or a connection is the pair's row), two partial indexes for the request
-- lists, counters in a narrow table kept half empty for in-place updates. The event and the
-- notification go to the server's own tables. No foreign keys: users are never removed.
DROP TABLE IF EXISTS narrow_pairs, narrow_counters;
CREATE TABLE narrow_pairs (
    user_low bigint NOT NULL, user_high bigint NOT NULL, sender bigint NOT NULL, receiver bigint NOT NULL,
    kind text NOT NULL CHECK (kind IN ('request', 'connection')), created timestamptz NOT NULL, rejected timestamptz NULL,
    PRIMARY KEY (user_low, user_high), CHECK (user_low < user_high));
CREATE INDEX narrow_requests_received ON narrow_pairs (receiver, created) WHERE kind = 'request' AND rejected IS NULL;
CREATE INDEX narrow_requests_sent ON narrow_pairs (sender, created) WHERE kind = 'request';
CREATE TABLE narrow_counters (
    user_id bigint PRIMARY KEY, connections int NOT NULL DEFAULT 0 CHECK (connections >= 0),
    received int NOT NULL DEFAULT 0 CHECK (received >= 0), sent int NOT NULL DEFAULT 0 CHECK (sent >= 0))
    WITH (fillfactor = 50);
INSERT INTO narrow_counters (user_id) SELECT id FROM users;
