"""segkit's layers point one way and its modules import no cycle.

    errors, utils < ops < compat < models, datasets, engine < mmseg < evaluation < apis < cli

(``segkit.mmseg``, what configs import, is the registered packages together.)

Every import is read from the source (module level and inside functions),
so a lazy import that reaches up is caught as well.
"""
from __future__ import annotations

import ast

from tests.helpers import REPO

PACKAGE = REPO / 'segkit'
LAYERS = [('errors', 'utils'), ('ops',), ('compat',), ('models', 'datasets', 'engine'), ('mmseg',),
          ('evaluation',), ('apis',), ('cli',)]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}


def _module_name(path) -> str:
    parts = path.relative_to(REPO).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def _imports(path) -> set[str]:
    """The segkit modules ``path`` imports, as dotted names."""
    name = _module_name(path)
    package = name if path.name == '__init__.py' else name.rsplit('.', 1)[0]
    modules = {_module_name(p) for p in PACKAGE.rglob('*.py')}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                module = '.'.join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ''
            # ``from package import submodule`` imports the submodule; the
            # package counts only for the names that are not submodules
            subs = {f'{module}.{a.name}' for a in node.names} & modules
            found |= subs
            if len(subs) < len(node.names):
                found.add(module)
    return {m for m in found if m in modules and m != name}


def _layer(module: str) -> int | None:
    parts = module.split('.')
    return RANK.get(parts[1]) if len(parts) > 1 else None


def test_no_module_imports_from_a_higher_layer() -> None:
    upward = []
    for path in PACKAGE.rglob('*.py'):
        source = _module_name(path)
        if _layer(source) is None:
            continue  # segkit/__init__.py: the entry point
        for target in _imports(path):
            if _layer(target) is not None and _layer(target) > _layer(source):
                upward.append(f'{source} -> {target}')
    assert not upward, upward


def test_the_cli_only_parses_arguments_and_calls_apis() -> None:
    """``segkit.cli`` reaches segkit only through ``apis`` (and ``errors``,
    ``utils``): the work of every command is a tested function there."""
    allowed = {'segkit', 'segkit.apis', 'segkit.errors', 'segkit.utils', 'segkit.cli'}
    reaching = [f'{_module_name(path)} -> {target}'
                for path in (PACKAGE / 'cli').rglob('*.py') for target in _imports(path)
                if '.'.join(target.split('.')[:2]) not in allowed]
    assert not reaching, reaching


def test_no_import_cycles() -> None:
    graph = {_module_name(p): _imports(p) for p in PACKAGE.rglob('*.py')}
    # a package imports its own submodules; a submodule importing its package
    # (or a sibling through it) is what would close a cycle
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles


def test_the_checks_see_imports() -> None:
    """The reader finds relative, absolute and function-level imports."""
    imports = _imports(PACKAGE / 'ops' / 'dcnv3' / 'module.py')
    assert {'segkit.ops.equivalent_stride', 'segkit.ops.dcnv3.core'} <= imports
    assert 'segkit.apis.runner' in _imports(PACKAGE / 'apis' / 'inference.py')


def test_the_architecture_page_names_every_module() -> None:
    """docs/architecture.md lists every module (``ops/dcn/core.py``, or a
    package's ``ops/dcn/ (core.py, module.py)`` row; a row may name several
    files of one folder)."""
    import re

    page = (REPO / 'docs' / 'architecture.md').read_text()
    named = set()
    for row in page.splitlines():
        if not row.startswith('| `'):
            continue
        cell = row.split('|')[1]
        names = re.findall(r'`([\w/.]+)`', cell)
        folder = ''
        for name in names:
            if '/' in name.rstrip('/'):
                folder = name.rsplit('/', 1)[0] + '/'
            named.add(name if '/' in name or not folder else folder + name)
            if name.endswith('/'):  # a package row: its files follow in parentheses
                folder = name
        for inner in re.findall(r'\(([^)]*)\)', cell):
            named.update(folder + f for f in re.findall(r'`([\w.]+\.py)`', inner))
    modules = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob('*.py')
               if 'configs' not in p.relative_to(PACKAGE).parts}
    modules = {m for m in modules if not (m.endswith('__init__.py') and m != '__init__.py'
                                          and m.rsplit('/', 1)[0] + '/' in named)}
    missing = sorted(m for m in modules if m not in named)
    assert not missing, missing
