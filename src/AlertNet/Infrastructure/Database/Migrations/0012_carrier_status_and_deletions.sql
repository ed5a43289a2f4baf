-- The provider's health per sender, as AlertNet's processes last saw it (Carrier/CarrierHealth.cs): shown to
-- organizers ("Twilio unreachable since 14:03") and by /readyz. No personal data.
CREATE TABLE carrier_status (
    sender        text        PRIMARY KEY,
    down_since    timestamptz,
    last_failure  text,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Messages to delete at the provider (Carrier/ProviderDeletions.cs): every outbound message once it is final and every
-- inbound message once processed, so the provider's message log does not keep who got or sent what. A row holds only
-- the SID (which, with the provider's credentials, gives the message back) until the provider confirms the deletion;
-- then the row goes. Nothing here links a SID to a subscriber, an alert or a delivery.
CREATE TABLE carrier_deletions (
    sid         text        PRIMARY KEY,
    -- delivery, reply, inbound, test: for the counts shown to operators.
    kind        text        NOT NULL,
    queued_at   timestamptz NOT NULL DEFAULT now(),
    due_at      timestamptz NOT NULL DEFAULT now(),
    attempts    integer     NOT NULL DEFAULT 0,
    last_code   integer
);
CREATE INDEX carrier_deletions_due ON carrier_deletions (due_at);

-- A delivery whose send got no answer (or whose worker died while sending) may exist at the provider: from this time
-- on, the provider is asked before any new attempt (Delivery/DeliverySender.cs). Set by the claim that takes such a
-- row over, kept across later claims so the window searched always reaches back to the first unanswered attempt.
ALTER TABLE deliveries ADD COLUMN unconfirmed_since timestamptz;

-- Status checks (Delivery/DeliverySweeper.cs): a message accepted or sent whose final callback has not come is asked
-- about a bounded number of times, with growing pauses, by whichever worker claims it first. When the next check is
-- due (null: no more checks) and how many were made. Replaces the index on updated_at, which every write changed.
ALTER TABLE deliveries
    ADD COLUMN status_checks        smallint NOT NULL DEFAULT 0,
    ADD COLUMN next_status_check_at timestamptz;
DROP INDEX IF EXISTS deliveries_unsettled;
CREATE INDEX deliveries_status_check_due ON deliveries (next_status_check_at)
    WHERE state IN ('accepted', 'sent') AND next_status_check_at IS NOT NULL;
UPDATE deliveries SET next_status_check_at = coalesce(accepted_at, updated_at) + interval '15 minutes'
WHERE state IN ('accepted', 'sent');

-- "Sent, no receipt": the carrier took the message (sent) but never reported delivery, and AlertNet stopped waiting
-- (many carriers send no delivery receipts). Final, and counted apart.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check CHECK (state IN (
    'pending', 'sending', 'accepted', 'sent', 'delivered', 'undelivered', 'failed', 'skipped', 'expired', 'cancelled',
    'sent_no_receipt'));
