-- The hotline inbox (REPORT texts) and organizer commands by SMS from registered phones.

-- A sighting someone texted in. Nothing here is in clear: the text and the reporter's number are AES-GCM
-- ciphertext (the number only so a screen can show its last four digits), and the blind index lets the
-- retention job and abuse checks find one reporter's rows without the number.
-- Retention: there is no deleted_at; the retention job deletes whole rows older than N days
-- (DELETE FROM hotline_reports WHERE received_at < now() - N days), so a report leaves nothing behind.
CREATE TABLE hotline_reports (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at      timestamptz NOT NULL DEFAULT now(),
    channel          text        NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
    reporter_index   bytea       NOT NULL,
    reporter_cipher  bytea       NOT NULL,
    body_cipher      bytea       NOT NULL,
    status           text        NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'verified', 'false_alarm')),
    reviewed_by      text,
    reviewed_at      timestamptz
);
CREATE INDEX hotline_reports_received ON hotline_reports (received_at);

-- Phones allowed to send ALERT <group> <text> by SMS. Registered from the command line (audited).
CREATE TABLE organizer_phones (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL UNIQUE,
    phone_index   bytea       NOT NULL UNIQUE,
    phone_cipher  bytea       NOT NULL,
    -- The language of the organizer's replies and of the alert text they send.
    language      text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- An ALERT waiting for YES <code> from the same phone. Only a keyed hash of the code is kept. Removing the
-- phone removes its pending alerts. Rows older than a day are deleted when the organizer sends the next ALERT.
CREATE TABLE pending_sms_alerts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organizer_phone_id  bigint      NOT NULL REFERENCES organizer_phones (id) ON DELETE CASCADE,
    code_hash           bytea       NOT NULL,
    group_id            bigint      NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    body_cipher         bytea       NOT NULL,
    language            text        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    used_at             timestamptz,
    alert_id            bigint      REFERENCES alerts (id) ON DELETE SET NULL
);
CREATE INDEX pending_sms_alerts_phone ON pending_sms_alerts (organizer_phone_id, created_at);

-- Wrong codes, to allow at most a few per phone per hour. Rows older than an hour mean nothing.
CREATE TABLE sms_alert_code_failures (
    organizer_phone_id  bigint      NOT NULL REFERENCES organizer_phones (id) ON DELETE CASCADE,
    failed_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_alert_code_failures_phone ON sms_alert_code_failures (organizer_phone_id, failed_at);
