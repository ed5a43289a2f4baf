-- Each batch being sent asks several times a second "did any of my recipients opt out since I claimed
-- them?". Opt-outs are rare, so the question starts from the few subscribers whose status changed lately.
CREATE INDEX subscribers_recently_inactive ON subscribers (updated_at) WHERE status <> 'active';

-- A STOP skips the number's pending deliveries, and deleting a subscriber (retention, purge) nulls its
-- deliveries' link: both find deliveries by subscriber, which without this index scans every delivery.
CREATE INDEX deliveries_by_subscriber ON deliveries (subscriber_id);
