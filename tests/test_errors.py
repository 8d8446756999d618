"""segkit's one error hierarchy: every error is a SegkitError and the
exception the stack raises for the same condition; the CLI recognises them
by type, not by name."""
from __future__ import annotations

import ast
import pickle

import pytest

import segkit.errors as errors
from segkit.utils.cli import run_cli
from tests.helpers import REPO

# each error and what code written for torch / mmengine / mmseg catches for it
STACK = {
    'ConfigError': ValueError,
    'ConfigNotFoundError': FileNotFoundError,
    'DataNotFoundError': FileNotFoundError,
    'InputNotFoundError': FileNotFoundError,
    'BadSampleError': ValueError,
    'CheckpointNotFoundError': FileNotFoundError,
    'UnsafeCheckpointError': pickle.UnpicklingError,
    'CheckpointMismatchError': RuntimeError,
    'DensifyError': ValueError,
    'ExportError': RuntimeError,
    'NonFiniteLossError': FloatingPointError,
}


@pytest.mark.parametrize('name', sorted(STACK))
def test_each_error_is_segkits_and_the_stacks(name: str) -> None:
    cls = getattr(errors, name)
    assert issubclass(cls, errors.SegkitError)
    assert issubclass(cls, STACK[name])
    with pytest.raises(STACK[name]):
        raise cls('message')


def test_checkpoint_errors_share_a_base() -> None:
    for name in ('CheckpointNotFoundError', 'UnsafeCheckpointError', 'CheckpointMismatchError'):
        assert issubclass(getattr(errors, name), errors.CheckpointError)
    assert issubclass(errors.CheckpointNotFoundError, OSError)  # what mmseg's tests expect


def test_every_error_class_lives_in_errors_py() -> None:
    """No error class is defined anywhere else in the package, so the CLI's
    ``isinstance(e, SegkitError)`` sees all of them."""
    elsewhere = []
    for path in (REPO / 'segkit').rglob('*.py'):
        if path.name == 'errors.py':
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.name.endswith(('Error', 'Exception')):
                elsewhere.append(f'{path.relative_to(REPO)}:{node.name}')
    assert not elsewhere
    assert sorted(errors.__all__) == sorted([*STACK, 'SegkitError', 'CheckpointError'])


def _cli_output(exc: BaseException, capsys) -> str:
    def main() -> None:
        raise exc

    with pytest.raises(SystemExit) as exit_info:
        run_cli(main, 'prog')
    assert exit_info.value.code == 1
    return capsys.readouterr().err


def test_cli_prints_segkit_errors_without_their_type(capsys) -> None:
    out = _cli_output(errors.DensifyError('layer3.conv1 cannot be made exact'), capsys)
    assert out.startswith('prog: error: layer3.conv1 cannot be made exact (SEGKIT_DEBUG=1')
    assert out.count('\n') == 1


def test_cli_names_the_type_of_other_errors(capsys) -> None:
    out = _cli_output(KeyError('lr'), capsys)
    assert out.startswith("prog: error: KeyError: 'lr' (SEGKIT_DEBUG=1")
