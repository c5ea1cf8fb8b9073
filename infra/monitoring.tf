# Alerts: function 5xx rate, Cloud Tasks backlog, and failed job runs (log-based metric).

locals {
  run_services_filter = join(", ", [for name in sort(keys(local.functions)) : "\"${replace(name, "_", "-")}\""])
  jobs_service_name   = google_cloudfunctions2_function.function["jobs"].service_config[0].service
}

resource "google_monitoring_alert_policy" "function_errors" {
  project               = var.project_id
  display_name          = "OIE ${var.environment}: function 5xx rate above ${var.alerts.error_rate * 100}%"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "5xx share of requests per function"
    condition_threshold {
      filter             = "resource.type = \"cloud_run_revision\" AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\" AND resource.labels.service_name = one_of(${local.run_services_filter})"
      denominator_filter = "resource.type = \"cloud_run_revision\" AND metric.type = \"run.googleapis.com/request_count\" AND resource.labels.service_name = one_of(${local.run_services_filter})"
      comparison         = "COMPARISON_GT"
      threshold_value    = var.alerts.error_rate
      duration           = "300s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
      denominator_aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_RATE"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.labels.service_name"]
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A function answers 5xx to more than ${var.alerts.error_rate * 100}% of requests over 5 minutes. 503 means a backend (Firestore, BigQuery) is down: check the function's logs in Cloud Logging (service name in the incident) and the Google Cloud status page."
  }
}

resource "google_monitoring_alert_policy" "queue_backlog" {
  project               = var.project_id
  display_name          = "OIE ${var.environment}: Cloud Tasks backlog"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  user_labels           = local.labels

  # Depth includes steps scheduled days ahead, so it only catches runaway growth ...
  conditions {
    display_name = "Queue depth above ${var.alerts.queue_depth} tasks"
    condition_threshold {
      filter          = "resource.type = \"cloud_tasks_queue\" AND metric.type = \"cloudtasks.googleapis.com/queue/depth\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alerts.queue_depth
      duration        = "900s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_MAX"
        group_by_fields      = ["resource.labels.queue_id"]
      }
    }
  }

  # ... while the delay between a task's schedule time and its attempt is the real backlog.
  conditions {
    display_name = "p99 task attempt delay above ${var.alerts.queue_delay_seconds}s"
    condition_threshold {
      filter          = "resource.type = \"cloud_tasks_queue\" AND metric.type = \"cloudtasks.googleapis.com/queue/task_attempt_delays\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alerts.queue_delay_seconds * 1000
      duration        = "600s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_PERCENTILE_99"
        cross_series_reducer = "REDUCE_MAX"
        group_by_fields      = ["resource.labels.queue_id"]
      }
    }
  }

  alert_strategy {
    auto_close = "3600s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Campaign steps are waiting longer than planned. Check the campaign_step function's errors and max instances, and the queue's rate limits (infra/tasks.tf)."
  }
}

# The jobs function logs one structured entry with "severity":"ERROR" and a "job" field per failed run.
resource "google_logging_metric" "job_failures" {
  project     = var.project_id
  name        = "${var.prefix}-job-failures"
  description = "Failed runs of registered jobs, by job name."
  filter      = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${local.jobs_service_name}\" AND severity >= ERROR AND jsonPayload.job:*"

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "OIE job failures"

    labels {
      key         = "job"
      value_type  = "STRING"
      description = "Name of the job in functions/oie/jobs/registry.yaml."
    }
  }

  label_extractors = {
    job = "EXTRACT(jsonPayload.job)"
  }
}

resource "google_monitoring_alert_policy" "job_failures" {
  project               = var.project_id
  display_name          = "OIE ${var.environment}: a scheduled job failed"
  combiner              = "OR"
  notification_channels = var.alert_notification_channels
  user_labels           = local.labels

  conditions {
    display_name = "Job failure logged"
    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND metric.type = \"logging.googleapis.com/user/${google_logging_metric.job_failures.name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"

      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_SUM"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["metric.labels.job"]
      }
    }
  }

  alert_strategy {
    auto_close = "86400s"
  }

  documentation {
    mime_type = "text/markdown"
    content   = "A registered job logged an error (job name in the incident's labels). Job runs are idempotent: after fixing the cause, re-run it with `gcloud scheduler jobs run`."
  }
}
