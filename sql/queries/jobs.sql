-- Queries of the job runner.

-- name: last_watermark
-- params: job STRING
-- Where the next incremental run of a job starts: the last successful run's watermark.
select max(watermark_to) as watermark
from job_runs
where job = @job and status = 'ok';

-- name: recent_job_runs
-- params: limit_rows INT64
-- The latest runs of every job (dev pages, `oie jobs status`).
select job, started_at, finished_at, status, rows_written, rows_scanned, watermark_to, error
from job_runs
order by started_at desc
limit @limit_rows;

-- name: last_run_time
-- params: job STRING
-- The `now` of a job's latest successful run: what it stamped is committed up to there.
-- `at` is a reserved word in BigQuery.
select max(started_at) as last_started_at
from job_runs
where job = @job and status = 'ok';
