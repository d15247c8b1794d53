"""A run answered from the cache never loads openai, instructor or huggingface_hub (most of the
CLI's start-up time); each loads when a client is built or the hub is asked."""

from __future__ import annotations

import subprocess
import sys

import instructor

from tests.conftest import ROOT


def modules_after(statement: str) -> set[str]:
    script = f"import sys\n{statement}\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def test_importing_the_cli_loads_no_provider_library() -> None:
    loaded = modules_after("import decompose.cli")
    assert "decompose.cli" in loaded
    assert not {name for name in loaded if name.split(".")[0] in ("openai", "instructor", "huggingface_hub")}


def test_the_llm_names_stay_importable_and_load_the_client_on_use() -> None:
    loaded = modules_after("from decompose.llm import StructuredLLM\nassert StructuredLLM.__name__ == 'StructuredLLM'")
    assert {"openai", "instructor", "decompose.llm.client"} <= loaded


def test_resolve_mode_still_gives_instructor_modes() -> None:
    from decompose.llm import resolve_mode

    assert resolve_mode("auto", "https://api.openai.com/v1") is instructor.Mode.TOOLS
    assert resolve_mode("auto", "http://localhost:8000/v1") is instructor.Mode.JSON_SCHEMA
    assert resolve_mode("md_json", "http://localhost:8000/v1") is instructor.Mode.MD_JSON
