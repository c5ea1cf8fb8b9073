import pytest

from oie.devstack import emulator
from oie.devstack.emulator import MissingTool, check_tools


@pytest.mark.parametrize(("missing", "hint"), [("gcloud", "google-cloud-cli"), ("java", "openjdk-17-jre-headless")])
def test_a_missing_tool_names_the_package_to_install(monkeypatch, missing, hint):
    real = emulator.shutil.which
    monkeypatch.setattr(emulator.shutil, "which", lambda name: None if name == missing else real(name))
    with pytest.raises(MissingTool, match=hint):
        check_tools()


def test_a_missing_emulator_component_names_its_package(monkeypatch, tmp_path):
    monkeypatch.setattr(emulator.shutil, "which", lambda name: str(tmp_path / "bin" / name))
    monkeypatch.setattr(emulator.os.path, "realpath", lambda p: p)
    monkeypatch.setattr(emulator, "Path", lambda p: tmp_path / "nowhere" / "bin" / "gcloud" if p else tmp_path)
    with pytest.raises(MissingTool, match="google-cloud-cli-firestore-emulator"):
        check_tools()
