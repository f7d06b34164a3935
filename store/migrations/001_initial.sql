-- Every record of PRODUCT.md section 2. Contact status and call stats are derived
-- (views below), never stored apart from the DNC ledger and the calls.

CREATE SEQUENCE contact_ids START 1;

CREATE TABLE contacts (
    id               BIGINT PRIMARY KEY DEFAULT nextval('contact_ids'),
    phone            VARCHAR NOT NULL UNIQUE,        -- E.164: the contact's identity
    phone_extension  VARCHAR,
    first_name       VARCHAR,
    last_name        VARCHAR,
    email            VARCHAR,
    company          VARCHAR,
    title            VARCHAR,
    attributes       MAP(VARCHAR, VARCHAR),          -- extra source columns, by header
    phone_region     VARCHAR,
    line_type        VARCHAR,
    time_zones       VARCHAR[],
    created_batch_id VARCHAR NOT NULL,
    created_row      BIGINT,
    last_batch_id    VARCHAR NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE import_batches (
    id                    VARCHAR PRIMARY KEY,
    source                VARCHAR NOT NULL,
    sha256                VARCHAR,
    started_at            TIMESTAMPTZ NOT NULL,
    finished_at           TIMESTAMPTZ,
    status                VARCHAR NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    rows_total            BIGINT,
    imported              BIGINT,
    updated               BIGINT,
    duplicates_in_file    BIGINT,
    duplicates_existing   BIGINT,
    invalid               BIGINT,
    dnc                   BIGINT,
    campaign_excluded_dnc BIGINT,
    warnings              BIGINT,
    mapping               JSON,
    region                VARCHAR NOT NULL,
    on_duplicate          VARCHAR NOT NULL CHECK (on_duplicate IN ('skip', 'update', 'fill')),
    campaign              VARCHAR,
    encoding              VARCHAR,
    error                 VARCHAR,
    reverted_at           TIMESTAMPTZ
);

-- One row for every input row that did not become or update a contact.
CREATE TABLE import_rejects (
    batch_id        VARCHAR NOT NULL,
    source_row      BIGINT NOT NULL,
    reason          VARCHAR NOT NULL,
    message         VARCHAR NOT NULL,
    suggested_phone VARCHAR,
    phone           VARCHAR,                         -- for duplicates: the E.164 they share
    original        MAP(VARCHAR, VARCHAR),
    PRIMARY KEY (batch_id, source_row)
);

-- Rows that imported with a malformed optional cell blanked.
CREATE TABLE import_warnings (
    batch_id   VARCHAR NOT NULL,
    source_row BIGINT NOT NULL,
    column_name VARCHAR,
    value      VARCHAR,
    reason     VARCHAR NOT NULL
);

-- Append-only. Keyed by phone, not contact: deleting a contact keeps its DNC.
CREATE SEQUENCE dnc_event_ids START 1;
CREATE TABLE dnc_events (
    id       BIGINT PRIMARY KEY DEFAULT nextval('dnc_event_ids'),
    phone    VARCHAR NOT NULL,
    action   VARCHAR NOT NULL CHECK (action IN ('add', 'remove')),
    source   VARCHAR NOT NULL
             CHECK (source IN ('manual', 'call', 'api', 'registry', 'state', 'file')),
    reason   VARCHAR,
    actor    VARCHAR,
    occurred_at TIMESTAMPTZ NOT NULL,
    batch_id VARCHAR
);

-- A number is suppressed while any source's latest event for it is an 'add'.
CREATE VIEW dnc_sources AS
SELECT phone, source,
       max_by(action, (occurred_at, id)) AS action,
       max(occurred_at) AS occurred_at,
       max_by(reason, (occurred_at, id)) AS reason,
       max_by(actor, (occurred_at, id)) AS actor
FROM dnc_events
GROUP BY phone, source;

CREATE VIEW dnc_suppressed AS
SELECT phone, min(occurred_at) AS since, list(source ORDER BY source) AS sources
FROM dnc_sources
WHERE action = 'add'
GROUP BY phone;

CREATE TABLE campaigns (
    id         VARCHAR PRIMARY KEY,                  -- the campaign's name
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE campaign_members (
    campaign_id VARCHAR NOT NULL,
    contact_id  BIGINT NOT NULL,
    added_at    TIMESTAMPTZ NOT NULL,
    batch_id    VARCHAR,
    PRIMARY KEY (campaign_id, contact_id)
);

CREATE TABLE calls (
    id               VARCHAR PRIMARY KEY,            -- the caller's idempotency key
    phone            VARCHAR NOT NULL,
    contact_id       BIGINT,
    direction        VARCHAR NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    started_at       TIMESTAMPTZ NOT NULL,
    ended_at         TIMESTAMPTZ,
    duration_seconds DOUBLE,
    outcome          VARCHAR CHECK (outcome IN ('completed', 'transferred', 'voicemail',
                         'no_answer', 'busy', 'network_error', 'invalid_number',
                         'dnc_request', 'failed')),
    sentiment        VARCHAR CHECK (sentiment IN ('positive', 'neutral', 'negative', 'flagged')),
    recording_url    VARCHAR,
    transcript       VARCHAR,
    summary          VARCHAR,
    campaign         VARCHAR,
    caller_id        VARCHAR,
    batch_id         VARCHAR,
    recorded_at      TIMESTAMPTZ NOT NULL
);

CREATE VIEW contacts_view AS
SELECT c.*,
       CASE WHEN s.phone IS NULL THEN 'active' ELSE 'dnc' END AS status,
       k.last_called_at,
       coalesce(k.call_count, 0) AS call_count
FROM contacts c
LEFT JOIN dnc_suppressed s ON s.phone = c.phone
LEFT JOIN (
    SELECT phone, max(started_at) AS last_called_at, count(*) AS call_count
    FROM calls GROUP BY phone
) k ON k.phone = c.phone;
