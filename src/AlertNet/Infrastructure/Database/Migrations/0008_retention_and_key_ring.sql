-- Retention, emergency purge, key rotation and the audit viewer.

-- Retention: when the job removed an alert's links to people (deliveries.subscriber_id and twilio_sid).
-- The delivery rows stay, anonymous, so the alert's counts per state never change.
ALTER TABLE alerts ADD COLUMN personal_data_removed_at timestamptz;
CREATE INDEX alerts_retention_due ON alerts (created_at) WHERE personal_data_removed_at IS NULL;
CREATE INDEX inbound_messages_received ON inbound_messages (received_at);
CREATE INDEX unknown_text_hints_last ON unknown_text_hints (last_hint_at);
CREATE INDEX pending_sms_alerts_created ON pending_sms_alerts (created_at);

-- Key rotation: a blind index or ciphertext says which key made it (Privacy/PersonalDataProtector.cs).
-- Key 0 is the original single key: 32-byte indexes and format-1 ciphertext, so existing rows need no change.
-- Key N >= 1: the index is one byte N followed by the HMAC; the ciphertext is 2, N, nonce, tag, text.
CREATE FUNCTION blind_index_key(index bytea) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN length(index) = 32 THEN 0 ELSE get_byte(index, 0) END
$$;
CREATE FUNCTION cipher_key(cipher bytea) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN get_byte(cipher, 0) = 1 THEN 0 ELSE get_byte(cipher, 1) END
$$;

-- Every number's rows are re-indexed together, found by blind index: these lookups must not scan.
CREATE INDEX IF NOT EXISTS subscribers_phone_index ON subscribers (phone_index);
CREATE INDEX hotline_reports_reporter ON hotline_reports (reporter_index);

-- The audit viewer: newest first, filtered by actor or action.
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
