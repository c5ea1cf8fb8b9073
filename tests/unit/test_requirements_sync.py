from oie.devstack.requirements import REPO, render_requirements


def test_the_deploy_requirements_match_pyproject():
    on_disk = (REPO / "functions" / "requirements.txt").read_text()
    assert on_disk == render_requirements(), "run `make requirements` and commit the result"


def test_every_runtime_dependency_is_pinned():
    lines = [line for line in render_requirements().splitlines() if not line.startswith("#")]
    assert lines and all("==" in line for line in lines)
