"""Two-process CPU training + validation under torchrun, repeated: every run
must exit cleanly (status 0, no abort, no core dump); then the same runs
interrupted with Ctrl-C (SIGINT to the launcher's process group, as a
terminal sends it) halfway: each must exit non-zero, each worker saying so
in one line, with no SIGABRT or core dump. (torchrun itself prints the
traceback of its SignalException: that is torch's launcher, not segkit.)
Not part of ``make test`` (minutes); run by hand:

    python tests/scripts/distributed_exits.py [--runs 10] [--interrupt-runs 10]
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.helpers import sample_cfg_options  # noqa: E402

CONFIG = REPO / 'configs' / 'sample' / 'upernet_internimage-c16_sample-128x128.py'
BAD = ('terminate called', 'Aborted', 'core dumped', 'SIGABRT', 'Signal 6', 'exitcode  : -6')


def command(work_dir: Path, sample_root: Path, port: int, iters: int) -> list[str]:
    return [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
            f'--master_port={port}', str(REPO / 'tools' / 'train.py'), str(CONFIG),
            '--work-dir', str(work_dir), '--launcher', 'pytorch', '--cfg-options',
            *sample_cfg_options(sample_root, max_iters=iters, interval=iters // 2)]


def run(work_dir: Path, sample_root: Path, port: int, interrupt_after: float | None,
        iters: int) -> tuple[int, str]:
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    proc = subprocess.Popen(command(work_dir, sample_root, port, iters), cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    if interrupt_after is not None:
        # halfway: once training iterations are logged, Ctrl-C
        deadline = time.time() + 600
        while time.time() < deadline and not any(
                'Iter(train)' in log.read_text(errors='ignore')
                for log in work_dir.rglob('*.log')):
            time.sleep(0.5)
        time.sleep(interrupt_after)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the launcher and its workers
    out, _ = proc.communicate(timeout=900)
    return proc.returncode, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--runs', type=int, default=10)
    parser.add_argument('--interrupt-runs', type=int, default=10)
    parser.add_argument('--iters', type=int, default=20)
    args = parser.parse_args()
    from segkit.datasets.sample_data import make_sample_data

    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = make_sample_data(Path(tmp) / 'sample', seed=3, num_train=16, num_val=6)
        for i in range(args.runs + args.interrupt_runs):
            interrupt = i >= args.runs
            work = Path(tmp) / f'run{i}'
            status, out = run(work, root, 29600 + i, 1.0 if interrupt else None, args.iters)
            bad = [b for b in BAD if b in out]
            lines = [ln for ln in out.splitlines()
                     if re.search(r'(segkit train|train\.py): (error|interrupted)', ln)]
            if interrupt:
                ok = status != 0 and not bad and len(lines) >= 1
            else:
                ok = status == 0 and not bad and (work / f'iter_{args.iters}.pth').is_file()
            failures += not ok
            kind = 'interrupted' if interrupt else 'complete'
            print(f'run {i + 1:2d} ({kind}): exit {status}, '
                  f'{"clean" if not bad else "BAD: " + ", ".join(bad)}'
                  f'{", said: " + lines[0].strip() if lines else ""} -> {"ok" if ok else "FAIL"}',
                  flush=True)
            if not ok:
                print('\n'.join(out.splitlines()[-30:]), flush=True)
    print(f'{args.runs + args.interrupt_runs - failures} of {args.runs + args.interrupt_runs} '
          'runs as expected')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
