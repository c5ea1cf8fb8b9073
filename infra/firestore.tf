# Firestore (Native mode): the database, composite indexes and TTL policies.

locals {
  # Composite indexes the code's queries need.
  firestore_indexes = {
    # drain_click_spool reads one tenant's spooled clicks, oldest first.
    spooled_clicks_by_tenant = {
      collection = "spooled_clicks"
      fields = [
        { path = "tenant_id", order = "ASCENDING" },
        { path = "created_at", order = "ASCENDING" },
      ]
    }
  }

  # Collection group -> timestamp field after which Firestore deletes the document.
  # Only for data that is disposable by design: de-dup markers and rate-limit buckets.
  firestore_ttl_fields = {
    dedup_markers = "expires_at"
    rate_buckets  = "expires_at"
  }
}

resource "google_firestore_database" "this" {
  project                           = var.project_id
  name                              = var.firestore.database_id
  location_id                       = var.firestore.location_id
  type                              = "FIRESTORE_NATIVE"
  concurrency_mode                  = "OPTIMISTIC"
  app_engine_integration_mode       = "DISABLED"
  point_in_time_recovery_enablement = var.firestore.point_in_time_recovery ? "POINT_IN_TIME_RECOVERY_ENABLED" : "POINT_IN_TIME_RECOVERY_DISABLED"
  delete_protection_state           = var.firestore.delete_protection ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED"
  # `terraform destroy` forgets the database instead of deleting tenants' data.
  deletion_policy = "ABANDON"

  depends_on = [google_project_service.this]
}

resource "google_firestore_index" "composite" {
  for_each = local.firestore_indexes

  project     = var.project_id
  database    = google_firestore_database.this.name
  collection  = each.value.collection
  query_scope = "COLLECTION"

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value.path
      order      = fields.value.order
    }
  }
}

resource "google_firestore_field" "ttl" {
  for_each = local.firestore_ttl_fields

  project    = var.project_id
  database   = google_firestore_database.this.name
  collection = each.key
  field      = each.value

  ttl_config {}

  # Nobody queries by expiry; skipping its single-field index avoids a write hotspot.
  index_config {}
}
