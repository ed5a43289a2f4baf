-- The know-your-rights library: texts organizers write once per language and send on demand or as a recurring
-- campaign. Written by organizers, not subscribers, so stored as plain text.
CREATE TABLE rights_messages (
    id          bigserial   PRIMARY KEY,
    title       text        NOT NULL UNIQUE CHECK (length(title) BETWEEN 1 AND 100),
    bodies      jsonb       NOT NULL,
    updated_by  text        NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
