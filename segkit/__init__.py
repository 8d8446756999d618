"""segkit: equivalent-stride, DCLS and DCNv3 operators for mmsegmentation 1.x.

Importing segkit makes mmseg 1.2.2 usable on torch 2.14 (see
:mod:`segkit.compat`) and registers every segkit module into mmseg's
registries; configs pull it in with ``custom_imports = dict(imports=['segkit'])``.
"""
from segkit import compat

compat.apply()

from segkit import datasets, engine, models  # noqa: E402,F401  (registration)

__version__ = '0.1.0'
