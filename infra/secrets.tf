# Secret Manager: one secret per SecretStr setting, mounted as env vars; values are never in Terraform.

locals {
  # The env var names of oie.settings.secret_setting_names(); tests/infra checks they agree.
  # Settings refuses placeholder secrets when OIE_ENV=prod and every function builds Settings,
  # so every function mounts every secret. Values are added by ops (see README), not here.
  secrets = {
    OIE_INBOUND_PARSE_TOKEN = "Token in the SendGrid Inbound Parse URL; the only proof an inbound reply came from SendGrid."
    OIE_SENDGRID_API_KEY    = "SendGrid API key used to send campaign emails and alerts."
    OIE_TOKEN_SIGNING_KEY   = "Key that signs the engine's own tokens (admin sessions, visitor tokens, unsubscribe links)."
  }

  function_secret_pairs = {
    for pair in setproduct(keys(local.functions), keys(local.secrets)) :
    "${pair[0]}/${pair[1]}" => { function = pair[0], secret = pair[1] }
  }
}

resource "google_secret_manager_secret" "setting" {
  for_each = local.secrets

  project   = var.project_id
  secret_id = "${var.prefix}-${lower(replace(trimprefix(each.key, "OIE_"), "_", "-"))}"
  labels    = merge(local.labels, { env-var = lower(replace(each.key, "_", "-")) })

  annotations = {
    description = each.value
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

resource "google_secret_manager_secret_iam_member" "function" {
  for_each = local.function_secret_pairs

  project   = var.project_id
  secret_id = google_secret_manager_secret.setting[each.value.secret].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

# Tenant id-derivation keys (oie-tenant-<tenant>) are created by ops, one per tenant; the
# functions that mint or check ids may read those secrets and no other.
resource "google_project_iam_member" "tenant_secret_accessor" {
  for_each = { for name, access in local.function_access : name => access if access.tenant_secrets }

  project = var.project_id
  role    = "roles/secretmanager.secretAccessor"
  member  = "serviceAccount:${google_service_account.function[each.key].email}"

  condition {
    title       = "oie-tenant-secrets-only"
    description = "Only Secret Manager secrets whose id starts with ${local.tenant_secret_prefix}."
    expression  = "resource.name.startsWith(\"projects/${data.google_project.this.number}/secrets/${local.tenant_secret_prefix}\")"
  }
}

# CRM credentials (oie-crm-<tenant>, see functions/oie/crm/secret_store.py): the console, served by
# the outcomes function, creates the secret and adds a version when a tenant connects its CRM; the
# jobs function reads them to sync. The condition keeps both to those secrets only.
resource "google_project_iam_member" "crm_secret_writer" {
  project = var.project_id
  role    = "roles/secretmanager.admin"
  member  = "serviceAccount:${google_service_account.function["outcomes"].email}"

  condition {
    title       = "oie-crm-secrets-only"
    description = "Only Secret Manager secrets whose id starts with ${local.crm_secret_prefix}."
    expression  = "resource.name.startsWith(\"projects/${data.google_project.this.number}/secrets/${local.crm_secret_prefix}\")"
  }
}

resource "google_project_iam_member" "crm_secret_accessor" {
  project = var.project_id
  role    = "roles/secretmanager.secretAccessor"
  member  = "serviceAccount:${google_service_account.function["jobs"].email}"

  condition {
    title       = "oie-crm-secrets-only"
    description = "Only Secret Manager secrets whose id starts with ${local.crm_secret_prefix}."
    expression  = "resource.name.startsWith(\"projects/${data.google_project.this.number}/secrets/${local.crm_secret_prefix}\")"
  }
}
