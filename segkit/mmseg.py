"""segkit inside mmsegmentation: what configs name in ``custom_imports``.

    custom_imports = dict(imports=['segkit.mmseg'], allow_failed_imports=False)

Importing this module applies segkit's fixes for the mmcv / mmengine / torch
versions (:mod:`segkit.compat`) and registers every segkit backbone, head,
conv layer, dataset, transform, hook and optimizer constructor into mmseg's
registries. ``import segkit`` alone stays light (operators only); it loads
this module too when mmengine is already imported, which is the case when
an older config names ``imports=['segkit']``.
"""
import segkit.compat  # noqa: F401  (before anything imports mmseg)
from segkit import datasets, engine, models  # noqa: F401  (registration)
