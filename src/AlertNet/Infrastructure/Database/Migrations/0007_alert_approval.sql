-- Large sends wait for a second organizer: an alert above Alerts:ApprovalThreshold recipients is created
-- 'awaiting_approval' and is dispatched only when another organizer approves it; 'rejected' when one refuses it.
ALTER TABLE alerts DROP CONSTRAINT alerts_state_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_state_check
    CHECK (state IN ('awaiting_approval', 'queued', 'sending', 'done', 'cancelled', 'rejected'));

ALTER TABLE alerts
    -- The recipients counted when the alert was created, for the approver to see (recipients is set at fan-out).
    ADD COLUMN estimated_recipients  integer,
    ADD COLUMN approved_by           text,
    ADD COLUMN approved_at           timestamptz,
    ADD COLUMN rejected_by           text,
    ADD COLUMN rejected_at           timestamptz,
    ADD COLUMN reject_reason         text;

CREATE INDEX alerts_awaiting_approval ON alerts (created_at) WHERE state = 'awaiting_approval';
CREATE INDEX alerts_recent ON alerts (created_at DESC);
