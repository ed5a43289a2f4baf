-- A dump without keys links nobody (README "Key rotation", docs/threat-model.md).
-- Ciphertext format 3 binds each ciphertext to its table, column and row id and pads it; format 3 and the
-- purpose-specific indexes are written by the code from now on, and `rotate-keys` rewrites existing rows
-- (it needs the keys; this migration does only what needs none). Columns that are no longer written are made
-- nullable rather than dropped, so processes still on the previous version keep working during a rolling
-- upgrade; rotate-keys clears what they write meanwhile. A later migration may drop them.

-- The first byte of a ciphertext: 1 and 2 (no associated data, not padded) or 3.
CREATE FUNCTION cipher_format(cipher bytea) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT get_byte(cipher, 0)
$$;

-- A purpose-specific index is key id, purpose, HMAC (34 bytes); 0 for the subscriber blind index (32 or 33 bytes).
-- blind_index_key() reads its key id as for the other formats (byte 0).
CREATE FUNCTION index_purpose(index bytea) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN length(index) = 34 THEN get_byte(index, 1) ELSE 0 END
$$;

-- WhatsApp's 24-hour window, kept on the subscriber instead of being read from every inbound text's sender
-- index: the hour (rounded down) of the number's last WhatsApp message. The claim reads it; retention clears it
-- once it is older than a day.
ALTER TABLE subscribers ADD COLUMN last_whatsapp_inbound_at timestamptz;
UPDATE subscribers s SET last_whatsapp_inbound_at = date_trunc('hour', w.at, 'UTC')
FROM (SELECT from_index, max(received_at) AS at FROM inbound_messages
      WHERE channel = 'whatsapp' AND received_at > now() - interval '1 day' GROUP BY from_index) w
WHERE w.from_index = s.phone_index AND s.channel = 'whatsapp';

-- Inbound texts keep no link to their sender and no Twilio SID: a keyed hash of the SID (purpose-specific,
-- written by the code) makes a repeated MessageSid a no-op. The plain keyword and the sender's blind index
-- are read by nothing and go now; the raw SIDs of existing rows need the key to be hashed: rotate-keys.
ALTER TABLE inbound_messages ADD COLUMN sid_hash bytea;
CREATE UNIQUE INDEX inbound_messages_sid_hash ON inbound_messages (sid_hash);
ALTER TABLE inbound_messages
    ALTER COLUMN message_sid DROP NOT NULL,
    ALTER COLUMN from_index DROP NOT NULL,
    ALTER COLUMN keyword DROP NOT NULL;
UPDATE inbound_messages SET from_index = NULL, keyword = NULL WHERE from_index IS NOT NULL OR keyword IS NOT NULL;
-- inbound_messages_session stays while a previous-version worker may still read from_index in its claim.

-- A hotline report keeps no index of its reporter: nothing looks reports up by number, and the shared blind
-- index joined a reporter to their subscription.
ALTER TABLE hotline_reports ALTER COLUMN reporter_index DROP NOT NULL;
UPDATE hotline_reports SET reporter_index = NULL WHERE reporter_index IS NOT NULL;
DROP INDEX hotline_reports_reporter;

-- Hints are now keyed by their own purpose-specific index. A row older than a day means nothing anyway; the
-- cost of dropping them is at most one more hint today for a number that just had one.
DELETE FROM unknown_text_hints;
