-- import_rejects without its PRIMARY KEY, and its original cells compressed with zstd.
--
-- Inserting rejects was the batch writer's slowest statement (a half-known 1M-row file
-- has ~600k of them). Per 122,880 rejects, measured with DuckDB 2.0: 0.26-0.36 s with
-- the key's ART index and the default DICT_FSST on the original cells (JSON text, ~200
-- bytes a reject), 0.14-0.16 s without the key and with zstd, and 27 MB on disk instead
-- of 58 MB. One reject per (batch_id, source_row) is kept by the importer, which gives
-- every input row exactly one outcome, and checked by store.audit.
--
-- Rebuilt rather than altered (a column's compression is set only at CREATE TABLE), in
-- scan order, as in 006.

CREATE TABLE import_rejects_rebuilt (
    batch_id        VARCHAR NOT NULL,
    source_row      BIGINT NOT NULL,
    reason          VARCHAR NOT NULL,
    message         VARCHAR NOT NULL,
    suggested_phone VARCHAR,
    phone           VARCHAR,                         -- for duplicates: the E.164 they share
    original        VARCHAR USING COMPRESSION zstd   -- JSON text: the row's non-empty cells
);

INSERT INTO import_rejects_rebuilt SELECT * FROM import_rejects;
DROP TABLE import_rejects;
ALTER TABLE import_rejects_rebuilt RENAME TO import_rejects;
