-- One live ALERT code per organizer phone: a new proposal replaces the phone's unused one (replaced_at), so YES
-- can only ever match the latest proposal. Replaced rows are kept (their code no longer works) so that
-- Alerts:SmsProposalsPerHour can count a phone's proposals of the last hour.
ALTER TABLE pending_sms_alerts ADD COLUMN replaced_at timestamptz;

-- Codes issued before this version: only each phone's newest unused proposal stays live.
UPDATE pending_sms_alerts p SET replaced_at = now()
WHERE p.used_at IS NULL
  AND p.id <> (SELECT max(q.id) FROM pending_sms_alerts q WHERE q.organizer_phone_id = p.organizer_phone_id AND q.used_at IS NULL);

-- The rule itself, whatever the code does: at most one unused, unreplaced proposal per phone.
CREATE UNIQUE INDEX pending_sms_alerts_one_live ON pending_sms_alerts (organizer_phone_id)
    WHERE used_at IS NULL AND replaced_at IS NULL;
