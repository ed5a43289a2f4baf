-- Two people for every recurring send too. A campaign whose runs would reach more than Alerts:ApprovalThreshold
-- people waits for a second organizer when it is created or changed ('awaiting_approval'), and again when a run
-- would reach more than 10 % more people than were approved; only an 'active' campaign runs.
-- Campaigns from before this version stay 'active' with nobody's approval on record: their first run above the
-- threshold waits for approval (awaiting_reason 'grew').
ALTER TABLE campaigns
    ADD COLUMN state                text        NOT NULL DEFAULT 'active'
        CHECK (state IN ('awaiting_approval', 'active', 'rejected')),
    -- Why it waits: 'created', 'changed' (PUT), or 'grew' (a run would have reached too many more people).
    ADD COLUMN awaiting_reason      text        CHECK (awaiting_reason IN ('created', 'changed', 'grew')),
    -- Who created or last changed it: the one organizer who may not approve it.
    ADD COLUMN requested_by         text,
    -- The people counted when it was last created, changed or held, for the approver to see.
    ADD COLUMN estimated_recipients integer,
    -- The people a second organizer approved; runs may reach at most 10 % more. NULL: nobody approved it.
    ADD COLUMN approved_recipients  integer,
    ADD COLUMN approved_by          text,
    ADD COLUMN approved_at          timestamptz,
    ADD COLUMN rejected_by          text,
    ADD COLUMN rejected_at          timestamptz,
    ADD COLUMN reject_reason        text,
    ADD COLUMN updated_at           timestamptz,
    -- The last run that sent, so a doubled or retried job cannot run it again straight away.
    ADD COLUMN last_run_at          timestamptz;

UPDATE campaigns SET requested_by = created_by;
ALTER TABLE campaigns ALTER COLUMN requested_by SET NOT NULL;
