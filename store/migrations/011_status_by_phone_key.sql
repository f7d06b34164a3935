-- contacts_view's status from dnc_current on the phone keys (010), not from the view
-- dnc_suppressed: that view groups every suppressed number with its sources for every
-- query before the join narrows it (1M contacts against a 5M-number registry: 0.54-0.80
-- s -> 0.12-0.13 s). The same rule: a contact is dnc while some source's latest event
-- for its phone is an add. A ledger phone that is not E.164 has no key, and no contact
-- has such a phone.

CREATE OR REPLACE VIEW contacts_view AS
SELECT c.*,
       CASE WHEN EXISTS (
           SELECT 1 FROM dnc_current d WHERE d.phone_key = c.phone_key AND d.action = 'add'
       ) THEN 'dnc' ELSE 'active' END AS status,
       k.last_called_at,
       coalesce(k.call_count, 0) AS call_count
FROM contacts c
LEFT JOIN (
    SELECT phone, max(started_at) AS last_called_at, count(*) AS call_count
    FROM calls GROUP BY phone
) k ON k.phone = c.phone;
