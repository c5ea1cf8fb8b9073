# BigQuery: the warehouse dataset and who may use it. Tables come from `oie warehouse migrate`.

locals {
  warehouse_writers = sort([
    for name, access in local.function_access : google_service_account.function[name].email if access.warehouse_writer
  ])
}

resource "google_bigquery_dataset" "warehouse" {
  #checkov:skip=CKV_GCP_81:Google-managed encryption is accepted; a CMEK key would need its own key ring, rotation and break-glass process first.
  project       = var.project_id
  dataset_id    = var.bigquery.dataset_id
  friendly_name = "Outbound Intent Engine"
  description   = "Events, sessions, scores, clicks, outcomes and views. Schemas live in sql/schema and are applied by `oie warehouse migrate`."
  location      = var.bigquery.location
  labels        = local.labels

  # Partitioned tables keep two years of partitions unless a table says otherwise.
  default_partition_expiration_ms = var.bigquery.partition_expiration_days * 24 * 60 * 60 * 1000
  delete_contents_on_destroy      = var.bigquery.delete_contents_on_destroy

  # Access is authoritative here: project roles keep their usual meaning, each writing
  # function gets WRITER on this dataset only, analysts' groups may read.
  access {
    role          = "OWNER"
    special_group = "projectOwners"
  }
  access {
    role          = "WRITER"
    special_group = "projectWriters"
  }
  access {
    role          = "READER"
    special_group = "projectReaders"
  }

  dynamic "access" {
    for_each = var.cloudbuild_trigger.service_account == "" ? [] : [var.cloudbuild_trigger.service_account]
    content {
      # The deploying build runs the migration, which creates and alters tables.
      role          = "OWNER"
      user_by_email = access.value
    }
  }

  dynamic "access" {
    for_each = local.warehouse_writers
    content {
      role          = "WRITER"
      user_by_email = access.value
    }
  }

  dynamic "access" {
    for_each = var.bigquery.reader_groups
    content {
      role           = "READER"
      group_by_email = access.value
    }
  }

  depends_on = [google_project_service.this]
}
