-- When a window's statistics last changed: a window whose end has passed on
-- the clock is judged only once it has stopped changing for a while, so a
-- replayed or backfilled window is not judged while its rows still arrive.
ALTER TABLE window_stats ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
