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
