-- contacts.phone_key: the digits of the E.164 phone as a BIGINT (E.164 has at most 15
-- digits and never starts with 0, so each phone has exactly one key). Every writer sets
-- it with `phone`. An import compares its phones with the stored ones on this key: a
-- hash join on integers reads 8 bytes per stored contact instead of decompressing and
-- hashing every stored phone (10M contacts: 0.19 -> 0.05 s per 250k incoming phones).
--
-- Rebuilt rather than altered, in scan order (which is id order), as in 006.

CREATE TABLE contacts_rebuilt (
    id               BIGINT NOT NULL DEFAULT nextval('contact_ids'),
    phone            VARCHAR NOT NULL,               -- E.164: the contact's identity
    phone_extension  VARCHAR,
    first_name       VARCHAR,
    last_name        VARCHAR,
    email            VARCHAR,
    company          VARCHAR,
    title            VARCHAR,
    attributes       VARCHAR,                        -- JSON text: extra source columns
    phone_region     VARCHAR,
    line_type        VARCHAR,
    time_zones       VARCHAR[],
    created_batch_id VARCHAR NOT NULL,
    created_row      BIGINT,
    last_batch_id    VARCHAR NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    phone_key        BIGINT NOT NULL                 -- CAST(substr(phone, 2) AS BIGINT)
);

INSERT INTO contacts_rebuilt SELECT *, CAST(substr(phone, 2) AS BIGINT) FROM contacts;
DROP TABLE contacts;
ALTER TABLE contacts_rebuilt RENAME TO contacts;
