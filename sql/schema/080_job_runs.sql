-- job_runs: one row per run of a scheduled job: when, how it ended, what it touched and
-- the event watermark it advanced to (the next incremental run starts there).
create table if not exists job_runs (
  run_id string not null,
  job string not null,
  started_at timestamp not null,
  finished_at timestamp,
  status string not null,
  rows_written int64,
  rows_scanned int64,
  watermark_from timestamp,
  watermark_to timestamp,
  error string,
  details json
)
partition by date(started_at)
cluster by job;
