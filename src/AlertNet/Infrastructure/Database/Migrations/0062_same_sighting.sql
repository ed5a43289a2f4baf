-- Reports of the same sighting, grouped by a coordinator: each points at the group's first report (sighting NULL on
-- that one). An alert made from any of them is linked to all of them.
ALTER TABLE hotline_reports ADD COLUMN sighting bigint REFERENCES hotline_reports (id) ON DELETE SET NULL;
CREATE INDEX hotline_reports_sighting ON hotline_reports (sighting) WHERE sighting IS NOT NULL;
