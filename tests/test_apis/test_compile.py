"""torch.compile of whole segkit models (inductor, the default, where segkit's
custom ops are in the graph): one graph,
no graph break (the DCNv3 and DCNv4 CPU kernels are opaque torch.library ops), and the
compiled output equal to eager; and a compiled DCNv3 training step."""
from __future__ import annotations

import pytest
import torch

from segkit.ops import DCNv3, DCNv4
from tests.helpers.segmentors import randomised_segmentor

pytestmark = pytest.mark.slow  # inductor compiles C++, seconds to tens of seconds each

# one sample model per family: densified + shaped ResNet, DCLS ConvNeXt,
# quasi-hexagonal depthwise ConvNeXt, InternImage (DCNv3), FlashInternImage (DCNv4),
# densified DCNv2 ResNet; with the backend that compiles it. Inductor generates
# and compiles C++ for the whole graph (a minute per model with a cold cache,
# as on a fresh machine): it runs for the two families whose kernels are
# segkit's custom ops (their fake implementations are what inductor plans
# with). For the others, whose graphs hold only PyTorch's own operators, the
# compiled-equals-eager check runs through AOTAutograd without code
# generation ('aot_eager'); the graph-break check does not depend on the backend.
FAMILIES = {'fcn_dense-r18-qh_sample-128x128': 'aot_eager',
            'upernet_convnext-c16-dcls_sample-128x128': 'aot_eager',
            'upernet_convnext-c16-qh_sample-128x128': 'aot_eager',
            'upernet_internimage-c16_sample-128x128': 'inductor',
            'upernet_flashinternimage-c16_sample-128x128': 'inductor',
            'fcn_dense-r50-c8-dcnv2_sample-128x128': 'aot_eager'}


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
        assert len(kernels) == sum(isinstance(m, (DCNv3, DCNv4)) for m in model.modules())
        out = torch.compile(model, backend=FAMILIES[config])(x, mode='tensor')
    rel = ((out - ref).abs().max() / ref.abs().max()).item()
    assert rel < 1e-5, rel


def test_compiled_training_step_equals_eager() -> None:
    """Backward through the compiled graph: AOTAutograd traces the DCNv3
    kernel's registered autograd (its backward custom op), so the gradients
    of every parameter equal eager within 1e-5 of their largest entry.
    Compiled afresh: inductor's on-disk caches are keyed on the traced graph,
    not on the ops' Python registrations, so an edited fake or autograd
    formula could otherwise be served from an earlier run."""
    torch.manual_seed(0)
    module = DCNv3(16, group=4, impl='cpu')
    with torch.no_grad():
        module.offset.weight.normal_(0, 0.1)
    x = torch.randn(2, 9, 9, 16, requires_grad=True)

    def gradients(fn: torch.nn.Module) -> list[torch.Tensor]:
        module.zero_grad()
        x.grad = None
        fn(x).square().mean().backward()
        return [x.grad.clone()] + [p.grad.clone() for p in module.parameters()]

    torch._dynamo.reset()
    eager = gradients(module)
    with torch._inductor.config.patch(force_disable_caches=True):
        compiled = gradients(torch.compile(module))
    assert len(compiled) == len(eager) == 13
    for name, a, b in zip(['input'] + [n for n, _ in module.named_parameters()], compiled, eager):
        assert ((a - b).abs().max() / b.abs().max()).item() < 1e-5, name
