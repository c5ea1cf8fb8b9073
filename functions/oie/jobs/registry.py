"""The job registry (`registry.yaml`): what runs when, read by every scheduler."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml
from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator


class JobSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{2,62}$")
    schedule: str
    timezone: str = "Etc/UTC"
    description: str

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron schedule")
        return value


@lru_cache(maxsize=1)
def load_registry() -> dict[str, JobSpec]:
    """Every registered job by name."""
    data = yaml.safe_load(resources.files("oie.jobs").joinpath("registry.yaml").read_text())
    jobs = [JobSpec.model_validate(item) for item in data["jobs"]]
    by_name = {job.name: job for job in jobs}
    if len(by_name) != len(jobs):
        raise ValueError("registry.yaml names a job twice")
    return by_name
