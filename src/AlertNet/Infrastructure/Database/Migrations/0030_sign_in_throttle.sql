-- Failed sign-ins per login name and per client address, shared by every web process, so that guessing is slowed
-- down with growing waits without ever locking an account (which anyone could do to an organizer from anywhere).
-- The key is a SHA-256 of 'name:<lower name>' or 'address:<ip>' (a password typed into the name field is not kept);
-- rows are deleted once their failures are forgotten.
CREATE TABLE sign_in_throttle (
    key             text        PRIMARY KEY,
    failures        integer     NOT NULL,
    last_failure_at timestamptz NOT NULL,
    blocked_until   timestamptz
);
