"""The project's import graph has no cycle, and `realtime` (infrastructure) imports no domain.

Read from the source with `ast`, every import counted wherever it stands (at the top, inside a
function, under TYPE_CHECKING): a circle that only a late import keeps from failing at start-up
is still a circle to whoever reads or changes the code. Tests, migrations and benchmarks are
left out: they may import anything.

Two graphs: modules (no module may reach itself), and packages (no app may reach itself
through another). The domain apps stand in layers, each importing only the ones below it
(docs/architecture.md):

    inplay          the match feed: folds events into the state, settles from it
    accounts        sign-up (a wallet, limits), sign-in, sessions, the wallet and ledger API
    safergambling   limits and breaks: reads the ledger and the deposits
    history | payments   the bettor's ledger filtered, exports | deposits and withdrawals
    betting         matches, odds, bets, wallets and the ledger

Where a lower app must reach a higher one, the import still points down: safer gambling fills
betting's wallet-rule hooks in its `ready()` (bets and deposits ask it through them), and sends
a signal when a break starts (accounts ends the sessions on it).

The entry points (settings, URLs, ASGI/WSGI, the WebSocket routing, the Daphne command)
assemble every app and no app imports them: they stand apart as `config:entry`, beside the
shared API pieces of `config` that the apps do import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_THE_PROJECTS = ("tests", "bench", "docs", "deploy", "docker", "node_modules")
# The project's packages: every top-level directory that is one (an app, config, workers).
PACKAGES = tuple(
    sorted(
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_THE_PROJECTS and not path.parent.name.startswith(".")
    )
)
INFRASTRUCTURE = ("realtime", "config")
DOMAINS = tuple(package for package in PACKAGES if package not in INFRASTRUCTURE)
ENTRY_POINTS = ("config.settings", "config.urls", "config.asgi", "config.wsgi", "config.routing", "config.daphne")
LEFT_OUT = ("tests", "migrations")
# None: a new circle fails the test. Break it (docs/architecture.md says how), never list it here.
KNOWN_APP_CIRCLES: list[list[str]] = []


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if any(part in LEFT_OUT for part in parts):
                continue
            name = ".".join(parts).removesuffix(".__init__")
            modules[name] = path
    return modules


def imported_names(module: str, path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                yield f"{base}.{alias.name}"  # `from package import module` imports the module


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = {resolve(name) for name in imported_names(module, path)}
        graph[module] = {target for target in targets if target is not None and target != module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each a circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def package_of(module: str) -> str:
    if module.startswith(ENTRY_POINTS):
        return "config:entry"
    return module.split(".")[0]


def test_no_module_imports_itself_through_others() -> None:
    assert cycles(import_graph()) == []


def test_no_app_imports_itself_through_another() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in import_graph().items():
        edges = packages.setdefault(package_of(module), set())
        edges |= {package_of(target) for target in targets} - {package_of(module)}
    assert cycles(packages) == KNOWN_APP_CIRCLES


def test_realtime_imports_no_domain_app() -> None:
    graph = import_graph()
    reached = {
        (module, target)
        for module, targets in graph.items()
        if module.startswith("realtime")
        for target in targets
        if target.split(".")[0] in DOMAINS or package_of(target) == "config:entry"
    }
    assert reached == set()


def test_nothing_imports_an_entry_point() -> None:
    graph = import_graph()
    importers = {
        (module, target)
        for module, targets in graph.items()
        if package_of(module) != "config:entry"
        for target in targets
        if package_of(target) == "config:entry"
    }
    assert importers == set()


def test_the_apps_are_all_walked() -> None:
    assert {"accounts", "betting", "blog", "config", "ops", "realtime", "workers"} <= set(PACKAGES)


def test_the_walk_sees_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
