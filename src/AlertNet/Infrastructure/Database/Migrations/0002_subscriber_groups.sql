-- Groups subscribers join by keyword, optional double opt-in, and the once-a-day hint.

ALTER TABLE groups ADD COLUMN double_opt_in boolean NOT NULL DEFAULT false;

-- A group's keywords, normalized as Subscribers/Keywords.Normalize does ("east side!" is "EAST SIDE").
-- The group's own name (normalized) is one of them. A keyword belongs to one group only.
CREATE TABLE group_keywords (
    keyword   text   PRIMARY KEY,
    group_id  bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE
);
CREATE INDEX group_keywords_group ON group_keywords (group_id);
INSERT INTO group_keywords (keyword, group_id) SELECT 'DEFAULT', id FROM groups WHERE is_default;

-- 'pending': joined a double opt-in group, waiting for YES. Only 'active' memberships get alerts.
ALTER TABLE memberships DROP CONSTRAINT memberships_status_check;
ALTER TABLE memberships ADD CONSTRAINT memberships_status_check CHECK (status IN ('active', 'pending', 'left'));

-- When a number last got the "we did not understand" hint (at most one a day). Keyed by blind index;
-- a row older than a day means nothing and may be deleted.
CREATE TABLE unknown_text_hints (
    phone_index   bytea       PRIMARY KEY,
    last_hint_at  timestamptz NOT NULL
);
