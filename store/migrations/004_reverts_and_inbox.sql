-- Batch reverts (PRODUCT 3.9) and the inbox's record of files it has handled.

CREATE TABLE batch_reverts (
    batch_id         VARCHAR PRIMARY KEY,
    reverted_at      TIMESTAMPTZ NOT NULL,
    contacts_deleted BIGINT NOT NULL,
    actor            VARCHAR,
    reason           VARCHAR
);

CREATE TABLE inbox_files (
    sha256      VARCHAR NOT NULL,
    name        VARCHAR NOT NULL,
    seen_at     TIMESTAMPTZ NOT NULL,
    outcome     VARCHAR NOT NULL CHECK (outcome IN ('processed', 'duplicate', 'failed')),
    batch_id    VARCHAR,
    moved_to    VARCHAR,
    error       VARCHAR
);
