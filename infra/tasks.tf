# Cloud Tasks queues that drive per-contact campaign steps and planning, with their retry and rate limits.

locals {
  # Mirrors functions/oie/queues.py QUEUES (queue name -> target function); tests/infra
  # checks they agree. The code enqueues by these exact names, so they carry no prefix.
  queues = {
    "campaign-steps" = {
      target                    = "campaign_step"
      max_dispatches_per_second = 20
      max_concurrent_dispatches = 50
      max_attempts              = 30
      min_backoff               = "10s"
      max_backoff               = "3600s"
      max_doublings             = 6
      max_retry_duration        = "172800s"
    }
    "webhook-events" = {
      target                    = "campaign_step"
      max_dispatches_per_second = 50
      max_concurrent_dispatches = 100
      max_attempts              = 30
      min_backoff               = "5s"
      max_backoff               = "1800s"
      max_doublings             = 6
      max_retry_duration        = "86400s"
    }
    # Page visits, level crossings and outcomes for waiting plans: small and quick, like webhook events.
    "intent-signals" = {
      target                    = "campaign_step"
      max_dispatches_per_second = 50
      max_concurrent_dispatches = 100
      max_attempts              = 30
      min_backoff               = "5s"
      max_backoff               = "1800s"
      max_doublings             = 6
      max_retry_duration        = "86400s"
    }
    # One task per contact to plan: the rate and concurrency are what pace a 100,000-contact start
    # against the model's quota. A 503 (model busy, tenant at its concurrency cap) backs off.
    "campaign-planning" = {
      target                    = "campaign_plan"
      max_dispatches_per_second = var.planner.max_dispatches_per_second
      max_concurrent_dispatches = var.planner.max_concurrent_dispatches
      max_attempts              = 20
      min_backoff               = "10s"
      max_backoff               = "600s"
      max_doublings             = 5
      max_retry_duration        = "86400s"
    }
  }

  queue_enqueuers = {
    for pair in setproduct(keys(local.queues), tolist(local.enqueuers)) :
    "${pair[0]}/${pair[1]}" => { queue = pair[0], function = pair[1] }
  }
}

resource "google_cloud_tasks_queue" "queue" {
  for_each = local.queues

  name     = each.key
  project  = var.project_id
  location = var.region

  rate_limits {
    max_dispatches_per_second = each.value.max_dispatches_per_second
    max_concurrent_dispatches = each.value.max_concurrent_dispatches
  }

  # Handlers are idempotent, so retrying generously is safe; the step gives up after the duration.
  retry_config {
    max_attempts       = each.value.max_attempts
    min_backoff        = each.value.min_backoff
    max_backoff        = each.value.max_backoff
    max_doublings      = each.value.max_doublings
    max_retry_duration = each.value.max_retry_duration
  }

  depends_on = [google_project_service.this]
}

resource "google_cloud_tasks_queue_iam_member" "enqueuer" {
  for_each = local.queue_enqueuers

  project  = var.project_id
  location = var.region
  name     = google_cloud_tasks_queue.queue[each.value.queue].name
  role     = "roles/cloudtasks.enqueuer"
  member   = "serviceAccount:${google_service_account.function[each.value.function].email}"
}
