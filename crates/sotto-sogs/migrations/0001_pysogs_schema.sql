-- Migration 1: the PySOGS 0.3.x SQLite schema (oxen-io/session-pysogs sogs/schema.sqlite at
-- 9497ddbf), restated in our own DDL. Object names, column names, declared types, defaults,
-- constraints and trigger behaviour must stay identical so that PySOGS can open a database we
-- create and we can open one it created (see `crates/sotto-sogs/src/store/schema.rs`, which
-- compares a live database with this file).
--
-- Times are unix seconds stored as FLOAT; `(julianday('now') - 2440587.5) * 86400.0` is "now" in
-- that unit and works on every SQLite PySOGS supports (unixepoch() needs 3.38).
--
-- Comments inside CREATE TRIGGER bodies are stored verbatim in sqlite_master, and PySOGS's own
-- upgrade checks search trigger text, so trigger bodies below carry no comments.

CREATE TABLE rooms (
    id INTEGER NOT NULL PRIMARY KEY,
    token TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT NOT NULL,
    description TEXT,
    image INTEGER REFERENCES files(id) ON DELETE SET NULL,
    created FLOAT NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    message_sequence INTEGER NOT NULL DEFAULT 0,
    info_updates INTEGER NOT NULL DEFAULT 0,
    active_users INTEGER NOT NULL DEFAULT 0,
    read BOOLEAN NOT NULL DEFAULT TRUE,
    accessible BOOLEAN NOT NULL DEFAULT TRUE,
    write BOOLEAN NOT NULL DEFAULT TRUE,
    upload BOOLEAN NOT NULL DEFAULT TRUE,
    CHECK(token NOT GLOB '*[^a-zA-Z0-9_-]*')
);
CREATE INDEX rooms_token ON rooms(token);

CREATE TABLE messages (
    id INTEGER NOT NULL PRIMARY KEY,
    room INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    "user" INTEGER NOT NULL REFERENCES users(id),
    posted FLOAT NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    edited FLOAT,
    seqno INTEGER NOT NULL DEFAULT 0,
    seqno_data INTEGER NOT NULL DEFAULT 0,
    seqno_reactions INTEGER NOT NULL DEFAULT 0,
    seqno_creation INTEGER NOT NULL DEFAULT 0,
    data BLOB,
    data_size INTEGER,
    signature BLOB,
    filtered BOOLEAN NOT NULL DEFAULT FALSE,
    whisper INTEGER REFERENCES users(id),
    whisper_mods BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX messages_room ON messages(room, posted);
CREATE INDEX messages_updated ON messages(room, seqno);
CREATE INDEX messages_id ON messages(room, id);

-- Old versions of edited or deleted messages. (`data` is declared TEXT in PySOGS; kept as is.)
CREATE TABLE message_history (
    message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    replaced FLOAT NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    data TEXT NOT NULL,
    signature BLOB NOT NULL
);
CREATE INDEX message_history_message ON message_history(message);
CREATE INDEX message_history_replaced ON message_history(replaced);

CREATE TABLE pinned_messages (
    room INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    pinned_by INTEGER NOT NULL REFERENCES users(id),
    pinned_at FLOAT NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    PRIMARY KEY(room, message)
);

-- `expiry` NULL means "never"; the default is 15 days after upload.
CREATE TABLE files (
    id INTEGER NOT NULL PRIMARY KEY,
    room INTEGER REFERENCES rooms(id) ON DELETE SET NULL,
    uploader INTEGER REFERENCES users(id),
    message INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    size INTEGER NOT NULL,
    uploaded FLOAT NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    expiry FLOAT DEFAULT ((julianday('now') - 2440587.5 + 15.0) * 86400.0),
    filename TEXT,
    path TEXT NOT NULL
);
CREATE INDEX files_room ON files(room);
CREATE INDEX files_expiry ON files(expiry);
CREATE INDEX files_message ON files(message);

-- Global flags live here; `banned` excludes `moderator`/`admin`.
CREATE TABLE users (
    id INTEGER NOT NULL PRIMARY KEY,
    session_id TEXT NOT NULL UNIQUE,
    created FLOAT NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    last_active FLOAT NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    banned BOOLEAN NOT NULL DEFAULT FALSE,
    moderator BOOLEAN NOT NULL DEFAULT FALSE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    visible_mod BOOLEAN NOT NULL DEFAULT FALSE,
    CHECK(NOT (banned AND (moderator OR admin)))
);
CREATE INDEX users_last_active ON users(last_active);

-- Unblinded (05) users whose rows must move to their blinded (15) account on its first request;
-- `blinded_abs` is the sign-cleared 15 ID.
CREATE TABLE needs_blinding (
    blinded_abs TEXT NOT NULL PRIMARY KEY,
    "user" INTEGER NOT NULL UNIQUE REFERENCES users ON DELETE CASCADE
);

CREATE TABLE reactions (
    id INTEGER NOT NULL PRIMARY KEY,
    message INTEGER NOT NULL REFERENCES messages ON DELETE CASCADE,
    reaction TEXT NOT NULL
);
CREATE UNIQUE INDEX reactions_message ON reactions (message, reaction);

CREATE TABLE user_reactions (
    reaction INTEGER NOT NULL REFERENCES reactions,
    "user" INTEGER NOT NULL REFERENCES users ON DELETE CASCADE,
    at FLOAT NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    PRIMARY KEY(reaction, "user")
);
CREATE INDEX user_reactions_at ON user_reactions(reaction, at);

-- Activity per room, for `active_users`.
CREATE TABLE room_users (
    room INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    "user" INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    last_active FLOAT NOT NULL DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    PRIMARY KEY(room, "user")
) WITHOUT ROWID;
CREATE INDEX room_users_room_activity ON room_users(room, last_active);
CREATE INDEX room_users_activity ON room_users(last_active);

-- Per-room roles and permission overrides; NULL read/accessible/write/upload = room default.
CREATE TABLE user_permission_overrides (
    room INTEGER NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    "user" INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    banned BOOLEAN NOT NULL DEFAULT FALSE,
    read BOOLEAN,
    accessible BOOLEAN,
    write BOOLEAN,
    upload BOOLEAN,
    moderator BOOLEAN NOT NULL DEFAULT FALSE,
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    visible_mod BOOLEAN NOT NULL DEFAULT TRUE,
    PRIMARY KEY(room, "user"),
    CHECK(NOT (banned AND (moderator OR admin)))
) WITHOUT ROWID;
CREATE INDEX user_permission_overrides_mods ON user_permission_overrides(room) WHERE moderator;

-- Scheduled permission changes (applied by the cleanup job at `at`).
CREATE TABLE user_permission_futures (
    room INTEGER NOT NULL REFERENCES rooms ON DELETE CASCADE,
    "user" INTEGER NOT NULL REFERENCES users ON DELETE CASCADE,
    at FLOAT NOT NULL,
    read BOOLEAN,
    write BOOLEAN,
    upload BOOLEAN
);
CREATE INDEX user_permission_futures_at ON user_permission_futures(at);
CREATE INDEX user_permission_futures_room_user ON user_permission_futures(room, "user");

-- Scheduled bans and unbans; room NULL = global.
CREATE TABLE user_ban_futures (
    room INTEGER REFERENCES rooms ON DELETE CASCADE,
    "user" INTEGER NOT NULL REFERENCES users ON DELETE CASCADE,
    at FLOAT NOT NULL,
    banned BOOLEAN NOT NULL
);
CREATE INDEX user_ban_futures_at ON user_ban_futures(at);
CREATE INDEX user_ban_futures_room_user ON user_ban_futures(room, "user");

-- Request nonces seen in the last day (replay protection).
CREATE TABLE user_request_nonces (
    "user" INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    nonce BLOB NOT NULL UNIQUE,
    expiry FLOAT NOT NULL DEFAULT ((julianday('now') - 2440587.5 + 1.0) * 86400.0)
);
CREATE INDEX user_request_nonces_expiry ON user_request_nonces(expiry);

-- Blinded direct messages; they expire after 15 days.
CREATE TABLE inbox (
    id INTEGER PRIMARY KEY,
    recipient INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sender INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    body BLOB NOT NULL,
    posted_at FLOAT DEFAULT ((julianday('now') - 2440587.5) * 86400.0),
    expiry FLOAT DEFAULT ((julianday('now') - 2440587.5 + 15.0) * 86400.0)
);
CREATE INDEX inbox_recipient ON inbox(recipient);

-- Views ---------------------------------------------------------------------------------------

-- Reactions joined with who reacted; inserting into it creates the reaction row when needed.
CREATE VIEW message_reactions AS
SELECT reactions.*, user_reactions."user", user_reactions.at
    FROM reactions
    JOIN user_reactions ON user_reactions.reaction = reactions.id;

-- Reactors ranked by time per reaction (`_order` 1 = first).
CREATE VIEW first_reactors AS
SELECT *, rank() OVER (PARTITION BY reaction ORDER BY at) AS _order
    FROM user_reactions;

-- Messages plus the poster's session ID and the whisper target's session ID.
CREATE VIEW message_details AS
SELECT messages.*, poster.session_id, target.session_id AS whisper_to
    FROM messages
    JOIN users poster ON poster.id = messages."user"
    LEFT JOIN users target ON target.id = messages.whisper;

-- Message rows without the payload bytes, for inspection.
CREATE VIEW message_metadata AS
SELECT id, room, "user", session_id, posted, edited, seqno, seqno_data, seqno_reactions,
        seqno_creation, filtered, whisper_to, whisper_mods,
        length(data) AS data_unpadded, data_size, length(signature) AS signature_length
    FROM message_details;

-- Effective permissions of every user in every room: the override where set, else the room
-- default; global moderators may do everything, global bans win.
CREATE VIEW user_permissions AS
SELECT
    rooms.id AS room,
    users.id AS "user",
    users.session_id,
    CASE WHEN users.banned THEN TRUE
        ELSE COALESCE(o.banned, FALSE) END AS banned,
    CASE WHEN users.moderator THEN TRUE
        ELSE COALESCE(o.read, rooms.read) END AS read,
    CASE WHEN users.moderator THEN TRUE
        ELSE COALESCE(o.accessible, rooms.accessible) END AS accessible,
    CASE WHEN users.moderator THEN TRUE
        ELSE COALESCE(o.write, rooms.write) END AS write,
    CASE WHEN users.moderator THEN TRUE
        ELSE COALESCE(o.upload, rooms.upload) END AS upload,
    CASE WHEN users.moderator THEN TRUE
        ELSE COALESCE(o.moderator, FALSE) END AS moderator,
    CASE WHEN users.admin THEN TRUE
        ELSE COALESCE(o.admin, FALSE) END AS admin,
    COALESCE(o.moderator, FALSE) AS room_moderator,
    users.moderator AS global_moderator,
    CASE WHEN o.moderator THEN o.visible_mod
        WHEN users.moderator THEN users.visible_mod
        ELSE FALSE END AS visible_mod
FROM users
    CROSS JOIN rooms
    LEFT JOIN user_permission_overrides o ON o."user" = users.id AND o.room = rooms.id;

-- Moderators of each room, room-level and global. A room-level row decides visibility when
-- present: it is ranked 2 + visible, a global one 0 + visible, and the low bit of the maximum is
-- the visibility that wins.
CREATE VIEW room_moderators AS
SELECT session_id, mods.* FROM (
    SELECT room, "user",
        MAX(vis_rank) & 1 AS visible_mod,
        MAX(admin) AS admin,
        MAX(room_moderator) AS room_moderator,
        MAX(global_moderator) AS global_moderator
    FROM (
        SELECT room, "user",
            CASE WHEN visible_mod THEN 3 ELSE 2 END AS vis_rank,
            admin, TRUE AS room_moderator, FALSE AS global_moderator
        FROM user_permission_overrides
        WHERE moderator
        UNION ALL
        SELECT rooms.id AS room, users.id AS "user",
            CASE WHEN visible_mod THEN 1 ELSE 0 END AS vis_rank,
            admin, FALSE AS room_moderator, TRUE AS global_moderator
        FROM users CROSS JOIN rooms
        WHERE moderator
    ) candidates
    GROUP BY "user", room
) mods
JOIN users ON users.id = mods."user";

-- Triggers: rooms ------------------------------------------------------------------------------

CREATE TRIGGER room_image_expiry AFTER UPDATE ON rooms
FOR EACH ROW WHEN OLD.image IS NOT NULL AND NEW.image IS NOT OLD.image
BEGIN
    UPDATE files SET expiry = 0.0 WHERE id = OLD.image;
END;

CREATE TRIGGER room_metadata_update AFTER UPDATE ON rooms
FOR EACH ROW WHEN NEW.name IS NOT OLD.name
    OR NEW.description IS NOT OLD.description
    OR NEW.image IS NOT OLD.image
BEGIN
    UPDATE rooms SET info_updates = info_updates + 1 WHERE id = NEW.id;
END;

-- Triggers: messages ---------------------------------------------------------------------------

-- A new message takes the room's next sequence number as its data and creation seqno.
CREATE TRIGGER messages_insert_counter AFTER INSERT ON messages
FOR EACH ROW
BEGIN
    UPDATE rooms SET message_sequence = message_sequence + 1 WHERE id = NEW.room;
    UPDATE messages
        SET seqno_data = (SELECT message_sequence FROM rooms WHERE id = NEW.room),
            seqno_creation = (SELECT message_sequence FROM rooms WHERE id = NEW.room)
        WHERE id = NEW.id;
END;

-- An edit or deletion keeps the old version, takes a new seqno and stamps `edited`.
CREATE TRIGGER messages_insert_history AFTER UPDATE OF data ON messages
FOR EACH ROW WHEN NEW.data IS NOT OLD.data
BEGIN
    INSERT INTO message_history (message, data, signature)
        VALUES (NEW.id, OLD.data, OLD.signature);
    UPDATE rooms SET message_sequence = message_sequence + 1 WHERE id = NEW.room;
    UPDATE messages
        SET seqno_data = (SELECT message_sequence FROM rooms WHERE id = NEW.room),
            edited = (julianday('now') - 2440587.5) * 86400.0
        WHERE id = NEW.id;
END;

-- `seqno` always follows the larger of `seqno_data` and `seqno_reactions`.
CREATE TRIGGER messages_seqno_updater_ins AFTER INSERT ON messages
FOR EACH ROW
BEGIN
    UPDATE messages SET seqno = max(seqno_data, seqno_reactions) WHERE id = NEW.id;
END;

CREATE TRIGGER messages_seqno_updater_upd AFTER UPDATE OF seqno_data, seqno_reactions ON messages
FOR EACH ROW
BEGIN
    UPDATE messages SET seqno = max(seqno_data, seqno_reactions) WHERE id = NEW.id;
END;

-- Deleting (data set to NULL) unpins the message and expires its attachments at once.
CREATE TRIGGER messages_after_delete AFTER UPDATE OF data ON messages
FOR EACH ROW WHEN OLD.data IS NOT NULL AND NEW.data IS NULL
BEGIN
    DELETE FROM pinned_messages WHERE message = OLD.id;
    UPDATE files SET expiry = 0.0 WHERE message = OLD.id;
END;

-- DELETE on message_details means: blank the message and drop its reactions.
CREATE TRIGGER message_details_deleter INSTEAD OF DELETE ON message_details
FOR EACH ROW WHEN OLD.data IS NOT NULL
BEGIN
    UPDATE messages SET data = NULL, data_size = NULL, signature = NULL WHERE id = OLD.id;
    DELETE FROM user_reactions
        WHERE reaction IN (SELECT id FROM reactions WHERE message = OLD.id);
END;

-- Triggers: files ------------------------------------------------------------------------------

-- Files of a deleted room lose their room (ON DELETE SET NULL) and expire immediately.
CREATE TRIGGER room_expire_roomless AFTER UPDATE OF room ON files
FOR EACH ROW WHEN NEW.room IS NULL
BEGIN
    UPDATE files SET expiry = 0.0 WHERE id = NEW.id;
END;

-- Triggers: users and roles --------------------------------------------------------------------

-- Admin implies moderator, globally and per room.
CREATE TRIGGER user_update_admins_are_mods AFTER UPDATE OF moderator, admin ON users
FOR EACH ROW WHEN NEW.admin AND NOT NEW.moderator
BEGIN
    UPDATE users SET moderator = TRUE WHERE id = NEW.id;
END;

CREATE TRIGGER user_insert_admins_are_mods AFTER INSERT ON users
FOR EACH ROW WHEN NEW.admin AND NOT NEW.moderator
BEGIN
    UPDATE users SET moderator = TRUE WHERE id = NEW.id;
END;

CREATE TRIGGER user_perms_update_admins_are_mods AFTER UPDATE OF moderator, admin
    ON user_permission_overrides
FOR EACH ROW WHEN NEW.admin AND NOT NEW.moderator
BEGIN
    UPDATE user_permission_overrides SET moderator = TRUE
        WHERE room = NEW.room AND "user" = NEW."user";
END;

CREATE TRIGGER user_perms_insert_admins_are_mods AFTER INSERT ON user_permission_overrides
FOR EACH ROW WHEN NEW.admin AND NOT NEW.moderator
BEGIN
    UPDATE user_permission_overrides SET moderator = TRUE
        WHERE room = NEW.room AND "user" = NEW."user";
END;

-- An override row that no longer overrides anything is removed.
CREATE TRIGGER user_perms_empty_cleanup AFTER UPDATE ON user_permission_overrides
FOR EACH ROW WHEN NOT (NEW.banned OR NEW.moderator OR NEW.admin)
    AND COALESCE(NEW.accessible, NEW.read, NEW.write, NEW.upload) IS NULL
BEGIN
    DELETE FROM user_permission_overrides WHERE room = NEW.room AND "user" = NEW."user";
END;

-- A room ban also forgets the user's activity in that room.
CREATE TRIGGER room_users_remove_banned AFTER UPDATE OF banned ON user_permission_overrides
FOR EACH ROW WHEN NEW.banned
BEGIN
    DELETE FROM room_users WHERE room = NEW.room AND "user" = NEW."user";
END;

-- Room moderator list changes bump the room's info_updates.
CREATE TRIGGER room_metadata_mods_insert AFTER INSERT ON user_permission_overrides
FOR EACH ROW WHEN NEW.moderator OR NEW.admin
BEGIN
    UPDATE rooms SET info_updates = info_updates + 1 WHERE id = NEW.room;
END;

CREATE TRIGGER room_metadata_mods_update AFTER UPDATE ON user_permission_overrides
FOR EACH ROW WHEN NEW.moderator != OLD.moderator OR NEW.admin != OLD.admin
BEGIN
    UPDATE rooms SET info_updates = info_updates + 1 WHERE id = NEW.room;
END;

CREATE TRIGGER room_metadata_mods_delete AFTER DELETE ON user_permission_overrides
FOR EACH ROW WHEN OLD.moderator OR OLD.admin
BEGIN
    UPDATE rooms SET info_updates = info_updates + 1 WHERE id = OLD.room;
END;

-- Global moderator changes affect every room, so every room's info_updates is bumped. (The insert
-- trigger must not look at visibility: PySOGS treats that form as an old bug to upgrade.)
CREATE TRIGGER room_metadata_global_mods_insert AFTER INSERT ON users
FOR EACH ROW WHEN NEW.admin OR NEW.moderator
BEGIN
    UPDATE rooms SET info_updates = info_updates + 1;
END;

CREATE TRIGGER room_metadata_global_mods_update AFTER UPDATE ON users
FOR EACH ROW WHEN NEW.moderator != OLD.moderator
    OR NEW.admin != OLD.admin
    OR NEW.visible_mod != OLD.visible_mod
BEGIN
    UPDATE rooms SET info_updates = info_updates + 1;
END;

CREATE TRIGGER room_metadata_global_mods_delete AFTER DELETE ON users
FOR EACH ROW WHEN OLD.moderator OR OLD.admin
BEGIN
    UPDATE rooms SET info_updates = info_updates + 1;
END;

-- Triggers: pins -------------------------------------------------------------------------------

-- Pinning (or re-pinning) bumps info_updates and makes the message's files permanent; unpinning
-- gives them the standard 15 days from upload.
CREATE TRIGGER room_metadata_pinned_add AFTER INSERT ON pinned_messages
FOR EACH ROW
BEGIN
    UPDATE rooms SET info_updates = info_updates + 1 WHERE id = NEW.room;
    UPDATE files SET expiry = NULL WHERE message = NEW.message;
END;

CREATE TRIGGER room_metadata_pinned_update AFTER UPDATE ON pinned_messages
FOR EACH ROW
BEGIN
    UPDATE rooms SET info_updates = info_updates + 1 WHERE id = NEW.room;
    UPDATE files SET expiry = NULL WHERE message = NEW.message;
END;

CREATE TRIGGER room_metadata_pinned_remove AFTER DELETE ON pinned_messages
FOR EACH ROW
BEGIN
    UPDATE rooms SET info_updates = info_updates + 1 WHERE id = OLD.room;
    UPDATE files SET expiry = uploaded + 15.0 * 86400.0 WHERE message = OLD.message;
END;

-- Triggers: reactions --------------------------------------------------------------------------

CREATE TRIGGER message_reactions_insert INSTEAD OF INSERT ON message_reactions
FOR EACH ROW
BEGIN
    INSERT INTO reactions (message, reaction) VALUES (NEW.message, NEW.reaction)
        ON CONFLICT (message, reaction) DO NOTHING;
    INSERT INTO user_reactions (reaction, "user")
        VALUES ((SELECT id FROM reactions WHERE message = NEW.message AND reaction = NEW.reaction),
                NEW."user");
END;

CREATE TRIGGER reactions_no_update BEFORE UPDATE ON reactions
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'reactions is not UPDATEable');
END;

CREATE TRIGGER user_reactions_no_update BEFORE UPDATE ON user_reactions
FOR EACH ROW
BEGIN
    SELECT RAISE(ABORT, 'user_reactions is not UPDATEable');
END;

-- Adding or removing a reaction takes a new room seqno for the message's reactions.
CREATE TRIGGER user_reactions_insert_seqno AFTER INSERT ON user_reactions
FOR EACH ROW
BEGIN
    UPDATE rooms SET message_sequence = message_sequence + 1
        WHERE id = (SELECT m.room FROM messages m JOIN reactions r ON r.message = m.id
                    WHERE r.id = NEW.reaction);
    UPDATE messages
        SET seqno_reactions = (SELECT message_sequence FROM rooms WHERE rooms.id = messages.room)
        WHERE id = (SELECT message FROM reactions WHERE id = NEW.reaction);
END;

CREATE TRIGGER reactions_delete_seqno BEFORE DELETE ON user_reactions
FOR EACH ROW
BEGIN
    UPDATE rooms SET message_sequence = message_sequence + 1
        WHERE id = (SELECT m.room FROM messages m JOIN reactions r ON r.message = m.id
                    WHERE r.id = OLD.reaction);
    UPDATE messages
        SET seqno_reactions = (SELECT message_sequence FROM rooms WHERE rooms.id = messages.room)
        WHERE id = (SELECT message FROM reactions WHERE id = OLD.reaction);
END;

-- A reaction with no reactors left is deleted.
CREATE TRIGGER reactions_cleanup_empty AFTER DELETE ON user_reactions
FOR EACH ROW
BEGIN
    DELETE FROM reactions
        WHERE id = OLD.reaction
        AND NOT EXISTS (SELECT 1 FROM user_reactions WHERE reaction = OLD.reaction);
END;
