# Input variables, sorted alphabetically.

variable "alert_notification_channels" {
  description = "Cloud Monitoring notification channel ids (projects/<p>/notificationChannels/<id>) that alerts are sent to."
  type        = list(string)
  default     = []
}

variable "alerts" {
  description = "Alert thresholds: 5xx share of a function's requests, queue depth, and p99 delay of a task behind its schedule."
  type = object({
    error_rate          = optional(number, 0.05)
    queue_delay_seconds = optional(number, 300)
    queue_depth         = optional(number, 10000)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.alerts.error_rate > 0 && var.alerts.error_rate < 1
    error_message = "alerts.error_rate is a fraction of requests, between 0 and 1 (0.05 = 5%)."
  }
  validation {
    condition     = var.alerts.queue_depth >= 1 && var.alerts.queue_delay_seconds >= 1
    error_message = "alerts.queue_depth and alerts.queue_delay_seconds must be positive."
  }
}

variable "bigquery" {
  description = "The warehouse dataset: id (OIE_BQ_DATASET), location, default partition expiration (2 years) and analysts' reader groups."
  type = object({
    dataset_id                 = optional(string, "oie")
    delete_contents_on_destroy = optional(bool, false)
    location                   = optional(string, "EU")
    partition_expiration_days  = optional(number, 730)
    reader_groups              = optional(list(string), [])
  })
  default  = {}
  nullable = false

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]{0,1023}$", var.bigquery.dataset_id))
    error_message = "bigquery.dataset_id must hold only letters, digits and underscores, and not start with a digit."
  }
  validation {
    condition     = var.bigquery.partition_expiration_days >= 1
    error_message = "bigquery.partition_expiration_days must be at least 1 day."
  }
}

variable "cloudbuild_trigger" {
  description = "Optional Cloud Build trigger that deploys on every push to the main branch of a connected GitHub repository."
  type = object({
    enabled         = optional(bool, false)
    branch_regex    = optional(string, "^main$")
    github_owner    = optional(string, "")
    github_repo     = optional(string, "")
    location        = optional(string, "global")
    service_account = optional(string, "")
    state_bucket    = optional(string, "")
  })
  default  = {}
  nullable = false

  validation {
    condition = !var.cloudbuild_trigger.enabled || (
      var.cloudbuild_trigger.github_owner != "" && var.cloudbuild_trigger.github_repo != "" &&
      var.cloudbuild_trigger.service_account != "" && var.cloudbuild_trigger.state_bucket != ""
    )
    error_message = "cloudbuild_trigger.enabled needs github_owner, github_repo, service_account (email) and state_bucket."
  }
}

variable "default_landing_url" {
  description = "Where /go sends a recipient whose link is unknown and whose host names no tenant (OIE_DEFAULT_LANDING_URL)."
  type        = string

  validation {
    condition     = can(regex("^https://", var.default_landing_url))
    error_message = "default_landing_url must be an https:// URL."
  }
}

variable "environment" {
  description = "Deployment name (dev, staging, prod): used in labels and to pick env/<environment>.* files. The functions always run with OIE_ENV=prod."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of dev, staging, prod."
  }
}

variable "firestore" {
  description = "The Firestore database in Native mode that holds links, tenant config, profiles, state, de-dup markers and rate buckets."
  type = object({
    database_id            = optional(string, "(default)")
    delete_protection      = optional(bool, true)
    location_id            = optional(string, "eur3")
    point_in_time_recovery = optional(bool, true)
  })
  default  = {}
  nullable = false
}

variable "function_overrides" {
  description = "Per-function scaling overrides keyed by entry point (e.g. go). min_instances can raise, never lower, the built-in minimum."
  type = map(object({
    max_instances = optional(number)
    memory        = optional(string)
    min_instances = optional(number)
  }))
  default  = {}
  nullable = false

  validation {
    condition = alltrue([
      for name, o in var.function_overrides :
      (o.min_instances == null || try(o.min_instances >= 0, false)) &&
      (o.max_instances == null || try(o.max_instances >= 1, false))
    ])
    error_message = "function_overrides: min_instances must be >= 0 and max_instances >= 1."
  }
  validation {
    condition = alltrue([
      for name, o in var.function_overrides : o.memory == null || can(regex("^[0-9]+(M|Mi|G|Gi)$", o.memory))
    ])
    error_message = "function_overrides: memory must look like 256M, 512Mi, 1G or 2Gi."
  }
}

variable "go_base_url" {
  description = "Public base of /go links written into emails, i.e. the tracking host (OIE_GO_BASE_URL)."
  type        = string

  validation {
    condition     = can(regex("^https://", var.go_base_url))
    error_message = "go_base_url must be an https:// URL."
  }
}

variable "labels" {
  description = "Extra labels put on every resource that supports them."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "load_balancer" {
  description = "Optional external HTTPS load balancer that serves go, track and personalize on the tenants' own domains, with Cloud Armor."
  type = object({
    enabled = optional(bool, false)
    domains = optional(list(string), [])
    rate_limit = optional(object({
      count        = optional(number, 600)
      interval_sec = optional(number, 60)
    }), {})
  })
  default  = {}
  nullable = false

  validation {
    condition     = !var.load_balancer.enabled || length(var.load_balancer.domains) > 0
    error_message = "load_balancer.enabled needs at least one domain in load_balancer.domains."
  }
  validation {
    condition     = contains([10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600], var.load_balancer.rate_limit.interval_sec)
    error_message = "load_balancer.rate_limit.interval_sec must be one of 10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600."
  }
  validation {
    condition     = var.load_balancer.rate_limit.count >= 1
    error_message = "load_balancer.rate_limit.count must be at least 1 request."
  }
}

variable "planner" {
  description = "The language-model planner: Gemini model and Vertex AI location (OIE_PLANNER_MODEL, OIE_PLANNER_REGION), and the campaign-planning queue's pace."
  type = object({
    location                  = optional(string, "europe-west1")
    max_concurrent_dispatches = optional(number, 20)
    max_dispatches_per_second = optional(number, 5)
    model                     = optional(string, "gemini-2.5-flash")
  })
  default  = {}
  nullable = false

  validation {
    condition     = can(regex("^gemini-[a-z0-9.-]+$", var.planner.model))
    error_message = "planner.model must be a Gemini model id, e.g. gemini-2.5-flash."
  }
  validation {
    condition     = var.planner.max_dispatches_per_second > 0 && var.planner.max_dispatches_per_second <= 500
    error_message = "planner.max_dispatches_per_second must be above 0 and at most 500 (Cloud Tasks' limit)."
  }
  validation {
    condition     = var.planner.max_concurrent_dispatches >= 1 && var.planner.max_concurrent_dispatches <= 5000
    error_message = "planner.max_concurrent_dispatches must be between 1 and 5000."
  }
}

variable "prefix" {
  description = "Short prefix for resource names (service accounts, buckets, queues' siblings); keeps several deployments apart."
  type        = string
  default     = "oie"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,9}[a-z0-9]$", var.prefix))
    error_message = "prefix must be 3-11 characters of lowercase letters, digits and hyphens, starting with a letter."
  }
}

variable "project_id" {
  description = "The Google Cloud project to deploy into."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a valid Google Cloud project id (6-30 lowercase letters, digits, hyphens)."
  }
}

variable "region" {
  description = "Region for functions, queues, scheduler jobs and buckets (OIE_REGION, OIE_TASKS_LOCATION)."
  type        = string
  default     = "europe-west1"
}

variable "source_hash" {
  description = "sha256 of the functions source zip; the zip is uploaded as functions-<hash>.zip, so a new hash redeploys every function."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.source_hash))
    error_message = "source_hash must be a lowercase hex sha256 (64 characters), as printed by sha256sum."
  }
}
