# Shared locals: names, labels and the project lookup every other file uses.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  labels = merge(var.labels, {
    app         = "oie"
    environment = var.environment
    managed-by  = "terraform"
  })

  # Tenant id-derivation keys are created by ops (one secret per tenant) under this prefix;
  # the code looks them up by name, so the prefix is part of the contract, not a setting.
  tenant_secret_prefix = "oie-tenant-"
  # Tenants' CRM tokens, written when a tenant connects its CRM (oie.crm.secret_store).
  crm_secret_prefix = "oie-crm-"
}
