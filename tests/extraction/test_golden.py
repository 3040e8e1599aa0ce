"""Golden extraction tests: every saved page of tests/fixtures/ against its expected article (tests/fixtures/README.md).

A case that fails shows one diff per field. If the change is meant, rewrite the expected output with
``python tests/fixtures/regenerate.py CASE`` and review the diff before committing.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _load_golden():
    """tests/fixtures/golden.py (not a package: regenerate.py runs beside it as a script)."""
    spec = importlib.util.spec_from_file_location("golden", FIXTURES / "golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


golden = _load_golden()


@pytest.mark.parametrize("name", golden.case_names())
def test_extraction_matches_the_golden_case(name):
    case = golden.load_case(name)
    actual = golden.observe(case["input"], golden.read_page(name))
    diffs = golden.differences(case["expected"], actual)
    if diffs:
        pytest.fail(f"{name}: {len(diffs)} field(s) differ from {name}.json (- expected, + actual)\n\n"
                    + "\n\n".join(diffs)
                    + f"\n\nIf the change is meant: python tests/fixtures/regenerate.py {name}, then review the diff.",
                    pytrace=False)


def test_every_saved_page_has_its_case_and_every_case_its_page():
    assert golden.page_names() == golden.case_names()
    for name in golden.case_names():
        case = golden.load_case(name)
        assert set(case) == {"about", "input", "expected"} and case["about"], name
        assert set(case["input"]) == {"url", "profile"}, name
