-- Attachments of received (and sent) messages: where to fetch them and how to decrypt them.
CREATE TABLE attachments (
    message_hash TEXT NOT NULL,
    idx INTEGER NOT NULL,
    url TEXT NOT NULL,
    key BLOB NOT NULL,
    digest BLOB,
    size INTEGER NOT NULL,
    file_name TEXT,
    content_type TEXT,
    PRIMARY KEY (message_hash, idx)
);
