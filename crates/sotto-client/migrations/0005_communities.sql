-- Communities (`sotto community`): the servers joined, with their key and capabilities, and the
-- rooms joined on them, with where reading stopped.
CREATE TABLE community_servers (
    base_url TEXT PRIMARY KEY,
    pubkey TEXT NOT NULL,
    capabilities TEXT NOT NULL DEFAULT '',
    inbox_last_id INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE community_rooms (
    base_url TEXT NOT NULL REFERENCES community_servers(base_url) ON DELETE CASCADE,
    token TEXT NOT NULL,
    name TEXT,
    last_seqno INTEGER,
    PRIMARY KEY (base_url, token)
);
