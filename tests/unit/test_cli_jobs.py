import re
from pathlib import Path

from click.testing import CliRunner

from oie.cli.main import cli
from oie.jobs.registry import load_registry
from oie.jobs.remote import scheduler_job_name

INFRA = Path(__file__).resolve().parents[2] / "infra" / "scheduler.tf"


def test_remote_runs_name_the_scheduler_job_terraform_creates():
    assert scheduler_job_name("p1", "europe-west1", "oie", "hot_lead_alerts") == (
        "projects/p1/locations/europe-west1/jobs/oie-hot-lead-alerts"
    )
    # The same naming rule as infra/scheduler.tf, so --remote finds what Terraform made.
    assert re.search(r'name\s*=\s*"\$\{var\.prefix\}-\$\{replace\(each\.key, "_", "-"\)\}"', INFRA.read_text())


def test_an_unknown_job_is_refused_listing_the_registered_ones():
    result = CliRunner().invoke(cli, ["jobs", "run", "nope"])
    assert result.exit_code == 2 and all(name in result.output for name in load_registry())


def test_the_looker_link_command_prints_a_link_for_the_configured_dataset(monkeypatch):
    monkeypatch.setenv("OIE_GCP_PROJECT", "acme-prod")
    from oie.settings import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["warehouse", "looker-link"])
    get_settings.cache_clear()
    assert result.exit_code == 0 and result.output.startswith("https://lookerstudio.google.com/")
    assert "acme-prod" in result.output and "high_intent_leads" in result.output
