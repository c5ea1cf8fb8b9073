# Firestore (Native mode): the database, composite indexes and TTL policies.

locals {
  # Composite indexes the code's queries need.
  firestore_indexes = {
    # campaign_requeue finds due scheduled actions across tenants (collection group).
    scheduled_actions_due = {
      collection  = "scheduled_actions"
      query_scope = "COLLECTION_GROUP"
      fields = [
        { path = "status", order = "ASCENDING" },
        { path = "due_at", order = "ASCENDING" },
      ]
    }
    # `oie planner reviews list`: a tenant's pending plan reviews, newest first.
    plan_reviews_pending = {
      collection = "plan_reviews"
      fields = [
        { path = "status", order = "ASCENDING" },
        { path = "created_at", order = "DESCENDING" },
      ]
    }
    # An erasure request (oie privacy erase) finds one lead's tracking links.
    links_by_tenant_lead = {
      collection = "links"
      fields = [
        { path = "tenant_id", order = "ASCENDING" },
        { path = "lead_id", order = "ASCENDING" },
      ]
    }
  }

  # Fields queried across every tenant's subcollection (collection group): an inbound reply
  # is matched to its message by the Reply-To token, or by In-Reply-To / References.
  firestore_group_fields = {
    outbound_messages_reply_token    = { collection = "outbound_messages", field = "reply_token" }
    outbound_messages_rfc_message_id = { collection = "outbound_messages", field = "rfc_message_id" }
  }

  # Fields no query filters or sorts on whose values a campaign start writes alike in every
  # document (one timestamp for 100,000 contacts): their single-field index entries would be
  # sequential, which caps the collection near 500 writes a second. Stored, not indexed.
  firestore_unindexed_fields = {
    contact_campaigns_created_at      = { collection = "contact_campaigns", field = "created_at" }
    contact_campaigns_updated_at      = { collection = "contact_campaigns", field = "updated_at" }
    contact_campaigns_node_entered_at = { collection = "contact_campaigns", field = "node_entered_at" }
    contact_campaigns_pending         = { collection = "contact_campaigns", field = "pending" }
    scheduled_actions_created_at      = { collection = "scheduled_actions", field = "created_at" }
  }

  # Collection group -> timestamp field after which Firestore deletes the document.
  # Only for data that is disposable by design: de-dup markers and rate-limit buckets.
  firestore_ttl_fields = {
    rate_buckets       = "expires_at"
    webhook_event_keys = "expire_at"
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
  query_scope = try(each.value.query_scope, "COLLECTION")

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

resource "google_firestore_field" "unindexed" {
  for_each = local.firestore_unindexed_fields

  project    = var.project_id
  database   = google_firestore_database.this.name
  collection = each.value.collection
  field      = each.value.field

  index_config {}
}

resource "google_firestore_field" "group_index" {
  for_each = local.firestore_group_fields

  project    = var.project_id
  database   = google_firestore_database.this.name
  collection = each.value.collection
  field      = each.value.field

  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }
}
