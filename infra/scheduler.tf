# Cloud Scheduler: one job per entry of the job registry, each posting {"job": name} to the jobs function.

locals {
  # The one registry the jobs function and the local scheduler loop read too: add a job
  # there and it is scheduled here, with no change to Terraform.
  job_registry   = yamldecode(file("${path.module}/../functions/oie/jobs/registry.yaml"))
  scheduled_jobs = { for job in local.job_registry.jobs : job.name => job }
}

resource "google_cloud_scheduler_job" "job" {
  for_each = local.scheduled_jobs

  name             = "${var.prefix}-${replace(each.key, "_", "-")}"
  project          = var.project_id
  region           = var.region
  description      = each.value.description
  schedule         = each.value.schedule
  time_zone        = each.value.timezone
  attempt_deadline = "${local.functions.jobs.timeout}s"

  # Job runs are idempotent; one quick retry covers a cold start or a transient 503.
  retry_config {
    retry_count          = 1
    min_backoff_duration = "30s"
    max_backoff_duration = "300s"
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.function["jobs"].url
    body        = base64encode(jsonencode({ job = each.key }))
    headers = {
      "Content-Type" = "application/json"
    }

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.function["jobs"].url
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.private_invoker]
}
