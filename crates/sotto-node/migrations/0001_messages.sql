-- Messages stored for the accounts of this node's swarm.
--
-- `owners` keeps each 33-byte account key once; `messages.id` gives insertion order, which
-- `retrieve` pages by (AUTOINCREMENT so that ids are never reused and a client's `last_hash`
-- never points before newer messages).

CREATE TABLE owners (
    id INTEGER PRIMARY KEY,
    pubkey BLOB NOT NULL UNIQUE CHECK (length(pubkey) = 33)
);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner INTEGER NOT NULL REFERENCES owners(id),
    namespace INTEGER NOT NULL CHECK (namespace BETWEEN -32768 AND 32767),
    hash TEXT NOT NULL UNIQUE,
    timestamp INTEGER NOT NULL,
    expiry INTEGER NOT NULL,
    data BLOB NOT NULL
);

-- retrieve: one account's namespace in insertion order.
CREATE INDEX messages_owner_namespace ON messages(owner, namespace, id);
-- expiry sweeps.
CREATE INDEX messages_expiry ON messages(expiry);
