import pytest
from pydantic import SecretStr, ValidationError

from oie.errors import BackendUnavailable, Conflict, InputError, OieError, status_for
from oie.http import error_response
from oie.settings import Settings, secret_setting_names


def test_production_refuses_placeholder_secrets():
    with pytest.raises(ValidationError, match="OIE_SENDGRID_API_KEY still holds a placeholder"):
        Settings(
            env="prod",
            token_signing_key=SecretStr("a-real-key-from-secret-manager"),
            inbound_parse_token=SecretStr("a-real-token"),
        )


def test_production_accepts_real_secrets():
    settings = Settings(
        env="prod",
        sendgrid_api_key=SecretStr("SG.x"),
        token_signing_key=SecretStr("k" * 32),
        inbound_parse_token=SecretStr("t" * 32),
    )
    assert settings.env == "prod"


def test_local_development_runs_with_placeholders():
    assert Settings(env="local").sendgrid_api_key.get_secret_value() == "local-dev-only"


def test_settings_come_from_oie_environment_variables(monkeypatch):
    monkeypatch.setenv("OIE_LINK_CACHE_TTL_SECONDS", "5")
    assert Settings().link_cache_ttl_seconds == 5


def test_secret_names_are_the_secret_fields_env_vars():
    assert secret_setting_names() == ["OIE_INBOUND_PARSE_TOKEN", "OIE_SENDGRID_API_KEY", "OIE_TOKEN_SIGNING_KEY"]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InputError("x"), 400),
        (Conflict("x"), 409),
        (BackendUnavailable("x"), 503),
        (OieError("x"), 500),
    ],
)
def test_each_error_maps_to_its_status(error, status):
    assert status_for(error) == status


def test_the_error_envelope_names_the_field():
    response = error_response(InputError("must be a URL", field="landing"))
    assert response.status_code == 400
    assert response.get_json() == {"error": {"code": "invalid_input", "message": "must be a URL", "field": "landing"}}
