-- The sweeper's questions must stay cheap as deliveries grow to millions of rows:
-- "has anything of this alert moved lately?" and "which accepted or sent messages heard nothing for a while?"
CREATE INDEX deliveries_alert_progress ON deliveries (alert_id, updated_at);
CREATE INDEX deliveries_unsettled ON deliveries (updated_at) WHERE state IN ('accepted', 'sent');
