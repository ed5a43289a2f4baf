-- Provenance: how an alert was verified, by whom and when, and the hotline reports it came from. A false alert is
-- the worst failure a rapid-response network has; organizers (and the second organizer approving) see this.
ALTER TABLE alerts
    ADD COLUMN verification text CHECK (verification IN ('in_person', 'photo_video', 'trusted_source', 'unverified')),
    ADD COLUMN verified_by  text,
    ADD COLUMN verified_at  timestamptz;
-- Which alert a report became. The report (encrypted text and number) still goes at its retention, and the link with
-- it; the purge takes it at once.
ALTER TABLE hotline_reports ADD COLUMN alert_id bigint REFERENCES alerts (id) ON DELETE SET NULL;
