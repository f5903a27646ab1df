-- Contacts' profile pictures: where the encrypted image is and its 32-byte profile key.
ALTER TABLE contacts ADD COLUMN avatar_url TEXT;
ALTER TABLE contacts ADD COLUMN avatar_key BLOB;
