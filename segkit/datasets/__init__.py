"""Datasets (sample data, a folder of one's own), their checks, transforms and conversion."""
import segkit.compat  # noqa: F401  (mmcv/mmengine fixes before mmseg loads)
from .checks import BadSampleError, SafeDataset, ValidateSegSample
from .class_table import ClassTable, read_class_table
from .color_mask import LoadColorAnnotations, colors_to_labels
from .folder_check import FolderReport, check_folder
from .folder_dataset import FolderSegDataset
from .sample import SampleDataset
from .sample_data import SAMPLE_CLASSES, SAMPLE_PALETTE, make_sample_data
from .setr_resize import SETRResize
from .things import known_things

__all__ = ['BadSampleError', 'ClassTable', 'FolderReport', 'FolderSegDataset',
           'LoadColorAnnotations', 'SafeDataset', 'SampleDataset', 'SETRResize',
           'ValidateSegSample', 'SAMPLE_CLASSES', 'SAMPLE_PALETTE', 'check_folder',
           'colors_to_labels', 'known_things', 'make_sample_data', 'read_class_table']
