"""torch.compile of segkit: every model family traces to one graph with no
graph break (the DCNv3 and DCNv4 CPU kernels are opaque torch.library ops)
and the compiled model equals eager; DCNv3 and DCNv4 modules compiled by
inductor (the default backend) train as in eager."""
from __future__ import annotations

import pytest
import torch

from segkit.ops import DCNv3, DCNv4, DeformConv2d, ModulatedDeformConv2d
from tests.helpers.segmentors import randomised_segmentor

pytestmark = pytest.mark.slow  # inductor compiles C++, seconds to tens of seconds each

# one sample model per family: densified + shaped ResNet, DCLS ConvNeXt,
# quasi-hexagonal depthwise ConvNeXt, InternImage (DCNv3), FlashInternImage
# (DCNv4), densified DCNv2 ResNet. The whole models compile through
# AOTAutograd without code generation ('aot_eager'): it traces with the
# custom ops' fake implementations as inductor does, and the graph-break
# check does not depend on the backend. Inductor's C++ code generation
# (a minute or more per whole model with a cold cache, as on a fresh
# machine) runs where segkit's own kernels meet it: the DCNv3 and DCNv4
# modules, forward and backward, below.
FAMILIES = ['fcn_dense-r18-qh_sample-128x128', 'upernet_convnext-c16-dcls_sample-128x128',
            'upernet_convnext-c16-qh_sample-128x128', 'upernet_internimage-c16_sample-128x128',
            'upernet_flashinternimage-c16_sample-128x128', 'fcn_dense-r50-c8-dcnv2_sample-128x128']


@pytest.mark.parametrize('config', FAMILIES)
def test_compiled_model_equals_eager_without_graph_breaks(config: str) -> None:
    model = randomised_segmentor(config, offset_std=0.05, shallow=True)
    torch.manual_seed(1)
    x = torch.randn(1, 3, 128, 128)
    torch._dynamo.reset()
    with torch.no_grad():
        ref = model(x, mode='tensor')
        explained = torch._dynamo.explain(model)(x, mode='tensor')
        assert explained.graph_break_count == 0, explained.break_reasons
        assert explained.graph_count == 1
        kernels = [n for n in explained.graphs[0].graph.nodes
                   if str(n.target).startswith('segkit.') and 'sampling_cpu_forward' in
                   str(n.target)]
        # one opaque node per deformable layer (DCN and DCNv2 sample with the same kernel)
        deformable = (DCNv3, DCNv4, DeformConv2d, ModulatedDeformConv2d)
        assert len(kernels) == sum(isinstance(m, deformable) for m in model.modules())
        out = torch.compile(model, backend='aot_eager')(x, mode='tensor')
    rel = ((out - ref).abs().max() / ref.abs().max()).item()
    assert rel < 1e-5, rel


@pytest.mark.parametrize('module_type', [DCNv3, DCNv4])
def test_compiled_training_step_equals_eager(module_type: type) -> None:
    """Inductor, forward and backward: AOTAutograd traces the kernel's
    registered autograd (its backward custom op) and inductor generates code
    around both ops, so the output and the gradients of the input and every
    parameter equal eager within 1e-5 of their largest entry.
    Compiled afresh: inductor's on-disk caches are keyed on the traced graph,
    not on the ops' Python registrations, so an edited fake or autograd
    formula could otherwise be served from an earlier run."""
    torch.manual_seed(0)
    extra = {'dw_kernel_size': 3} if module_type is DCNv4 else {}  # FlashInternImage-S/B's
    module = module_type(16, group=4, impl='cpu', **extra)
    with torch.no_grad():  # offsets of a few tenths of a pixel
        (module.offset if module_type is DCNv3 else module.offset_mask).weight.normal_(0, 0.1)
    x = torch.randn(2, 9, 9, 16, requires_grad=True)

    def gradients(fn: torch.nn.Module) -> list[torch.Tensor]:
        module.zero_grad()
        x.grad = None
        out = fn(x)
        out.square().mean().backward()
        return [out.detach(), x.grad.clone()] + [p.grad.clone() for p in module.parameters()]

    torch._dynamo.reset()
    eager = gradients(module)
    with torch._inductor.config.patch(force_disable_caches=True):
        compiled = gradients(torch.compile(module))
    names = ['output', 'input'] + [n for n, _ in module.named_parameters()]
    assert len(compiled) == len(eager) == len(names) == (14 if module_type is DCNv3 else 10)
    for name, a, b in zip(names, compiled, eager):
        assert ((a - b).abs().max() / b.abs().max()).item() < 1e-5, name
