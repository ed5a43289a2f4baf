-- The broadcast engine: a throttle shared by every worker process, scheduling, cancelling.

-- One row per sender (Messaging Service or From number). Each worker reserves a slice of the
-- sender's time before sending that many segments, so all processes together keep to the rate.
-- Urgent sends are paced against each other only (urgent_next_at) and push bulk sends back.
CREATE TABLE sender_throttle (
    sender          text        PRIMARY KEY,
    next_free_at    timestamptz NOT NULL,
    urgent_next_at  timestamptz NOT NULL
);

ALTER TABLE alerts
    ADD COLUMN send_at       timestamptz,
    ADD COLUMN cancelled_at  timestamptz,
    ADD COLUMN cancelled_by  text;

-- Quiet hours per group, in the group's local time: bulk sends wait for the window to end;
-- urgent alerts ignore it.
ALTER TABLE groups
    ADD COLUMN quiet_start  time,
    ADD COLUMN quiet_end    time,
    ADD COLUMN time_zone    text;

-- Recurring know-your-rights campaigns; Hangfire's recurring job "campaign:{id}" fires each one.
CREATE TABLE campaigns (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text        NOT NULL UNIQUE,
    cron           text        NOT NULL,
    time_zone      text        NOT NULL,
    bodies         jsonb       NOT NULL,
    target_groups  text[]      NOT NULL,
    created_by     text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- WhatsApp's session window: the last message a number sent us on WhatsApp.
CREATE INDEX inbound_messages_session ON inbound_messages (from_index, channel, received_at);
