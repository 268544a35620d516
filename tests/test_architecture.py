"""The package's shape, checked from the source: imports flow one way, down the stages.

`check_package` reads every module of a package (its AST only; nothing is imported) and
reports:

- an import cycle between modules (imports inside functions count: they tie the modules
  as much as the others do);
- a private name (`_x`) imported from another module, or read as an attribute of an
  imported module (`module._x`);
- an import that runs against the stage order, or between two stages of the same rank;
- numba imported by a module outside `NUMBA_ALLOWED`, or reached at import time (through
  top-level imports, transitively) by a module of the reading side (`NUMBA_FREE`), which
  the reading commands use and which must start without numba.

The tests at the end run it on a small package made in a temporary directory, so that
each rule is seen to report what it should.
"""

import ast
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Stage ranks, lowest first: a module may import from a lower rank or its own stage only.
# The families (word2vec, glove, svd) share a rank: siblings, which must not import each other.
STAGES = {
    "errors": 0,
    "runtime": 1,
    "text": 2,
    "vectors": 3,
    "files": 4,
    "corpus": 5,
    "cooccur": 6,
    "distributed": 6.5,  # counting on a Dask cluster, which glove and svd call
    "config": 7,  # the options records the families share
    "checkpoints": 7.5,  # what word2vec and glove share (may read the records)
    "word2vec": 8, "glove": 8, "svd": 8,
    "documents": 9,
    "bias": 10,
    "cli": 12,
}
EXEMPT = {"__init__", "__main__"}  # the top-level facade and `python -m w2v`

# Modules that may import numba at all: the kernels and what starts or configures numba.
NUMBA_ALLOWED = {
    "w2v.runtime.numba_cache", "w2v.runtime.prefetch", "w2v.runtime.rng", "w2v.runtime.runs",
    "w2v.runtime.threads",
    "w2v.text.token_ids", "w2v.text.tokenize",
    "w2v.corpus.phrase_kernels", "w2v.corpus.subsample",
    "w2v.cooccur.kernels",
    "w2v.word2vec.huffman", "w2v.word2vec.kernels",
    "w2v.glove.kernels", "w2v.documents.tune_kernels",
    "w2v.svd.ppmi", "w2v.svd.svd",
}

# The reading side: `similar`, `analogy`, `evaluate`, `convert`, `embed`, `search` use these,
# and numba must not be imported when any of them is.
NUMBA_FREE = {
    "w2v", "w2v.errors", "w2v.cli", "w2v.cli.options", "w2v.cli.presets", "w2v.cli.vectors",
    "w2v.cli.files", "w2v.cli.documents",
    "w2v.runtime.atomic", "w2v.runtime.progress", "w2v.runtime.stdio",
    "w2v.text.sources", "w2v.text.preprocess",
    "w2v.vectors.word_vectors", "w2v.vectors.subword_vectors", "w2v.vectors.ngrams",
    "w2v.vectors.query", "w2v.vectors.evaluate",
    "w2v.files.formats", "w2v.files.fasttext", "w2v.files.model_file",
    "w2v.corpus.phrase_tables",
    "w2v.files.container",
    "w2v.documents.embed", "w2v.documents.index", "w2v.documents.rank",
    "w2v.documents.pooling", "w2v.documents.search", "w2v.documents.sts",
    "w2v.documents.tune_options",
}


# --------------------------------------------------------------------------- the checker


class Module:
    def __init__(self, name, path, is_package):
        self.name = name
        self.path = path
        self.is_package = is_package
        with open(path, encoding="utf-8") as f:
            self.tree = ast.parse(f.read(), filename=path)
        self.imports = []  # (target module, imported names, line, top level)
        self.externals = []  # (top-level package name, line, top level)
        self.private_uses = []  # (target module, name, line)


def find_modules(root, package):
    """{dotted name: Module} of every .py file under root/package."""
    modules = {}
    base = os.path.join(root, package)
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
        for file in sorted(files):
            if not file.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(folder, file), root)[:-3].split(os.sep)
            is_package = rel[-1] == "__init__"
            name = ".".join(rel[:-1] if is_package else rel)
            modules[name] = Module(name, os.path.join(folder, file), is_package)
    return modules


def _top_level_nodes(tree):
    """The nodes that run when the module is imported (not inside a function body)."""
    top = set()

    def visit(node):
        top.add(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return top


def _resolve(module, node, modules, package):
    """[(target module, [names])] of an import statement, internal targets only; and the
    external top-level packages it names."""
    internal, external = [], []
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name.split(".")[0] == package:
                target = alias.name
                while target not in modules and "." in target:
                    target = target.rsplit(".", 1)[0]
                internal.append((target, []))
            else:
                external.append(alias.name.split(".")[0])
        return internal, external
    if node.level:
        parts = module.name.split(".")
        if not module.is_package:
            parts = parts[:-1]
        parts = parts[:len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    else:
        base = node.module or ""
        if base.split(".")[0] != package:
            external.append(base.split(".")[0])
            return internal, external
    names = []
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        if sub in modules:
            internal.append((sub, []))
        else:
            names.append(alias.name)
    if names and base in modules:
        internal.append((base, names))
    return internal, external


def read_imports(modules, package):
    for module in modules.values():
        top = _top_level_nodes(module.tree)
        aliases = {}  # local name -> internal module it is bound to
        for node in ast.walk(module.tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            internal, external = _resolve(module, node, modules, package)
            at_top = node in top
            for target, names in internal:
                module.imports.append((target, names, node.lineno, at_top))
            for name in external:
                module.externals.append((name, node.lineno, at_top))
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                if isinstance(node, ast.ImportFrom):
                    for target, names in internal:
                        if not names and target.endswith("." + alias.name):
                            aliases[local] = target
                elif alias.asname and internal:
                    aliases[local] = internal[0][0]
        for node in ast.walk(module.tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in aliases and _private(node.attr)
                    and aliases[node.value.id] != module.name):
                module.private_uses.append((aliases[node.value.id], node.attr, node.lineno))


def _private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _stage(name, package):
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None


def _cycles(modules):
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    graph = {name: sorted({t for t, _, _, _ in m.imports if t != name and t in modules})
             for name, m in modules.items()}
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def connect(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
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

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for v in sorted(graph):
            if v not in index:
                connect(v)
    finally:
        sys.setrecursionlimit(limit)
    return found


def _where(modules, name, line, root):
    return f"{os.path.relpath(modules[name].path, root)}:{line}"


def check_package(root, package="w2v", stages=STAGES, numba_allowed=NUMBA_ALLOWED,
                  numba_free=NUMBA_FREE, exempt=EXEMPT):
    """Every violation of the rules in the package root/package, as sorted strings."""
    modules = find_modules(root, package)
    read_imports(modules, package)
    problems = []
    for component in _cycles(modules):
        members = set(component)
        edges = [f"{name} -> {target} ({_where(modules, name, line, root)})"
                 for name in component for target, _, line, _ in modules[name].imports
                 if target in members and target != name]
        problems.append("cycle: " + ", ".join(sorted(set(edges))))
    for name, module in modules.items():
        for target, names, line, _ in module.imports:
            if target == name:
                continue
            for imported in names:
                if _private(imported):
                    problems.append(f"private import: {name} imports {imported} from {target} "
                                    f"({_where(modules, name, line, root)})")
        for target, attr, line in module.private_uses:
            problems.append(f"private import: {name} reads {target}.{attr} "
                            f"({_where(modules, name, line, root)})")
        short = name.split(".")[-1]
        stage = _stage(name, package)
        if stage is None or (stage in exempt and name.count(".") == 1) or short == "__main__":
            continue
        rank = stages.get(stage)
        for target, _, line, _ in module.imports:
            other = _stage(target, package)
            if other is None or other == stage:
                continue
            if rank is None or stages.get(other) is None:
                problems.append(f"unranked stage: {name} imports {target} "
                                f"({_where(modules, name, line, root)})")
            elif stages[other] > rank:
                problems.append(f"upward import: {name} ({stage}) imports {target} ({other}) "
                                f"({_where(modules, name, line, root)})")
            elif stages[other] == rank:
                problems.append(f"sibling import: {name} ({stage}) imports {target} ({other}) "
                                f"({_where(modules, name, line, root)})")
    for name, module in modules.items():
        for external, line, _ in module.externals:
            if external == "numba" and name not in numba_allowed:
                problems.append(f"numba outside the allow-list: {name} "
                                f"({_where(modules, name, line, root)})")
    for name in sorted(numba_free):
        if name not in modules:
            continue
        chain = _reaches_numba(modules, name)
        if chain:
            problems.append("numba on the reading side: " + " -> ".join(chain))
    return sorted(problems)


def _reaches_numba(modules, start):
    """The chain of top-level imports from `start` to a module that imports numba at import
    time (importing a module imports its packages' __init__ too), or None."""
    parents = {start: None}
    queue = [start]
    while queue:
        name = queue.pop(0)
        module = modules[name]
        if any(ext == "numba" and top for ext, _, top in module.externals):
            chain = []
            while name is not None:
                chain.append(name)
                name = parents[name]
            return chain[::-1] + ["numba"]
        targets = []
        for target, _, _, top in module.imports:
            if top:
                parts = target.split(".")
                targets.extend(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        for target in targets:
            if target in modules and target not in parents:
                parents[target] = name
                queue.append(target)
    return None


# --------------------------------------------------------------------------- w2v itself


def test_the_package_keeps_its_shape():
    problems = check_package(REPO)
    assert not problems, "\n".join(problems)


def test_the_lists_name_modules_that_exist():
    modules = find_modules(REPO, "w2v")
    assert NUMBA_FREE <= set(modules), NUMBA_FREE - set(modules)
    assert {m for m in NUMBA_ALLOWED if m in modules} >= {
        "w2v.text.tokenize", "w2v.runtime.rng", "w2v.word2vec.kernels"}
    assert {name.split(".")[1] for name in modules if name.count(".")} <= set(STAGES) | EXEMPT


def test_reading_side_imports_without_numba():
    """What the rule above reads from the source, seen in a fresh interpreter."""
    script = ("import sys\n"
              f"for name in {sorted(NUMBA_FREE)!r}:\n"
              "    __import__(name)\n"
              "assert 'numba' not in sys.modules, 'numba was imported'\n")
    env = {**os.environ, "PYTHONPATH": REPO}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- planted violations


def _package(root, files):
    for rel, text in files.items():
        path = root / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in {(root / "pkg" / rel).parent for rel in files} | {root / "pkg"}:
        init = folder / "__init__.py"
        if not init.exists():
            init.write_text("")


PLANT_STAGES = {"errors": 0, "runtime": 1, "text": 2, "a": 3, "b": 3, "cli": 4}


def _check(root, files, **options):
    _package(root, files)
    options = {"stages": PLANT_STAGES, "numba_allowed": {"pkg.runtime.kernels"},
               "numba_free": {"pkg.text.reader"}, **options}
    return check_package(str(root), "pkg", **options)


def test_a_clean_package_passes(tmp_path):
    assert _check(tmp_path, {
        "errors.py": "class Error(Exception):\n    pass\n",
        "runtime/kernels.py": "from numba import njit\nfrom ..errors import Error\n",
        "text/reader.py": "from ..errors import Error\nfrom . import words\n",
        "text/words.py": "import numpy\n\ndef f():\n    from ..runtime import kernels\n",
        "cli/main.py": "from ..text.reader import Error\nimport pkg.a.x\n",
        "a/x.py": "from pkg.text import words\n",
        "__main__.py": "from .cli.main import Error\n",
    }) == []


def test_a_cycle_is_reported(tmp_path):
    problems = _check(tmp_path, {
        "text/one.py": "from .two import f\n",
        "text/two.py": "def f():\n    from . import one\n",
    })
    assert len(problems) == 1 and problems[0].startswith("cycle: ")
    assert "pkg.text.one -> pkg.text.two" in problems[0]
    assert "pkg.text.two -> pkg.text.one" in problems[0]
    assert "text/two.py:2" in problems[0]


def test_a_longer_cycle_is_reported_once(tmp_path):
    problems = _check(tmp_path, {
        "text/one.py": "import pkg.text.two\n",
        "text/two.py": "from .three import x\n",
        "text/three.py": "from .one import y\nx = 1\n",
    })
    assert [p[:6] for p in problems] == ["cycle:"]


def test_a_private_import_is_reported(tmp_path):
    problems = _check(tmp_path, {
        "text/one.py": "def _hidden():\n    pass\n",
        "text/two.py": "from .one import _hidden, __doc__\n",
        "text/three.py": "from . import one\n\none._hidden()\n",
        "text/four.py": "import pkg.text.one as one\n\none._hidden()\n",
    })
    assert problems == [
        "private import: pkg.text.four reads pkg.text.one._hidden (pkg/text/four.py:3)",
        "private import: pkg.text.three reads pkg.text.one._hidden (pkg/text/three.py:3)",
        "private import: pkg.text.two imports _hidden from pkg.text.one (pkg/text/two.py:1)",
    ]


def test_upward_and_sibling_imports_are_reported(tmp_path):
    problems = _check(tmp_path, {
        "runtime/low.py": "def f():\n    from ..text import high\n",
        "text/high.py": "x = 1\n",
        "a/x.py": "from ..b.y import z\n",
        "b/y.py": "z = 1\n",
        "elsewhere/m.py": "from ..errors import E\n",
        "errors.py": "E = 1\n",
    })
    assert problems == [
        "sibling import: pkg.a.x (a) imports pkg.b.y (b) (pkg/a/x.py:1)",
        "unranked stage: pkg.elsewhere.m imports pkg.errors (pkg/elsewhere/m.py:1)",
        "upward import: pkg.runtime.low (runtime) imports pkg.text.high (text) "
        "(pkg/runtime/low.py:2)",
    ]


def test_numba_outside_the_allow_list_and_on_the_reading_side_is_reported(tmp_path):
    problems = _check(tmp_path, {
        "runtime/kernels.py": "import numba\n",
        "runtime/other.py": "def f():\n    from numba import njit\n",
        "text/reader.py": "from . import helper\n\ndef g():\n    from ..runtime import other\n",
        "text/helper.py": "from ..runtime.kernels import x\n",
    })
    assert problems == [
        "numba on the reading side: pkg.text.reader -> pkg.text.helper -> pkg.runtime.kernels"
        " -> numba",
        "numba outside the allow-list: pkg.runtime.other (pkg/runtime/other.py:2)",
    ]


def test_a_package_init_that_imports_numba_is_reached(tmp_path):
    problems = _check(tmp_path, {
        "runtime/__init__.py": "from .kernels import x\n",
        "runtime/kernels.py": "from numba import njit\n",
        "runtime/stdio.py": "x = 1\n",
        "text/reader.py": "from ..runtime.stdio import x\n",
    })
    assert problems == ["numba on the reading side: pkg.text.reader -> pkg.runtime -> "
                        "pkg.runtime.kernels -> numba"]


@pytest.mark.parametrize("rule", ["cycle", "private", "upward", "numba"])
def test_the_real_package_with_a_planted_violation_fails(tmp_path, rule):
    """A copy of w2v with one violation planted: the checker finds exactly that one more."""
    import shutil

    shutil.copytree(os.path.join(REPO, "w2v"), tmp_path / "w2v",
                    ignore=shutil.ignore_patterns("__pycache__"))
    before = set(check_package(str(tmp_path)))
    plant = {
        "cycle": {"runtime/stdio.py": "\n\ndef _planted():\n    from . import atomic\n",
                  "runtime/atomic.py": "\n\ndef _planted():\n    from . import stdio\n"},
        "private": {"text/planted.py": "from ..runtime.atomic import _planted_private\n"},
        "upward": {"runtime/planted.py": "def planted():\n    from ..cli import main\n"},
        "numba": {"files/formats.py": "\nimport numba\n"},
    }[rule]
    for rel, text in plant.items():
        with open(tmp_path / "w2v" / rel, "a", encoding="utf-8") as f:
            f.write(text)
    added = set(check_package(str(tmp_path))) - before
    expected = {"cycle": "cycle:", "private": "private import:", "upward": "upward import:",
                "numba": "numba"}[rule]
    assert added and all(p.startswith(expected) for p in added), added
