# Buckets: the functions source archives, the pixel script, and their access logs.

resource "google_storage_bucket" "logs" {
  #checkov:skip=CKV_GCP_62:This is the access-log sink for the other buckets; logging it into itself would loop.
  name                        = "${var.project_id}-${var.prefix}-bucket-logs"
  project                     = var.project_id
  location                    = var.region
  labels                      = local.labels
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age = 90
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.this]
}

resource "google_storage_bucket" "source" {
  name                        = "${var.project_id}-${var.prefix}-source"
  project                     = var.project_id
  location                    = var.region
  labels                      = local.labels
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  # Old source archives are only needed to roll back; keep a few weeks of them.
  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }

  logging {
    log_bucket = google_storage_bucket.logs.name
  }

  depends_on = [google_project_service.this]
}

resource "google_storage_bucket" "pixel" {
  #checkov:skip=CKV_GCP_114:Browsers on the tenants' sites load the pixel anonymously; the bucket holds only that built script.
  name                        = "${var.project_id}-${var.prefix}-pixel"
  project                     = var.project_id
  location                    = var.region
  labels                      = local.labels
  uniform_bucket_level_access = true
  # The pixel script is loaded by anonymous browsers on the tenants' sites.
  public_access_prevention = "inherited"

  versioning {
    enabled = true
  }

  cors {
    origin          = ["*"]
    method          = ["GET", "HEAD"]
    response_header = ["Content-Type", "Cache-Control"]
    max_age_seconds = 3600
  }

  logging {
    log_bucket = google_storage_bucket.logs.name
  }

  depends_on = [google_project_service.this]
}

resource "google_storage_bucket_iam_member" "pixel_public_read" {
  #checkov:skip=CKV_GCP_28:The pixel is a public browser script by design; the bucket holds nothing else.
  bucket = google_storage_bucket.pixel.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}
