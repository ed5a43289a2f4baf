-- Replies AlertNet sends to a text (JOIN and STOP confirmations, HELP, RIGHTS, report receipts, organizer command
-- answers). They go through the provider's REST API, not as TwiML, so AlertNet learns each reply's SID and can delete it
-- at the provider like every other message (Subscribers/ReplyOutbox.cs). A row lives only until the provider has taken
-- the reply: then its SID moves to carrier_deletions and the row is gone. Number and text are encrypted like a
-- subscriber's number.
CREATE TABLE outbound_replies (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel            text        NOT NULL CHECK (channel IN ('sms', 'whatsapp')),
    to_cipher          bytea       NOT NULL,
    body_cipher        bytea       NOT NULL,
    state              text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending')),
    attempts           integer     NOT NULL DEFAULT 0,
    claimed_at         timestamptz,
    claimed_until      timestamptz,
    -- As for deliveries: an attempt that got no answer may exist at the provider; ask before sending again.
    unconfirmed_since  timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    -- A reply nobody could send by then (a long outage) is dropped: it would answer a text from long ago.
    expires_at         timestamptz NOT NULL
);
CREATE INDEX outbound_replies_due ON outbound_replies (claimed_until);
