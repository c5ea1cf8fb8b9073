# Service accounts and least-privilege roles: one identity per function, plus the callers of the private ones.

locals {
  # What each function may touch (keys match local.functions; tests/infra checks it).
  #   project_roles:    project-level roles (Firestore has no finer grain than the project).
  #   warehouse_writer: WRITER on the BigQuery dataset only (see bigquery.tf).
  #   enqueues:         creates Cloud Tasks, so enqueuer on the queues + actAs on the tasks invoker.
  #   tenant_secrets:   reads oie-tenant-* keys to mint or check tracking ids.
  function_access = {
    # Reads links, spools clicks to Firestore when BigQuery is down, streams clicks.
    go = {
      project_roles    = ["roles/datastore.user"]
      warehouse_writer = true
      enqueues         = false
      tenant_secrets   = false
    }
    # Streams events to BigQuery; reads tenant config (allowed origins) from Firestore, writes none.
    track = {
      project_roles    = ["roles/datastore.viewer"]
      warehouse_writer = true
      enqueues         = false
      tenant_secrets   = false
    }
    # Reads tenants, links and personalization profiles only.
    personalize = {
      project_roles    = ["roles/datastore.viewer"]
      warehouse_writer = false
      enqueues         = false
      tenant_secrets   = false
    }
    # Records outcomes; win rates are BigQuery queries, hence jobUser.
    outcomes = {
      project_roles    = ["roles/bigquery.jobUser", "roles/datastore.user"]
      warehouse_writer = true
      enqueues         = true
      tenant_secrets   = true
    }
    webhooks = {
      project_roles    = ["roles/datastore.user"]
      warehouse_writer = true
      enqueues         = true
      tenant_secrets   = false
    }
    # Sends campaign emails whose links carry freshly derived ids.
    campaign_step = {
      project_roles    = ["roles/datastore.user"]
      warehouse_writer = true
      enqueues         = true
      tenant_secrets   = true
    }
    # Plans contacts with Gemini on Vertex AI (the only identity granted aiplatform.user), reads
    # evidence and records generations, then starts the contact (Firestore, campaign-steps tasks).
    campaign_plan = {
      project_roles    = ["roles/aiplatform.user", "roles/bigquery.jobUser", "roles/datastore.user"]
      warehouse_writer = true
      enqueues         = true
      tenant_secrets   = false
    }
    # Scoring, win rates, rollups (BigQuery jobs); personalization sync, nudges, alert markers
    # (Firestore); campaign_requeue re-enqueues lost campaign steps (Cloud Tasks).
    jobs = {
      project_roles    = ["roles/bigquery.jobUser", "roles/datastore.user"]
      warehouse_writer = true
      enqueues         = true
      tenant_secrets   = true
    }
  }

  function_project_roles = {
    for pair in flatten([
      for name, access in local.function_access : [
        for role in access.project_roles : { function = name, role = role }
      ]
    ]) : "${pair.function}/${pair.role}" => pair
  }

  enqueuers = toset([for name, access in local.function_access : name if access.enqueues])

  # Who may invoke each kind of function (see local.functions[*].invoker).
  private_invokers = {
    scheduler = "serviceAccount:${google_service_account.scheduler.email}"
    tasks     = "serviceAccount:${google_service_account.tasks_invoker.email}"
  }
}

resource "google_service_account" "function" {
  for_each = local.functions

  project      = var.project_id
  account_id   = "${var.prefix}-${replace(each.key, "_", "-")}"
  display_name = "OIE ${each.key} function"
  description  = each.value.description

  depends_on = [google_project_service.this]
}

resource "google_service_account" "tasks_invoker" {
  project      = var.project_id
  account_id   = "${var.prefix}-tasks-invoker"
  display_name = "OIE Cloud Tasks invoker"
  description  = "Identity in the OIDC token of every Cloud Task; may only invoke the task handlers."

  depends_on = [google_project_service.this]
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "${var.prefix}-scheduler"
  display_name = "OIE Cloud Scheduler invoker"
  description  = "Identity in the OIDC token of every scheduled job; may only invoke the jobs function."

  depends_on = [google_project_service.this]
}

resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "${var.prefix}-fn-build"
  display_name = "OIE functions image builder"
  description  = "Cloud Build identity that turns the source archive into the functions' images."

  depends_on = [google_project_service.this]
}

resource "google_project_iam_member" "function" {
  for_each = local.function_project_roles

  project = var.project_id
  role    = each.value.role
  member  = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

# Creating a task that carries an OIDC token for the invoker needs actAs on that account only.
resource "google_service_account_iam_member" "enqueuer_acts_as_tasks_invoker" {
  for_each = local.enqueuers

  service_account_id = google_service_account.tasks_invoker.name
  role               = "roles/iam.serviceAccountUser"
  member             = "serviceAccount:${google_service_account.function[each.key].email}"
}

resource "google_project_iam_member" "build" {
  for_each = toset(["roles/artifactregistry.writer", "roles/logging.logWriter"])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.build.email}"
}

resource "google_storage_bucket_iam_member" "build_source_reader" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}

# Invocation: a 2nd gen function is a Cloud Run service, so run.invoker on that service decides.
resource "google_cloud_run_v2_service_iam_member" "public_invoker" {
  # Public by design: called by browsers, email recipients and SendGrid; each checks its own input.
  for_each = { for name, fn in local.functions : name => fn if fn.invoker == "public" }

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.function[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_v2_service_iam_member" "private_invoker" {
  for_each = { for name, fn in local.functions : name => fn if fn.invoker != "public" }

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.function[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = local.private_invokers[each.value.invoker]
}
