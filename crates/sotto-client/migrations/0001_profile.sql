-- A Sotto client profile: one account, what it knows of the network, and its conversations.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE contacts (
    session_id TEXT PRIMARY KEY,
    name TEXT
);

-- Conversation messages, incoming and outgoing. `hash` is the storage hash of the copy we
-- received (incoming) or stored (outgoing).
CREATE TABLE messages (
    hash TEXT PRIMARY KEY,
    conversation TEXT NOT NULL,
    sender TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_ms INTEGER NOT NULL,
    outgoing INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    expires_ms INTEGER
);
CREATE INDEX messages_conversation ON messages(conversation, sent_ms);

-- Every storage hash seen while polling, kept until it expires (dedup across nodes and polls).
CREATE TABLE seen (
    hash TEXT PRIMARY KEY,
    expiry_ms INTEGER NOT NULL
);

-- Where polling stopped, per node and namespace (ordering is per node).
CREATE TABLE last_hash (
    node TEXT NOT NULL,
    namespace INTEGER NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (node, namespace)
);
