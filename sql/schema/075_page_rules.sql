-- page_rules: one row per (tenant, page class, pattern): a page whose path matches the
-- regular expression counts as that class (pricing, case_study, product) in sessions.
-- tenant_id '*' holds the defaults, used by tenants without rules of their own.
create table if not exists page_rules (
  tenant_id string not null,
  page_class string not null,
  path_pattern string not null
);

merge page_rules as t
using (
  select '*' as tenant_id, 'pricing' as page_class, r'(?i)/(pricing|plans|price)' as path_pattern
  union all select '*', 'case_study', r'(?i)/(case-stud|customers|success-stor)'
  union all select '*', 'product', r'(?i)/(product|features|platform|solutions)'
) as s
on t.tenant_id = s.tenant_id and t.page_class = s.page_class and t.path_pattern = s.path_pattern
when not matched then insert (tenant_id, page_class, path_pattern) values (s.tenant_id, s.page_class, s.path_pattern);
