"""Every relative link in README.md and docs/ points at a file that exists (and, with a
`#fragment`, at a heading of that file), so moving or renaming a page cannot leave dead links.

The code's own pointers into the docs are held to the same rule: a comment, a docstring or a
system-check hint that names `docs/<page>.md` (with a `#fragment` or a quoted section), a section
of the README, or any other `.md` file must name one that exists. The README is short and only
points into docs/, so code never says "the README lists..." without a section it has.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
# Where the code's pointers into the docs live: the project's own source, scripts and config.
CODE_SUFFIXES = {".py", ".js", ".mjs", ".html", ".css", ".toml", ".yml", ".yaml", ".conf", ".service", ".sh", ".cfg"}
CODE_NAMES = {"Makefile", "Procfile", "Dockerfile", "run"}
NOT_CODE = {".git", ".venv", ".uv", "node_modules", "staticfiles", "test-artifacts", "vendor", "seeds"}

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+).+?\1", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
# `docs/page.md`, `docs/page.md#anchor`, `docs/page.md, "Section"` (or section 'Section'); the
# README by name, with or without a section; any other `Name.md`.
DOC_REFERENCE = re.compile(
    r"""(?<![\w/.-])(?P<target>(?:docs/[\w./-]+?|[\w-][\w.-]*?)\.md|README)\b"""
    r"""(?:\#(?P<anchor>[\w-]+)|,?\s+(?:section\s+)?["'“](?P<section>[^"'”\n]+)["'”])?"""
)


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Overrides the suite's autouse fixture of that name: these tests read files, not Redis."""


def prose(text: str) -> str:
    """The text without fenced code blocks or code spans, where brackets are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def heading_anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces
    as hyphens, and -1, -2... on repeats."""
    anchors: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text())):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        anchor, repeat = slug, 0
        while anchor in anchors:
            repeat += 1
            anchor = f"{slug}-{repeat}"
        anchors.add(anchor)
    return anchors


def relative_links(page: Path) -> list[str]:
    text = prose(page.read_text())
    targets = INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text)
    return [t for t in targets if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE)]  # no http:, mailto:


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    broken = []
    for target in relative_links(page):
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif fragment and file.suffix == ".md" and fragment not in heading_anchors(file):
            broken.append(f"{target}: no heading #{fragment} in {file.relative_to(root)}")
    return broken


def slug(text: str) -> str:
    return re.sub(r"[^\w\- ]", "", text.lower()).strip().replace(" ", "-")


def section_slugs(page: Path) -> set[str]:
    """The page's heading anchors, and the same without a repeat's -1, -2..."""
    anchors = heading_anchors(page)
    return anchors | {re.sub(r"-\d+$", "", anchor) for anchor in anchors}


def code_files(root: Path = ROOT) -> list[Path]:
    files = []
    for path in root.rglob("*"):
        parts = path.relative_to(root).parts
        if any(part in NOT_CODE or (part.startswith(".") and part != ".ci") for part in parts[:-1]):
            continue
        if path.is_file() and (path.suffix in CODE_SUFFIXES or path.name in CODE_NAMES):
            files.append(path)
    return sorted(files)


def broken_doc_references(source: Path, root: Path = ROOT) -> list[str]:
    """The references to docs in one code file that lead nowhere, as `line: reference: why`."""
    broken = []
    for number, line in enumerate(source.read_text(errors="replace").splitlines(), start=1):
        for found in DOC_REFERENCE.finditer(line):
            target, anchor, section = found["target"], found["anchor"], found["section"]
            page = root / ("README.md" if target == "README" else target)
            if "/" not in target and target != "README" and not page.is_file():
                page = next(iter(sorted(root.glob(f"docs/**/{target}"))), page)  # a bare name: any page of docs/
            why = None
            if not page.is_file():
                why = "no such file"
            elif target == "README" and not section:
                why = "names no section of the README (point into docs/ instead)"
            elif anchor and anchor not in heading_anchors(page):
                why = f"no heading #{anchor}"
            elif section and slug(section) not in section_slugs(page):
                why = f"no section {section!r}"
            if why:
                broken.append(f"{source.relative_to(root)}:{number}: {found.group(0)}: {why}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    assert broken_links(page) == []


def test_every_docs_page_is_linked_from_the_readme_or_the_docs_index() -> None:
    linked = {
        (page.parent / target.partition("#")[0]).resolve()
        for page in (ROOT / "README.md", ROOT / "docs" / "README.md", ROOT / "docs" / "decisions" / "README.md")
        for target in relative_links(page)
    }
    orphans = [str(page.relative_to(ROOT)) for page in PAGES if page not in linked and page.name != "README.md"]
    assert orphans == []


def test_the_checker_finds_a_dead_link_and_a_dead_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## A `code` heading, with punctuation\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#a-code-heading-with-punctuation) [gone](missing.md) [bad](other.md#nowhere)\n"
        "[web](https://example.com/x.md) `[not a link](nowhere.md)`\n"
        "```\n[in code](nowhere.md)\n```\n"
    )
    assert broken_links(page, root=tmp_path) == [
        "missing.md: no such file",
        "other.md#nowhere: no heading #nowhere in other.md",
    ]


def test_the_codes_references_to_the_docs_resolve() -> None:
    """Comments, docstrings and system-check hints (betting/checks.py...) point at pages and
    sections that exist."""
    sources = [path for path in code_files() if path != Path(__file__)]
    assert len(sources) > 100  # the walk found the project
    assert [problem for source in sources for problem in broken_doc_references(source)] == []


def test_the_checker_finds_dead_references_in_code(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Project\n\n## The two commands\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "engine.md").write_text("# Engine\n\n### Parameters\n\n## Measured\n")
    code = tmp_path / "module.py"
    code.write_text(
        '# fine: docs/engine.md, docs/engine.md#measured, docs/engine.md, "Parameters"\n'
        "# fine: README, section 'The two commands'; pyproject's readme = \"README.md\"\n"
        "# see docs/gone.md and the protocol of DESIGN.md\n"
        '# docs/engine.md#nowhere, docs/engine.md, "Close codes"\n'
        "hint = \"See the ODDS_* variables in README, section 'The odds engine'.\"\n"
        "# the README lists them for clients\n"
    )
    assert broken_doc_references(code, root=tmp_path) == [
        "module.py:3: docs/gone.md: no such file",
        "module.py:3: DESIGN.md: no such file",
        "module.py:4: docs/engine.md#nowhere: no heading #nowhere",
        "module.py:4: docs/engine.md, \"Close codes\": no section 'Close codes'",
        "module.py:5: README, section 'The odds engine': no section 'The odds engine'",
        "module.py:6: README: names no section of the README (point into docs/ instead)",
    ]


def documented_benchmarks(page: Path = ROOT / "docs" / "testing.md") -> set[str]:
    """The names in the first column of the table under the page's "Benchmarks" heading."""
    section = page.read_text().split("\n## Benchmarks\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE))


def test_the_benchmark_table_lists_exactly_the_benchmarks_make_bench_runs() -> None:
    """`make bench` runs every bench/bench_*.py (bench/__main__.py); docs/testing.md lists each."""
    runnable = {path.stem.removeprefix("bench_") for path in (ROOT / "bench").glob("bench_*.py")}
    assert documented_benchmarks() == runnable
