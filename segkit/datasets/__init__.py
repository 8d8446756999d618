"""Datasets, sample data and dataset conversion."""
from .checks import BadSampleError, SafeDataset, ValidateSegSample
from .sample import SampleDataset
from .sample_data import SAMPLE_CLASSES, SAMPLE_PALETTE, make_sample_data

__all__ = ['BadSampleError', 'SafeDataset', 'SampleDataset', 'ValidateSegSample', 'SAMPLE_CLASSES', 'SAMPLE_PALETTE', 'make_sample_data']
