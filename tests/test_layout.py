"""The package layout stays as ARCHITECTURE.md draws it: rooms, and which way the doors open.

Each rule is a small function over plain data (a module graph, a list of string literals), so
the tests can show that every rule also fails on a deliberately bad example."""
import ast
import re
import sys
from pathlib import Path

import pytest

import survey

PACKAGE = Path(survey.__file__).resolve().parent
MAX_TOP_LEVEL_MODULES = 8
SQL = re.compile(r"\b(SELECT\s.+\sFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+"
                 r"(TABLE|INDEX|TRIGGER|VIEW)|PRAGMA\s+\w+|BEGIN(\s+IMMEDIATE)?$|ROLLBACK$)",
                 re.DOTALL)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


KNOWN = set(modules())


def imported_names(name: str, path: Path) -> set[str]:
    """Every module `name` imports, anywhere in the file (inside functions too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:  # `from pkg import module` depends on the module only
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in KNOWN else base)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {m for m in imported_names(name, path) if m in known and m != name}
            for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def sql_literals(source: str) -> list[str]:
    return [node.value for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value)]


def outside_stdlib(names: set[str], allowed_prefix: str) -> set[str]:
    return {n for n in names if n.split(".")[0] not in sys.stdlib_module_names
            and n != allowed_prefix and not n.startswith(allowed_prefix + ".")}


def loads_by_name(source: str) -> list[str]:
    """importlib.import_module / __import__ calls (the package's own code is imported plainly)."""
    calls = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__"):
                calls.append(ast.unparse(node))
    return calls


WALK_NAME = r"`((?:core|store|io|web|cli)\.[\w.]+)(?:\([^`]*\)[\w.]*)?`"


def walk_section(text: str) -> str:
    return text.split("## One walk", 1)[1].split("\n## ", 1)[0]


def walk_names(walk: str) -> list[str]:
    return re.findall(WALK_NAME, walk)


def walk_calls(walk: str) -> list[tuple[str, str]]:
    """Each `A` → `B` in the walk: A is said to call B."""
    flat = re.sub(r"\s+", " ", walk)
    return re.findall(WALK_NAME + r" → (?=" + WALK_NAME + ")", flat)


def resolve(dotted: str):
    import importlib
    parts = f"survey.{dotted}".split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            found = getattr(found, attr)
        return found
    raise ImportError(dotted)


def calls_by_name(caller, callee_name: str) -> bool:
    import inspect
    tree = ast.parse(inspect.getsource(caller).lstrip() if not inspect.ismodule(caller)
                     else inspect.getsource(caller))
    return any(isinstance(n, (ast.Name, ast.Attribute))
               and (getattr(n, "id", None) or getattr(n, "attr", None)) == callee_name
               for n in ast.walk(tree))


# --- the rules, on the real package --------------------------------------------------------------

def test_no_import_circles():
    assert cycles(import_graph()) == []


def test_sql_text_only_in_the_store():
    leaks = {name: sql_literals(path.read_text(encoding="utf-8"))
             for name, path in modules().items() if not name.startswith("survey.store")}
    assert {name: found for name, found in leaks.items() if found} == {}


def test_core_imports_only_stdlib_and_core():
    for name, path in modules().items():
        if name.startswith("survey.core"):
            assert outside_stdlib(imported_names(name, path), "survey.core") == set(), name


def test_store_never_imports_flask_or_the_web():
    for name, path in modules().items():
        if name.startswith("survey.store"):
            names = imported_names(name, path)
            assert not {n for n in names if n.split(".")[0] == "flask"
                        or n.startswith(("survey.web", "survey.io", "survey.cli"))}, name


def test_few_modules_at_the_top_of_the_package():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_no_module_loaded_by_name():
    found = {name: loads_by_name(path.read_text(encoding="utf-8")) for name, path in modules().items()}
    assert {name: calls for name, calls in found.items() if calls} == {}


def test_every_staff_page_module_is_in_the_one_list():
    from survey.web import staff
    pages = {p.stem for p in (PACKAGE / "web" / "staff").glob("*.py") if p.stem not in ("__init__", "base")}
    assert {m.__name__.rpartition(".")[2] for m in staff.PAGES} == pages


def test_the_architecture_walk_names_real_functions_in_call_order():
    walk = walk_section((PACKAGE.parent / "ARCHITECTURE.md").read_text(encoding="utf-8"))
    names = walk_names(walk)
    assert len(names) >= 20
    for dotted in names:
        assert callable(resolve(dotted)) or resolve(dotted), dotted
    pairs = walk_calls(walk)
    assert len(pairs) >= 7
    for caller, callee in pairs:
        assert calls_by_name(resolve(caller), callee.rpartition(".")[2]), f"{caller} → {callee}"


# --- and each rule fails on a bad example ----------------------------------------------------------

@pytest.mark.parametrize(("graph", "expected"), [
    ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
])
def test_cycle_finder_on_synthetic_graphs(graph, expected):
    assert cycles(graph) == expected


@pytest.mark.parametrize(("source", "leaks"), [
    ('q = "SELECT id FROM responses WHERE survey_id = ?"', 1),
    ('q = """\n  INSERT INTO answers (a) VALUES (?)\n"""', 1),
    ('db.execute("PRAGMA integrity_check")', 1),
    ('conn.execute("BEGIN")', 1),
    ('text = "请选择（select）一项，然后更新"', 0),
    ('label = "Delete from list"', 0),
])
def test_sql_finder_on_examples(source, leaks):
    assert len(sql_literals(source)) == leaks


def test_import_rules_on_bad_examples():
    assert outside_stdlib({"json", "flask", "survey.store.util", "survey.core.errors"},
                          "survey.core") == {"flask", "survey.store.util"}
    assert loads_by_name('import importlib\nm = importlib.import_module("survey.charts")')
    assert not loads_by_name("from importlib import resources\nresources.files('survey.data')")


def test_walk_checks_fail_on_bad_examples():
    walk = "`core.stats.wilson_interval` → `core.figures.compute_figures`, `core.nothing_here`"
    caller, callee = walk_calls(walk)[0]
    assert not calls_by_name(resolve(caller), callee.rpartition(".")[2])
    with pytest.raises((ImportError, AttributeError)):
        resolve(walk_names(walk)[-1])
