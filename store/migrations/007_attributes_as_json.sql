-- A contact's attributes and a reject's original cells as JSON text ({"header": "value"},
-- non-empty cells only, in the file's column order) instead of MAP(VARCHAR, VARCHAR).
--
-- DuckDB builds and stores a MAP at ~0.7 us per row: a third of what inserting a
-- contact costs. The JSON text is made by polars as the rows are judged and stored as
-- plain text; exports already wrote attributes as this JSON. Read it back with
-- `attributes ->> 'header'`, or CAST(attributes AS JSON) AS MAP(VARCHAR, VARCHAR).

ALTER TABLE contacts ALTER COLUMN attributes TYPE VARCHAR
    USING CAST(to_json(attributes) AS VARCHAR);
ALTER TABLE import_rejects ALTER COLUMN original TYPE VARCHAR
    USING CAST(to_json(original) AS VARCHAR);
