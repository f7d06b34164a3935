-- Call-history imports (PRODUCT.md section 5): a ledger of imports and their rejects.
-- The calls themselves live in `calls` (001); calls.batch_id names the import that wrote them.

CREATE TABLE call_imports (
    id              VARCHAR PRIMARY KEY,
    source          VARCHAR NOT NULL,
    sha256          VARCHAR NOT NULL,
    format          VARCHAR NOT NULL CHECK (format IN ('csv', 'jsonl')),
    region          VARCHAR NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    status          VARCHAR NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    rows_total      BIGINT,
    inserted        BIGINT,
    already_present BIGINT,
    rejected        BIGINT,
    dnc_requests    BIGINT,
    outbound_to_suppressed BIGINT,  -- calls placed while the number was suppressed
    error           VARCHAR
);

-- One row for every input row that did not become a call and was not already recorded.
CREATE TABLE call_import_rejects (
    import_id  VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    reason     VARCHAR NOT NULL,
    message    VARCHAR NOT NULL,
    original   MAP(VARCHAR, VARCHAR),
    PRIMARY KEY (import_id, source_row)
);
