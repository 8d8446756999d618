"""segkit's errors: one hierarchy, at the bottom layer (it imports nothing).

Every error segkit raises on purpose is a :class:`SegkitError`, so a tool
catches them by type and prints their message as one line. Each one is also
the exception the stack (Python, PyTorch, mmengine, mmseg) raises for the
same condition, so code written for that stack keeps catching it: a missing
checkpoint is a ``FileNotFoundError`` (as mmengine's loader raises), a
checkpoint that does not fit the model is a ``RuntimeError`` (as
``load_state_dict`` raises), a refused pickle an ``UnpicklingError`` (as
``torch.load(weights_only=True)`` raises), a bad argument a ``ValueError``.

    SegkitError
    ├── ConfigError (ValueError)            a config or option that cannot work
    ├── ConfigNotFoundError (FileNotFoundError)
    ├── DataNotFoundError (FileNotFoundError)   a data root not in its layout
    ├── InputNotFoundError (FileNotFoundError)  no image where a tool was pointed
    ├── BadSampleError (ValueError)         an unreadable or inconsistent sample
    ├── CheckpointError                     anything about a checkpoint file
    │   ├── CheckpointNotFoundError (FileNotFoundError)
    │   ├── UnsafeCheckpointError (pickle.UnpicklingError)   would run code, or is no checkpoint
    │   └── CheckpointMismatchError (RuntimeError)   keys of another architecture
    ├── DensifyError (ValueError)           a layer equivalent stride cannot make exact
    ├── ExportError (RuntimeError)          a layer that does not export
    └── NonFiniteLossError (FloatingPointError)   the training loss became NaN or inf
"""
from __future__ import annotations

import pickle

__all__ = ['BadSampleError', 'CheckpointError', 'CheckpointMismatchError',
           'CheckpointNotFoundError', 'ConfigError', 'ConfigNotFoundError', 'DataNotFoundError',
           'DensifyError', 'ExportError', 'InputNotFoundError', 'NonFiniteLossError',
           'SegkitError', 'UnsafeCheckpointError']


class SegkitError(Exception):
    """An error the user can fix; segkit's tools print it as a single line."""


class ConfigError(SegkitError, ValueError):
    """A config or an option that cannot work (a bad key, parts that do not
    fit together, an option this machine cannot honour)."""


class ConfigNotFoundError(SegkitError, FileNotFoundError):
    """Neither a config file nor the name of a config shipped with segkit."""


class DataNotFoundError(SegkitError, FileNotFoundError):
    """A dataset root that is missing or not in its dataset's layout."""


class InputNotFoundError(SegkitError, FileNotFoundError):
    """No image where a tool was pointed (a missing path, a folder or list
    without images)."""


class BadSampleError(SegkitError, ValueError):
    """A dataset sample that cannot be used (unreadable image, bad label)."""


class CheckpointError(SegkitError):
    """Anything wrong with a checkpoint file; the subclasses say what."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint file does not exist."""


class UnsafeCheckpointError(CheckpointError, pickle.UnpicklingError):
    """The file is no torch checkpoint, or holds objects that would run code
    when loaded (segkit loads with ``weights_only=True`` only)."""


class CheckpointMismatchError(CheckpointError, RuntimeError):
    """A checkpoint of another architecture, or of another variant of this
    one (keys missing, unexpected or of another shape)."""


class DensifyError(SegkitError, ValueError):
    """A layer that equivalent stride cannot make exact."""


class ExportError(SegkitError, RuntimeError):
    """A model that does not export (the message names the layer)."""


class NonFiniteLossError(SegkitError, FloatingPointError):
    """The training loss became NaN or infinite."""
