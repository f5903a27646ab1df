-- Sotto registry schema, version 1.
-- Keys are raw 32-byte blobs; amounts are atomic units (1 SESH = 10^9); times are unix seconds;
-- swarm ids are u64 stored as their i64 bit pattern (-1 = unassigned, 2^64 - 1).

-- The head of the chain of changes, and the settings every writer must share.
CREATE TABLE chain (
    id                 INTEGER PRIMARY KEY CHECK (id = 0),
    height             INTEGER NOT NULL,
    block_hash         BLOB NOT NULL CHECK (length(block_hash) = 32),
    swarm_min          INTEGER NOT NULL,
    swarm_ideal        INTEGER NOT NULL,
    swarm_max          INTEGER NOT NULL,
    last_reward_period INTEGER
);

-- One row per change to the node list.
CREATE TABLE blocks (
    height INTEGER PRIMARY KEY,
    hash   BLOB NOT NULL,
    time   INTEGER NOT NULL,
    reason TEXT NOT NULL
);

CREATE TABLE nodes (
    pubkey_ed25519      BLOB PRIMARY KEY CHECK (length(pubkey_ed25519) = 32),
    pubkey_x25519       BLOB NOT NULL CHECK (length(pubkey_x25519) = 32),
    public_ip           TEXT NOT NULL,
    storage_port        INTEGER NOT NULL,
    storage_lmq_port    INTEGER NOT NULL,
    operator            TEXT NOT NULL,
    fee_bps             INTEGER NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('awaiting', 'active', 'exited', 'deregistered')),
    swarm_id            INTEGER NOT NULL DEFAULT -1,
    registration_height INTEGER NOT NULL,
    registered_at       INTEGER NOT NULL,
    exit_at             INTEGER,
    left_at             INTEGER,
    left_reason         TEXT,
    earned              INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX nodes_status ON nodes (status);

-- Stakes of each node, operator at position 0.
CREATE TABLE stakes (
    node     BLOB NOT NULL REFERENCES nodes (pubkey_ed25519) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    address  TEXT NOT NULL,
    amount   INTEGER NOT NULL CHECK (amount > 0),
    PRIMARY KEY (node, position),
    UNIQUE (node, address)
);

-- The latest test report of each (reporter, tested) pair; time is the registry's clock.
CREATE TABLE reports (
    reporter BLOB NOT NULL,
    tested   BLOB NOT NULL,
    passed   INTEGER NOT NULL,
    time     INTEGER NOT NULL,
    PRIMARY KEY (reporter, tested)
);
CREATE INDEX reports_tested ON reports (tested);

CREATE TABLE reward_balances (
    address TEXT PRIMARY KEY,
    amount  INTEGER NOT NULL
);
