-- dnc_current holds each (phone, source) pair's latest event, by (occurred_at, id). Until
-- now its reason and actor came from max_by, which skips NULL values: when the latest
-- event had no reason (a manual add without --reason, after a removal with one), the
-- row showed an older event's reason. append_events now takes the latest event whole
-- (store/dnc.py); this rebuilds the rows written before it, from the ledger.

DELETE FROM dnc_current;

INSERT INTO dnc_current (phone, source, action, occurred_at, reason, actor, phone_key)
SELECT phone, source, action, occurred_at, reason, actor,
       CASE WHEN regexp_full_match(phone, '[+][1-9][0-9]{0,14}')
            THEN CAST(substr(phone, 2) AS BIGINT) END
FROM dnc_events
QUALIFY row_number() OVER (PARTITION BY phone, source ORDER BY occurred_at DESC, id DESC) = 1;
