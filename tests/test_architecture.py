"""The shape of the code: no import circle in `demo` or `intcore`, and one direction of imports.

`intcore` (the library) never imports `demo` or gradio. Inside `demo` the packages are layers, each
importing only those below it: ui → tabs → lecture → drawing → server (and `static` holds no Python).
Every import counts, also inside functions and under `if TYPE_CHECKING:`.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("server", "drawing", "lecture", "tabs", "ui")
"""demo's packages, lowest first: each may import only those before it (and itself)"""


def modules(*packages: str) -> dict[str, tuple[Path, bool]]:
    found = {}
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def import_graph(*packages: str) -> dict[str, set[str]]:
    """module -> the modules of `packages` it imports (a name inside a module counts as the module)."""
    mods = modules(*packages)

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for module, (path, is_package) in mods.items():
        base = module if is_package else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                prefix = node.module or ""
                if node.level:
                    b = base
                    for _ in range(node.level - 1):
                        b = b.rpartition(".")[0]
                    prefix = f"{b}.{node.module}" if node.module else b
                targets = [f"{prefix}.{a.name}" for a in node.names] + [prefix]
            else:
                continue
            for target in targets:
                found = resolve(target)
                if found and found != module and not module.startswith(found + "."):
                    graph[module].add(found)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_demo_or_intcore():
    assert circles(import_graph("demo", "intcore")) == []


def test_the_library_never_imports_the_app_or_gradio():
    for module, (path, _) in modules("intcore").items():
        text = path.read_text(encoding="utf-8")
        assert "import gradio" not in text and "from gradio" not in text, module
    graph = import_graph("demo", "intcore")
    assert not [(m, t) for m, targets in graph.items() if m.startswith("intcore") for t in targets
                if t.startswith("demo")]


def test_demos_packages_import_only_the_layers_below_them():
    graph = import_graph("demo")
    rank = {name: i for i, name in enumerate(LAYERS)}
    wrong = []
    for module, targets in graph.items():
        layer = module.split(".")[1] if module.count(".") else None
        if layer not in rank:
            continue  # demo itself, demo.__main__: the top
        for target in targets:
            other = target.split(".")[1] if target.count(".") else None
            if other in rank and rank[other] > rank[layer]:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_no_gradio_below_the_page():
    """Only demo.ui and demo.tabs (each tab's input widget) use gradio; races, drawing and lecture mode's
    pictures work without it."""
    for module, (path, _) in modules("demo").items():
        if module.split(".")[1:2] and module.split(".")[1] in ("server", "drawing", "lecture"):
            text = path.read_text(encoding="utf-8")
            assert "import gradio" not in text and "from gradio" not in text, module
