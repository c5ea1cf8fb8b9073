# The Cloud Functions (2nd gen): one resource, one entry per entry point in functions/main.py.

locals {
  # Keyed by entry point; tests/infra checks the keys against functions/main.py.
  #   invoker: who may call it: "public" (allUsers), "tasks" (Cloud Tasks) or "scheduler".
  #   edge:    served on the tenants' own domains when the load balancer is enabled.
  # go, track and personalize sit on a visitor's critical path, so they keep a warm instance.
  functions = {
    go = {
      description   = "Resolve a tracking id, record the click, redirect to the landing page."
      memory        = "512M"
      cpu           = "1"
      concurrency   = 80
      min_instances = 1
      max_instances = 100
      timeout       = 10
      invoker       = "public"
      edge          = true
    }
    track = {
      description   = "Accept event batches from the pixel."
      memory        = "512M"
      cpu           = "1"
      concurrency   = 80
      min_instances = 1
      max_instances = 100
      timeout       = 30
      invoker       = "public"
      edge          = true
    }
    personalize = {
      description   = "Serve a known visitor's whitelisted personalization profile."
      memory        = "512M"
      cpu           = "1"
      concurrency   = 80
      min_instances = 1
      max_instances = 50
      timeout       = 10
      invoker       = "public"
      edge          = true
    }
    outcomes = {
      description   = "Outcome API and admin pages."
      memory        = "512M"
      cpu           = "1"
      concurrency   = 40
      min_instances = 0
      max_instances = 10
      timeout       = 60
      invoker       = "public"
      edge          = false
    }
    webhooks = {
      description   = "SendGrid event webhooks and inbound replies."
      memory        = "512M"
      cpu           = "1"
      concurrency   = 40
      min_instances = 0
      max_instances = 20
      timeout       = 60
      invoker       = "public"
      edge          = false
    }
    campaign_step = {
      description   = "Run one due step of one contact's campaign (called by Cloud Tasks)."
      memory        = "512M"
      cpu           = "1"
      concurrency   = 20
      min_instances = 0
      max_instances = 20
      timeout       = 120
      invoker       = "tasks"
      edge          = false
    }
    # Mostly waits on the model, so one instance plans several contacts at once; the
    # campaign-planning queue's rates (var.planner) pace it.
    campaign_plan = {
      description   = "Plan one contact with the language model, then start it or queue it for review (Cloud Tasks)."
      memory        = "512M"
      cpu           = "1"
      concurrency   = 8
      min_instances = 0
      max_instances = 20
      timeout       = 300
      invoker       = "tasks"
      edge          = false
    }
    jobs = {
      description   = "Run one registered job now (called by Cloud Scheduler)."
      memory        = "1G"
      cpu           = "1"
      concurrency   = 1
      min_instances = 0
      max_instances = 3
      timeout       = 1800
      invoker       = "scheduler"
      edge          = false
    }
  }

  # Overrides may raise the minimum (never lower it) and move the ceiling.
  function_scaling = {
    for name, fn in local.functions : name => {
      memory        = coalesce(try(var.function_overrides[name].memory, null), fn.memory)
      min_instances = max(fn.min_instances, coalesce(try(var.function_overrides[name].min_instances, null), 0))
      max_instances = max(
        max(fn.min_instances, coalesce(try(var.function_overrides[name].min_instances, null), 0)),
        coalesce(try(var.function_overrides[name].max_instances, null), fn.max_instances),
      )
    }
  }

  # Plain settings every function reads (each key is a field of oie.settings.Settings).
  # OIE_ENV is always prod in the cloud, so placeholder secrets are refused at start-up.
  function_env = {
    OIE_BQ_DATASET                    = google_bigquery_dataset.warehouse.dataset_id
    OIE_DEFAULT_LANDING_URL           = var.default_landing_url
    OIE_ENV                           = "prod"
    OIE_FIRESTORE_DATABASE            = google_firestore_database.this.name
    OIE_FUNCTIONS_BASE_URL            = local.functions_base_url
    OIE_GCP_PROJECT                   = var.project_id
    OIE_GO_BASE_URL                   = var.go_base_url
    OIE_MAILER                        = "sendgrid"
    OIE_PLANNER_MODEL                 = var.planner.model
    OIE_PLANNER_REGION                = var.planner.location
    OIE_REGION                        = var.region
    OIE_TASKS                         = "cloud"
    OIE_TASKS_INVOKER_SERVICE_ACCOUNT = google_service_account.tasks_invoker.email
    OIE_TASKS_LOCATION                = var.region
    OIE_WAREHOUSE                     = "bigquery"
  }

  # Behind the load balancer an edge function sees one more proxy in X-Forwarded-For.
  function_env_by_name = {
    for name, fn in local.functions : name => merge(local.function_env, {
      OIE_TRUSTED_PROXY_HOPS = tostring(local.lb_enabled && fn.edge ? 2 : 1)
    })
  }

  # Functions are named by their entry point, so `<base>/<entry point>` reaches each one
  # (e.g. the Cloud Tasks target `<base>/campaign_step`); Cloud Run names the backing
  # service with hyphens (campaign-step).
  functions_base_url = "https://${var.region}-${var.project_id}.cloudfunctions.net"
  source_object      = "functions-${var.source_hash}.zip"
}

resource "google_cloudfunctions2_function" "function" {
  for_each = local.functions

  name        = each.key
  project     = var.project_id
  location    = var.region
  description = each.value.description
  labels      = merge(local.labels, { function = replace(each.key, "_", "-") })

  build_config {
    runtime         = "python311"
    entry_point     = each.key
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        # Named by the archive's sha256: new code means a new object, which redeploys.
        object = local.source_object
      }
    }
  }

  service_config {
    available_memory                 = local.function_scaling[each.key].memory
    available_cpu                    = each.value.cpu
    max_instance_request_concurrency = each.value.concurrency
    min_instance_count               = local.function_scaling[each.key].min_instances
    max_instance_count               = local.function_scaling[each.key].max_instances
    timeout_seconds                  = each.value.timeout
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.function[each.key].email
    # Tasks and Scheduler count as internal callers; only browser/webhook facing functions take the internet.
    ingress_settings      = each.value.invoker == "public" ? "ALLOW_ALL" : "ALLOW_INTERNAL_ONLY"
    environment_variables = local.function_env_by_name[each.key]

    dynamic "secret_environment_variables" {
      for_each = local.secrets
      content {
        key        = secret_environment_variables.key
        project_id = var.project_id
        secret     = google_secret_manager_secret.setting[secret_environment_variables.key].secret_id
        version    = "latest"
      }
    }
  }

  depends_on = [
    google_project_service.this,
    google_secret_manager_secret_iam_member.function,
    google_storage_bucket_iam_member.build_source_reader,
  ]
}
