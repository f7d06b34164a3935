-- The ledger's current state, one row per (phone, source): its latest event.
-- Maintained in the same transaction as every append (store/dnc.py append_events),
-- so reading the suppression set no longer aggregates the whole ledger.

CREATE TABLE dnc_current (
    phone       VARCHAR NOT NULL,
    source      VARCHAR NOT NULL,
    action      VARCHAR NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    reason      VARCHAR,
    actor       VARCHAR
);

INSERT INTO dnc_current
SELECT phone, source,
       max_by(action, (occurred_at, id)), max(occurred_at),
       max_by(reason, (occurred_at, id)), max_by(actor, (occurred_at, id))
FROM dnc_events
GROUP BY phone, source;

CREATE OR REPLACE VIEW dnc_sources AS
SELECT phone, source, action, occurred_at, reason, actor FROM dnc_current;
