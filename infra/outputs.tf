# Outputs, sorted alphabetically. Never a secret: secret values are not in Terraform at all.

output "bigquery_dataset_id" {
  description = "The warehouse dataset (OIE_BQ_DATASET), for `oie warehouse migrate`."
  value       = google_bigquery_dataset.warehouse.dataset_id
}

output "function_service_accounts" {
  description = "Service account email of each function, by entry point."
  value       = { for name, sa in google_service_account.function : name => sa.email }
}

output "function_urls" {
  description = "HTTPS URL of each function, by entry point."
  value       = { for name, fn in google_cloudfunctions2_function.function : name => fn.url }
}

output "functions_base_url" {
  description = "Base URL under which every function answers at /<entry point> (OIE_FUNCTIONS_BASE_URL)."
  value       = local.functions_base_url
}

output "load_balancer_ip" {
  description = "IPv4 address to point the tenants' tracking domains at (A records); null without the load balancer."
  value       = local.lb_enabled ? google_compute_global_address.edge[0].address : null
}

output "pixel_bucket" {
  description = "Bucket the pixel script is uploaded to (publicly readable)."
  value       = google_storage_bucket.pixel.name
}

output "pixel_url" {
  description = "Public URL prefix of the pixel script."
  value       = "https://storage.googleapis.com/${google_storage_bucket.pixel.name}/"
}

output "scheduler_service_account" {
  description = "Identity of Cloud Scheduler's OIDC tokens; the only invoker of the jobs function."
  value       = google_service_account.scheduler.email
}

output "source_bucket" {
  description = "Bucket the functions source archives (functions-<sha256>.zip) are uploaded to."
  value       = google_storage_bucket.source.name
}

output "tasks_invoker_service_account" {
  description = "Identity of Cloud Tasks' OIDC tokens (OIE_TASKS_INVOKER_SERVICE_ACCOUNT); the only invoker of campaign_step."
  value       = google_service_account.tasks_invoker.email
}
