-- DNC file loads (the registry's freshness comes from here) and suppression exports.

CREATE TABLE dnc_loads (
    id          VARCHAR PRIMARY KEY,
    source      VARCHAR NOT NULL,
    file        VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    kind        VARCHAR NOT NULL CHECK (kind IN ('numbers', 'full_list', 'change_list')),
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status      VARCHAR NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    lines_total BIGINT,
    added       BIGINT,
    removed     BIGINT,
    unchanged   BIGINT,
    malformed   BIGINT,
    error       VARCHAR
);

CREATE TABLE dnc_load_rejects (
    load_id VARCHAR NOT NULL,
    line    BIGINT NOT NULL,
    text    VARCHAR,
    reason  VARCHAR NOT NULL
);

CREATE TABLE dnc_exports (
    id          VARCHAR PRIMARY KEY,
    exported_at TIMESTAMPTZ NOT NULL,
    full_file   VARCHAR NOT NULL,
    delta_file  VARCHAR NOT NULL,
    numbers     BIGINT NOT NULL,
    added       BIGINT NOT NULL,
    removed     BIGINT NOT NULL,
    sha256      VARCHAR NOT NULL
);

-- The set the latest export wrote: the next delta is computed against it.
CREATE TABLE dnc_export_snapshot (phone VARCHAR PRIMARY KEY);
