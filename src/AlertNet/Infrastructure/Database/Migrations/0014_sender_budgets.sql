-- What one number's texts may make AlertNet do in an hour (Subscribers/SenderLimits.cs): replies sent and hotline
-- reports stored. Shared by every web process, so a flood spread over several of them still meets one limit.
-- The number is known only by an index of its own purpose (an HMAC under a key derived for rate limits), which matches
-- no other table's index; the daily retention job deletes the hours that are over, the purge everything.
CREATE TABLE sender_budgets (
    sender_index  bytea       NOT NULL,
    kind          text        NOT NULL CHECK (kind IN ('reply', 'report')),
    hour          timestamptz NOT NULL,
    used          integer     NOT NULL,
    PRIMARY KEY (sender_index, kind, hour)
);
CREATE INDEX sender_budgets_hour ON sender_budgets (hour);
