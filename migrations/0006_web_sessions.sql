-- Sessions of the accountants' web page, kept on the server so that logout
-- and a password change end them in every worker process (the database is
-- what the processes share). The cookie carries a random id; only its
-- SHA-256 is stored, so a copy of this table logs nobody in.
CREATE TABLE web_sessions (
    id_hash     bytea PRIMARY KEY,
    user_name   text        NOT NULL,
    -- SHA-256 of the user's bcrypt hash at login: a session outlives no
    -- password change (see web.passwordPrint).
    password_fp text        NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    revoked_at  timestamptz,
    revoked_why text
);
CREATE INDEX web_sessions_live_by_user ON web_sessions (user_name) WHERE revoked_at IS NULL;
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- Failed logins per key ('user:NAME' or 'addr:PREFIX'), shared by all
-- processes, so guessing is slowed down wherever the guesses land.
CREATE TABLE web_login_failures (
    key          text PRIMARY KEY,
    failures     integer     NOT NULL,
    last_failure timestamptz NOT NULL,
    locked_until timestamptz
);
CREATE INDEX web_login_failures_last ON web_login_failures (last_failure);
