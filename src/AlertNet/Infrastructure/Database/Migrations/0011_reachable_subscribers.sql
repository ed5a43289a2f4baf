-- Who can be reached, defined once: every query that counts or selects recipients (fan-out, preview, the
-- approval count, group counts, the overview) reads these views, so the rule has one home.
-- A subscriber is reachable while their subscription is active and their number is not on the opt-out list
-- (which survives purges and holds numbers on every channel).
CREATE VIEW reachable_subscribers AS
SELECT s.id, s.channel, s.phone_index, s.language
FROM subscribers s
WHERE s.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone_index = s.phone_index);

-- A reachable subscriber's active memberships: the people an alert to a group goes to.
CREATE VIEW reachable_members AS
SELECT m.group_id, s.id AS subscriber_id, s.channel, s.phone_index, s.language
FROM memberships m
JOIN reachable_subscribers s ON s.id = m.subscriber_id
WHERE m.status = 'active';
