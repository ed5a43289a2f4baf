-- AlertNet's own tables. Hangfire keeps its tables in the "hangfire" schema.
-- Privacy: no column holds a plaintext phone number. A number is stored as AES-GCM
-- ciphertext (phone_cipher) plus a keyed HMAC-SHA256 blind index (phone_index) for lookup.

CREATE TABLE subscribers (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel       text        NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
    phone_index   bytea       NOT NULL,
    phone_cipher  bytea       NOT NULL,
    language      text        NOT NULL DEFAULT 'en',
    status        text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'opted_out')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel, phone_index)
);

-- Opt-outs are remembered by blind index only, so they survive every purge of subscriber data.
CREATE TABLE opt_outs (
    phone_index   bytea       PRIMARY KEY,
    opted_out_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE groups (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL UNIQUE,
    is_default  boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX groups_one_default ON groups (is_default) WHERE is_default;
INSERT INTO groups (name, is_default) VALUES ('default', true);

CREATE TABLE memberships (
    subscriber_id  bigint      NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    group_id       bigint      NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    status         text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'left')),
    joined_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, subscriber_id)
);
CREATE INDEX memberships_subscriber ON memberships (subscriber_id);

CREATE TABLE alerts (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type           text        NOT NULL CHECK (type IN ('urgent', 'correction', 'all_clear', 'know_your_rights')),
    bodies         jsonb       NOT NULL,
    target_groups  bigint[]    NOT NULL,
    state          text        NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'done', 'cancelled')),
    recipients     integer,
    created_by     text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    fanned_out_at  timestamptz,
    finished_at    timestamptz
);

-- Delivery states only move forward in rank order (delivery_state_rank); see Delivery/DeliveryState.cs.
CREATE FUNCTION delivery_state_rank(state text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE state
        WHEN 'pending'   THEN 0
        WHEN 'sending'   THEN 1
        WHEN 'accepted'  THEN 2
        WHEN 'sent'      THEN 3
        ELSE 4 -- delivered, undelivered, failed, skipped, expired, cancelled: terminal
    END
$$;

CREATE TABLE deliveries (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id       bigint      NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    -- Nulled by the retention job: the link between a person and what they received does not outlive it.
    subscriber_id  bigint      REFERENCES subscribers (id) ON DELETE SET NULL,
    channel        text        NOT NULL,
    language       text        NOT NULL,
    state          text        NOT NULL DEFAULT 'pending' CHECK (state IN (
                       'pending', 'sending', 'accepted', 'sent', 'delivered', 'undelivered',
                       'failed', 'skipped', 'expired', 'cancelled')),
    attempts       integer     NOT NULL DEFAULT 0,
    -- A claim is a lease: a worker that dies mid-send loses it when claimed_until passes.
    claimed_at     timestamptz,
    claimed_until  timestamptz,
    twilio_sid     text,
    error_code     integer,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    accepted_at    timestamptz,
    completed_at   timestamptz,
    UNIQUE (alert_id, subscriber_id)
);
CREATE INDEX deliveries_claimable ON deliveries (alert_id, id) WHERE state IN ('pending', 'sending');
CREATE INDEX deliveries_sid ON deliveries (twilio_sid) WHERE twilio_sid IS NOT NULL;

CREATE TABLE inbound_messages (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_sid    text        NOT NULL UNIQUE,
    channel        text        NOT NULL,
    from_index     bytea       NOT NULL,
    -- The text a subscriber sent is encrypted like a phone number and deleted with retention.
    body_cipher    bytea,
    keyword        text        NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL,
    role        text        NOT NULL CHECK (role IN ('admin', 'organizer', 'coordinator')),
    token_hash  bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE audit_log (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor     text        NOT NULL,
    action    text        NOT NULL,
    subject   text,
    details   jsonb,
    at        timestamptz NOT NULL DEFAULT now()
);
