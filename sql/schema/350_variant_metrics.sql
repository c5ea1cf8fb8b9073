-- variant_metrics: one row per (tenant, campaign, send node, variant) of an A/B/n send node,
-- written by the campaign_experiments job (sql/jobs/variant_metrics.sql, MERGE on the grain
-- keys). Every count is distinct contacts (contact campaigns) sent that variant: delivered,
-- human opens, human clicks, replies (no auto-replies) and leads that became hot or burning
-- after the variant's send. plan_version is the plan of the latest send (where the job reads
-- the node's experiment settings).
create table if not exists variant_metrics (
  tenant_id string not null,
  campaign_id string not null,
  node_id string not null,
  variant_id string not null,
  plan_version string,
  sent int64 not null,
  delivered int64 not null,
  opened int64 not null,
  clicked int64 not null,
  replied int64 not null,
  became_hot int64 not null,
  first_sent_at timestamp,
  last_sent_at timestamp,
  updated_at timestamp not null
)
cluster by tenant_id, campaign_id;

-- experiment_decisions: one row per (tenant, campaign, send node) with variants: the job's
-- latest reading of the experiment (leader against runner-up on the node's metric) and the
-- winner once one is set. winner_variant_id mirrors the Experiments store (Firestore), which
-- decides; decided_at is when the winner was set and never changes after.
create table if not exists experiment_decisions (
  tenant_id string not null,
  campaign_id string not null,
  node_id string not null,
  metric string not null,
  confidence float64 not null,
  min_per_variant int64 not null,
  auto_winner bool not null,
  leader_variant_id string,
  runner_up_variant_id string,
  p_value float64,
  lift float64,
  is_significant bool not null,
  winner_variant_id string,
  status string not null,
  reason string,
  decided_at timestamp,
  evaluated_at timestamp not null
)
cluster by tenant_id, campaign_id;
