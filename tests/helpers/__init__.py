"""Helpers shared by the tests: the repository, the sample config, running a tool.

(``tests/helpers/crash.py`` holds test-only registrations that configs pull in
with ``custom_imports``.)
"""
from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE_CONFIG = REPO / 'configs' / 'sample' / 'fcn_r18_sample-128x128.py'


def sample_cfg_options(sample_root: Path, max_iters: int = 10, interval: int = 5) -> list[str]:
    """--cfg-options that point the sample config at ``sample_root`` and shrink it."""
    ade = sample_root / 'ade'
    options = [f'train_cfg.max_iters={max_iters}', f'train_cfg.val_interval={interval}',
               f'default_hooks.checkpoint.interval={interval}',
               'default_hooks.logger.interval=5',
               f'param_scheduler.1.end={max_iters}', 'param_scheduler.0.end=2',
               'param_scheduler.1.begin=2']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options += [f'{loader}.dataset.data_root={ade}', f'{loader}.num_workers=0',
                    f'{loader}.persistent_workers=False']
    options.append('train_dataloader.batch_size=4')
    return options


def markdown_rows(text: str) -> list[list[str]]:
    """The cells of every Markdown table row in ``text`` (headers included,
    delimiter rows left out), stripped of their padding."""
    rows = []
    for line in text.splitlines():
        if line.startswith('|'):
            cells = [cell.strip() for cell in line.strip().strip('|').split('|')]
            if not all(set(cell) <= set(':-') and '-' in cell for cell in cells):
                rows.append(cells)
    return rows


def run_tool(*args: str | os.PathLike, check: bool = True, timeout: float = 600,
             runner: tuple[str, ...] = (sys.executable,)) -> subprocess.CompletedProcess:
    """Runs ``tools/<script>`` in the repository root and returns the result."""
    cmd = [*runner, *(str(a) for a in args)]
    env = {k: v for k, v in os.environ.items() if k != 'SEGKIT_DEBUG'}
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                            timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f'{cmd} failed ({result.returncode}):\n'
                             f'{result.stdout[-3000:]}\n{result.stderr[-3000:]}')
    return result


_runs = itertools.count()


@contextlib.contextmanager
def fresh_mmengine_instances(name: str | None = None) -> Iterator[None]:
    """mmengine's named instances (loggers, message hubs, visualizers: global,
    named by the second a run starts) as a new process has them, and the
    earlier ones back afterwards: a run neither logs into an earlier run's
    streams nor takes over its state. ``name``: a current logger to create
    (what ``print_log(logger='current')`` finds before a runner exists)."""
    from mmengine.logging import MMLogger
    from mmengine.utils import ManagerMixin

    managers, todo = [], [ManagerMixin]
    while todo:
        cls = todo.pop()
        managers.append(cls)
        todo.extend(cls.__subclasses__())
    saved = {cls: dict(cls._instance_dict) for cls in managers if '_instance_dict' in vars(cls)}
    try:
        for cls in saved:
            cls._instance_dict.clear()
        if name is not None:
            MMLogger.get_instance(name)
        yield
    finally:
        for cls, instances in saved.items():
            cls._instance_dict.clear()
            cls._instance_dict.update(instances)


def run_tool_in_process(*args: str | os.PathLike, check: bool = True
                        ) -> subprocess.CompletedProcess:
    """Runs ``tools/<script>`` as :func:`run_tool` does (``sys.argv``, the
    repository as the working directory, ``__main__``, the exit status and
    what it prints), but in this process: for tests of what a tool does, not
    of its process, without the 5-10 s of imports a new interpreter costs.

    mmengine's named instances (loggers, message hubs, visualizers: global,
    named by the second a run starts) are those of a new process during the
    run and restored after it (:func:`fresh_mmengine_instances`)."""
    import io
    import runpy

    script, *rest = (str(a) for a in args)
    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    debug = os.environ.pop('SEGKIT_DEBUG', None)
    status = 0
    try:
        sys.argv = [script, *rest]
        sys.path.insert(0, str((REPO / script).parent))  # as python puts the script's folder
        os.chdir(REPO)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                fresh_mmengine_instances(f'run_tool_in_process_{next(_runs)}'):
            runpy.run_path(str(REPO / script), run_name='__main__')
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else int(e.code is not None)
    finally:
        sys.argv = saved_argv
        sys.path.remove(str((REPO / script).parent))
        os.chdir(saved_cwd)
        if debug is not None:
            os.environ['SEGKIT_DEBUG'] = debug
    result = subprocess.CompletedProcess([script, *rest], status, out.getvalue(), err.getvalue())
    if check and status != 0:
        raise AssertionError(f'{script} {rest} failed ({status}):\n'
                             f'{result.stdout[-3000:]}\n{result.stderr[-3000:]}')
    return result
