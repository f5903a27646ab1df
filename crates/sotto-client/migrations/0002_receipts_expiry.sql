-- Read receipts for outgoing messages; `expires_ms` (from 0001) now holds disappearing timers.
ALTER TABLE messages ADD COLUMN read_ms INTEGER;
