# Optional Cloud Build trigger: every push to main runs cloudbuild.yaml (test, build, migrate, deploy, smoke).

resource "google_cloudbuild_trigger" "main" {
  count = var.cloudbuild_trigger.enabled ? 1 : 0

  project         = var.project_id
  location        = var.cloudbuild_trigger.location
  name            = "${var.prefix}-deploy-${var.environment}"
  description     = "Test and deploy the Outbound Intent Engine to ${var.environment} on push to ${var.cloudbuild_trigger.branch_regex}."
  filename        = "cloudbuild.yaml"
  service_account = "projects/${var.project_id}/serviceAccounts/${var.cloudbuild_trigger.service_account}"

  github {
    owner = var.cloudbuild_trigger.github_owner
    name  = var.cloudbuild_trigger.github_repo

    push {
      branch = var.cloudbuild_trigger.branch_regex
    }
  }

  substitutions = {
    _ENV             = var.environment
    _REGION          = var.region
    _TF_STATE_BUCKET = var.cloudbuild_trigger.state_bucket
  }

  include_build_logs = "INCLUDE_BUILD_LOGS_WITH_STATUS"

  depends_on = [google_project_service.this]
}
