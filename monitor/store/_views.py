"""SQL views for people who query the database directly (sqlite-utils, sqlite3, Datasette).

Created by migration 0002; documented with example queries in docs/reports.md. Changing one means
a new migration that drops and recreates it. Private to the store package (`_schema` applies them).
"""

from __future__ import annotations

VIEWS = """
CREATE VIEW daily_uptime AS
SELECT s.name AS site, p.name AS page, p.kind AS kind, d.day AS day, d.tz AS timezone,
    d.checks AS checks, d.down AS failed_checks, d.blocked AS blocked_checks,
    d.up_ms / 1000.0 AS up_s, d.down_ms / 1000.0 AS down_s, d.blocked_ms / 1000.0 AS blocked_s,
    d.unknown_ms / 1000.0 AS unknown_s,
    CASE WHEN d.up_ms + d.down_ms > 0 THEN round(1.0 * d.up_ms / (d.up_ms + d.down_ms), 6) END AS uptime_ratio,
    round(1.0 * (d.up_ms + d.down_ms + d.blocked_ms) / (d.end_ms - d.start_ms), 6) AS coverage_ratio,
    d.outage_ms / 1000.0 AS outage_s,
    CASE WHEN d.up > 0 THEN d.latency_sum_ms / d.up END AS avg_latency_ms, d.latency_max_ms AS max_latency_ms
FROM rollup_daily d JOIN pages p ON p.id = d.page_id JOIN sites s ON s.id = p.site_id;

CREATE VIEW outage_history AS
SELECT o.id AS id, s.name AS site, p.name AS page, p.kind AS kind,
    strftime('%Y-%m-%dT%H:%M:%SZ', o.started, 'unixepoch') AS started_utc,
    CASE WHEN o.ended IS NOT NULL THEN strftime('%Y-%m-%dT%H:%M:%SZ', o.ended, 'unixepoch') END AS ended_utc,
    strftime('%Y-%m-%d %H:%M:%S', o.started, 'unixepoch', 'localtime') AS started_local,
    CASE WHEN o.ended IS NOT NULL THEN strftime('%Y-%m-%d %H:%M:%S', o.ended, 'unixepoch', 'localtime') END
        AS ended_local,
    round(coalesce(o.ended, CAST(strftime('%s', 'now') AS REAL)) - o.started, 3) AS duration_s,
    o.ended IS NULL AS ongoing, o.cause AS cause, o.failed_checks AS failed_checks, o.last_error AS last_error
FROM outages o JOIN pages p ON p.id = o.page_id JOIN sites s ON s.id = p.site_id;

CREATE VIEW column_freshness AS
SELECT s.name AS site, p.name AS page, p.category AS category, p.tags AS tags, p.discovered_by AS discovered_by,
    p.removed IS NOT NULL AS removed, n.newest_date AS newest_date,
    CAST(julianday(date('now', 'localtime')) - julianday(n.newest_date) AS INTEGER) AS age_days,
    n.items AS items, n.dated_items AS dated_items, st.blank AS blank, st.unreadable AS unreadable,
    strftime('%Y-%m-%dT%H:%M:%SZ', st.updated, 'unixepoch') AS state_updated_utc
FROM pages p JOIN sites s ON s.id = p.site_id
LEFT JOIN (
    SELECT page_id, max(published) AS newest_date, count(*) AS items, count(published) AS dated_items
    FROM items GROUP BY page_id
) n ON n.page_id = p.id
LEFT JOIN page_state st ON st.page_id = p.id
WHERE p.kind = 'column';

CREATE VIEW items_per_month AS
SELECT s.name AS site, p.name AS page, p.category AS category, p.tags AS tags,
    substr(i.published, 1, 7) AS month, count(*) AS items
FROM items i JOIN pages p ON p.id = i.page_id JOIN sites s ON s.id = p.site_id
WHERE i.published IS NOT NULL
GROUP BY p.id, substr(i.published, 1, 7);
"""
"""Time-weighted numbers come from the daily rollups (days with nothing observed have no row)."""
