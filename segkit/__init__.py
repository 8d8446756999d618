"""segkit: four ways of shaping what a convolution sees (equivalent stride,
designed kernel shapes, DCLS, the deformable lineage DCN / DCNv2 / DCNv3 /
DCNv4), backbones and heads built from them, and the tools to train,
evaluate, compare and stress-test semantic segmentation models.

``import segkit`` and ``import segkit.ops`` need only torch: the operators
(:mod:`segkit.ops`) work in any PyTorch model. The mmsegmentation integration
(version fixes and registrations) is :mod:`segkit.mmseg`, which configs
import with ``custom_imports = dict(imports=['segkit.mmseg'])``.
"""
import sys

__version__ = '0.2.0'

if 'mmengine' in sys.modules:
    # NOTE: a config's custom_imports=['segkit'] (the name before segkit.mmseg
    # existed) imports segkit with mmengine already loaded; it still means the
    # integration, so load it. In a plain PyTorch process this never runs.
    import segkit.mmseg  # noqa: F401
