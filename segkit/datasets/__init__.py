"""Datasets, sample data and dataset conversion."""
import segkit.compat  # noqa: F401  (mmcv/mmengine fixes before mmseg loads)
from .checks import BadSampleError, SafeDataset, ValidateSegSample
from .sample import SampleDataset
from .sample_data import SAMPLE_CLASSES, SAMPLE_PALETTE, make_sample_data
from .setr_resize import SETRResize
from .things import known_things

__all__ = ['BadSampleError', 'SafeDataset', 'SampleDataset', 'SETRResize', 'ValidateSegSample',
           'SAMPLE_CLASSES', 'SAMPLE_PALETTE', 'known_things', 'make_sample_data']
