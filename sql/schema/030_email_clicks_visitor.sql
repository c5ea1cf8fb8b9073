-- email_clicks gains the visitor id /go handed out, so a click can be verified by the
-- pixel events of that same visitor (additive: older tables get the column, new ones too).
alter table email_clicks add column if not exists visitor_id string;
