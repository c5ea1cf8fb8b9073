"""A tenant's CRM config: bad input is refused naming what is wrong."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from oie.crm.clients import check_base
from oie.crm.models import CrmConfig, SalesforceCredentials


def test_salesforce_needs_the_orgs_my_domain():
    with pytest.raises(ValidationError, match="My Domain"):
        CrmConfig(provider="salesforce")
    assert CrmConfig(provider="salesforce", salesforce_domain="acme.my").salesforce_domain == "acme.my"
    assert CrmConfig(provider="salesforce", salesforce_domain="acme--dev.sandbox.my")


def test_a_config_holds_a_secret_reference_never_a_token():
    with pytest.raises(ValidationError, match="sm://"):
        CrmConfig(provider="hubspot", secret_ref="pat-na1-1234567890")
    assert CrmConfig(provider="hubspot", secret_ref="sm://projects/p/secrets/oie-crm-acme/versions/1")


def test_each_field_has_one_direction_and_unknown_fields_are_refused():
    config = CrmConfig(provider="hubspot", directions={"tracking_id": "from_crm"})
    assert "tracking_id" not in config.written_fields() and "intent_score" in config.written_fields()
    with pytest.raises(ValidationError, match="unknown field 'deal_stage'"):
        CrmConfig(provider="hubspot", directions={"deal_stage": "from_crm"})


def test_salesforce_credentials_are_key_colon_secret():
    parsed = SalesforceCredentials.parse("3MVG9key:s3cr3t:with:colons")
    assert (parsed.consumer_key, parsed.consumer_secret) == ("3MVG9key", "s3cr3t:with:colons")
    assert "s3cr3t" not in repr(parsed)
    with pytest.raises(ValueError, match="consumer_key:consumer_secret"):
        SalesforceCredentials.parse("no-colon")


def test_a_crm_base_url_is_https_or_this_machine():
    assert check_base("https://api.hubapi.com/", "X") == "https://api.hubapi.com"
    assert check_base("http://127.0.0.1:9000", "X") == "http://127.0.0.1:9000"
    with pytest.raises(ValueError, match="OIE_CRM_HUBSPOT_HOST"):
        check_base("http://api.hubapi.com", "OIE_CRM_HUBSPOT_HOST")
