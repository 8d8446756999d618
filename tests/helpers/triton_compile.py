"""Compiles segkit's Triton sampling kernels ahead of time for a GPU target,
without a GPU: ``python -m tests.helpers.triton_compile`` prints one line per
specialisation and exits non-zero if any fails. Run without TRITON_INTERPRET
(the test suite's interpreter mode replaces the kernels by Python)."""
from __future__ import annotations

import sys

import triton
import triton.language as tl
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from segkit.ops.deform_sampling import triton_kernels as kernels

TARGET = GPUTarget('cuda', 90, 32)  # Hopper (H100/H200), where Triton 3.6 failed once
FORWARD = ['value', 'xs', 'ys', 'mask', 'om', 'out']
BACKWARD = ['value', 'xs', 'ys', 'mask', 'om', 'grad_out', 'grad_value', 'grad_x', 'grad_y',
            'grad_mask', 'grad_om']
SIZES = ['pixels', 'H', 'W', 'Ho', 'Wo']
# (value dtype, offset dtype, accumulator, channels per group, packed)
CASES = [('fp32', 'fp32', tl.float32, 16, False), ('fp32', 'fp32', tl.float32, 16, True),
         ('fp64', 'fp64', tl.float64, 5, False), ('fp64', 'fp64', tl.float64, 5, True),
         ('fp16', 'fp32', tl.float32, 16, False), ('bf16', 'bf16', tl.float32, 8, True)]


def _compile(fn: object, pointers: list[str], value: str, offsets: str, meta: dict) -> None:
    wide = 'fp64' if value == 'fp64' else 'fp32'
    types = {'value': value, 'out': value, 'grad_out': value, 'grad_value': wide}
    signature = {name: '*' + types.get(name, offsets) for name in pointers}
    signature.update({name: 'i32' for name in SIZES}, scale='fp32')
    signature.update({name: 'constexpr' for name in meta})
    # what a launch on real tensors gets: 16-divisible pointers and sizes
    attrs = {(i,): [['tt.divisibility', 16]] for i in range(len(pointers) + len(SIZES))}
    triton.compile(ASTSource(fn=fn, signature=signature, constexprs=meta, attrs=attrs),
                   target=TARGET)


def main() -> int:
    failed = 0
    for value, offsets, acc, channels, packed in CASES:
        geometry = [56, 3, 3, 1, 1, 1, 1, 1, 1, 0] if packed else None
        _, _, meta = kernels._launch(None, [2, 32, 32, 32, 32, 2, channels, 9], geometry)
        meta['ACC'] = acc
        for fn, pointers in ((kernels._forward_kernel, FORWARD),
                             (kernels._backward_kernel, BACKWARD)):
            what = f'{fn.__name__} {value}/{offsets} C={channels} packed={packed}'
            try:
                _compile(fn, pointers, value, offsets, meta)
                print(f'ok   {what}')
            except Exception as exc:  # noqa: BLE001 - report every specialisation
                failed += 1
                print(f'FAIL {what}: {type(exc).__name__}: {str(exc).strip().splitlines()[0]}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
