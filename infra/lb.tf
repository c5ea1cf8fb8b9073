# Optional external HTTPS load balancer: go, track and personalize on the tenants' own domains, behind Cloud Armor.

locals {
  lb_enabled   = var.load_balancer.enabled
  lb_functions = local.lb_enabled ? { for name, fn in local.functions : name => fn if fn.edge } : {}

  # Filled in by the load balancer from the client's IP, read by go and track for geo enrichment.
  client_geo_headers = [
    "X-Client-Geo-Country:{client_region}",
    "X-Client-Geo-Region:{client_region_subdivision}",
    "X-Client-Geo-City:{client_city}",
  ]
}

resource "google_compute_region_network_endpoint_group" "function" {
  for_each = local.lb_functions

  project               = var.project_id
  name                  = "${var.prefix}-${replace(each.key, "_", "-")}-neg"
  region                = var.region
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = google_cloudfunctions2_function.function[each.key].service_config[0].service
  }
}

resource "google_compute_security_policy" "edge" {
  count = local.lb_enabled ? 1 : 0

  project     = var.project_id
  name        = "${var.prefix}-edge"
  description = "Throttles each client IP on the tracking endpoints; blocks Log4Shell probes."
  type        = "CLOUD_ARMOR"

  rule {
    action      = "deny(403)"
    priority    = 1000
    description = "Block Log4j (CVE-2021-44228) probes"
    match {
      expr {
        expression = "evaluatePreconfiguredWaf('cve-canary')"
      }
    }
  }

  rule {
    action      = "throttle"
    priority    = 2000
    description = "Per-IP rate limit"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.load_balancer.rate_limit.count
        interval_sec = var.load_balancer.rate_limit.interval_sec
      }
    }
  }

  rule {
    action      = "allow"
    priority    = 2147483647
    description = "Default: allow"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}

resource "google_compute_backend_service" "function" {
  for_each = local.lb_functions

  project                = var.project_id
  name                   = "${var.prefix}-${replace(each.key, "_", "-")}"
  protocol               = "HTTPS"
  load_balancing_scheme  = "EXTERNAL_MANAGED"
  security_policy        = google_compute_security_policy.edge[0].id
  custom_request_headers = local.client_geo_headers

  backend {
    group = google_compute_region_network_endpoint_group.function[each.key].id
  }

  log_config {
    enable      = true
    sample_rate = 0.1
  }
}

resource "google_compute_url_map" "edge" {
  count = local.lb_enabled ? 1 : 0

  project = var.project_id
  name    = "${var.prefix}-edge"
  # Anything that is not /track or /personalize is a click: an unknown path still lands safely.
  default_service = google_compute_backend_service.function["go"].id

  host_rule {
    hosts        = var.load_balancer.domains
    path_matcher = "oie"
  }

  path_matcher {
    name            = "oie"
    default_service = google_compute_backend_service.function["go"].id

    dynamic "path_rule" {
      for_each = local.lb_functions
      content {
        paths   = ["/${path_rule.key}", "/${path_rule.key}/*"]
        service = google_compute_backend_service.function[path_rule.key].id
      }
    }
  }
}

resource "google_compute_managed_ssl_certificate" "edge" {
  count = local.lb_enabled ? 1 : 0

  project = var.project_id
  # Named by its domains, so a changed list makes a new certificate before the old goes.
  name = "${var.prefix}-edge-${substr(sha1(join(",", sort(var.load_balancer.domains))), 0, 8)}"

  managed {
    domains = var.load_balancer.domains
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "google_compute_ssl_policy" "edge" {
  count = local.lb_enabled ? 1 : 0

  project         = var.project_id
  name            = "${var.prefix}-edge"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_target_https_proxy" "edge" {
  count = local.lb_enabled ? 1 : 0

  project          = var.project_id
  name             = "${var.prefix}-edge"
  url_map          = google_compute_url_map.edge[0].id
  ssl_certificates = [google_compute_managed_ssl_certificate.edge[0].id]
  ssl_policy       = google_compute_ssl_policy.edge[0].id
}

resource "google_compute_global_address" "edge" {
  count = local.lb_enabled ? 1 : 0

  project = var.project_id
  name    = "${var.prefix}-edge"
}

resource "google_compute_global_forwarding_rule" "https" {
  count = local.lb_enabled ? 1 : 0

  project               = var.project_id
  name                  = "${var.prefix}-edge-https"
  target                = google_compute_target_https_proxy.edge[0].id
  ip_address            = google_compute_global_address.edge[0].id
  port_range            = "443"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  labels                = local.labels
}

# Plain HTTP only redirects to HTTPS, keeping the query string (the `i` parameter).
resource "google_compute_url_map" "http_redirect" {
  count = local.lb_enabled ? 1 : 0

  project = var.project_id
  name    = "${var.prefix}-edge-http"

  default_url_redirect {
    https_redirect         = true
    redirect_response_code = "MOVED_PERMANENTLY_DEFAULT"
    strip_query            = false
  }
}

resource "google_compute_target_http_proxy" "http_redirect" {
  count = local.lb_enabled ? 1 : 0

  project = var.project_id
  name    = "${var.prefix}-edge-http"
  url_map = google_compute_url_map.http_redirect[0].id
}

resource "google_compute_global_forwarding_rule" "http" {
  count = local.lb_enabled ? 1 : 0

  project               = var.project_id
  name                  = "${var.prefix}-edge-http"
  target                = google_compute_target_http_proxy.http_redirect[0].id
  ip_address            = google_compute_global_address.edge[0].id
  port_range            = "80"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  labels                = local.labels
}
