-- Web app accounts. No real names: a login name, a role and what sign-in needs.
CREATE TABLE users (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               text        NOT NULL,
    role               text        NOT NULL CHECK (role IN ('admin', 'organizer', 'coordinator')),
    -- ASP.NET Core Identity's PasswordHasher format (PBKDF2, salted, versioned).
    password_hash      text        NOT NULL,
    failed_attempts    integer     NOT NULL DEFAULT 0,
    locked_until       timestamptz,
    -- The TOTP secret, AES-GCM encrypted with the configured key (PersonalDataProtector), never in clear.
    totp_secret_cipher bytea,
    -- The last TOTP time step accepted, so a code cannot be used twice.
    totp_last_step     bigint,
    -- Changes whenever the role, password, second factor or state changes: older sessions end.
    security_stamp     text        NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    disabled_at        timestamptz
);
CREATE UNIQUE INDEX users_name ON users (lower(name));

-- ASP.NET Core data-protection keys (they sign session cookies and form tokens), shared by every web
-- process. The XML is encrypted with the configured key before it gets here.
CREATE TABLE data_protection_keys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    friendly_name text        NOT NULL,
    xml           text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
