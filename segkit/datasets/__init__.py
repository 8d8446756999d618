"""Datasets, sample data and dataset conversion."""
from .sample import SampleDataset
from .sample_data import SAMPLE_CLASSES, SAMPLE_PALETTE, make_sample_data

__all__ = ['SampleDataset', 'SAMPLE_CLASSES', 'SAMPLE_PALETTE', 'make_sample_data']
