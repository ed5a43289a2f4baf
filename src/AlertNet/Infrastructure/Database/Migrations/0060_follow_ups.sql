-- The alert lifecycle: a correction, all-clear or retraction names the alert it follows up, and goes to exactly the
-- people that alert was sent to (Alerts/SendFollowUp.cs), not to whoever is in the groups now.
ALTER TABLE alerts DROP CONSTRAINT alerts_type_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_type_check
    CHECK (type IN ('urgent', 'correction', 'all_clear', 'retraction', 'know_your_rights'));
ALTER TABLE alerts ADD COLUMN follow_up_of bigint REFERENCES alerts (id) ON DELETE SET NULL;
CREATE INDEX alerts_follow_ups ON alerts (follow_up_of) WHERE follow_up_of IS NOT NULL;

-- Who a follow-up goes to, defined once (the approval count and the fan-out both read it): everyone the original
-- was sent to (its message reached the provider: a phone that was off still needs the correction) or is still being
-- sent to, who is reachable now (not opted out since), in their language now, and nobody else. A retraction or
-- all-clear cancels the original's unsent copies first, so those people are not in it.
CREATE FUNCTION follow_up_recipients(original bigint)
RETURNS TABLE (subscriber_id bigint, channel text, phone_index bytea, language text)
LANGUAGE sql STABLE AS $$
    SELECT s.id, s.channel, s.phone_index, s.language
    FROM deliveries d
    JOIN reachable_subscribers s ON s.id = d.subscriber_id
    WHERE d.alert_id = original
      AND d.state IN ('pending', 'sending', 'accepted', 'sent', 'delivered', 'undelivered', 'sent_no_receipt')
$$;
