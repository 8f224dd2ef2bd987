"""Code versions come from the modules' source: a change to one changes its layer only."""

from __future__ import annotations

import zipfile

from f1_pipeline.core import code_version
from f1_pipeline.core.code_version import LAYERS, modules_version, wheel_code_versions


def test_a_change_to_a_stats_module_changes_the_stats_version_only(monkeypatch):
    before = {layer: modules_version(modules) for layer, modules in LAYERS.items()}
    real = code_version._source

    def edited(module: str) -> bytes:
        source = real(module)
        return source + b"\n# a fix\n" if module == "f1_pipeline.core.contract" else source

    after = {layer: modules_version(modules, edited) for layer, modules in LAYERS.items()}
    assert after["cleaning"] == before["cleaning"]
    assert after["stats"] != before["stats"]
    assert code_version.code_versions() == before


def test_a_wheel_carries_the_versions_of_its_own_modules(tmp_path):
    wheel = tmp_path / "f1_pipeline-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for modules in LAYERS.values():
            for module in modules:
                archive.writestr(module.replace(".", "/") + ".py", code_version._source(module))
    assert wheel_code_versions(wheel) == code_version.code_versions()
    with zipfile.ZipFile(wheel, "a") as archive:
        archive.writestr("f1_pipeline/core/steps/ingest.py", b"# another build\n")
    changed = wheel_code_versions(wheel)
    assert changed["cleaning"] != code_version.code_versions()["cleaning"]
