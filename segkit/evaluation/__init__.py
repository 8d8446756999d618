"""Evaluation beyond clean mIoU: occlusion and common corruptions, what a model looks at.

:mod:`.variants` is the engine (mIoU on perturbed copies of a test set);
:mod:`.occlusion_benchmark` and :mod:`.corruption_benchmark` are the studies
built on it; :mod:`.statistics` and :mod:`.significance` say how sure a
figure and a comparison are (bootstrap intervals, paired tests, seeds).
"""
from .corruption_benchmark import (CorruptionResult, evaluate_corruptions,
                                   summarise_corruptions, write_corruption_report)
from .corruption_metrics import corruption_errors, relative_robustness
from .corruptions import BENCHMARK, CORRUPTIONS, corrupt, corruption_names
from .occlusion import FILL_MODES, occlude, occlude_objects, seed_for
from .occlusion_benchmark import (OCCLUDERS, SeverityResult, evaluate_robustness, summarise,
                                  write_robustness_report)
from .receptive_field import (ReceptiveField, gradient_map, mass_radius, occlusion_map,
                              receptive_field_of, write_receptive_field_report)
from .segmentor import Segmentor
from .significance import RunCounts, significance
from .statistics import ImageBootstrap, ImageCounts, compare_to_baseline, miou_from_counts
from .variants import RegionStats, evaluate_variants, labelled_dataset

__all__ = ['BENCHMARK', 'CORRUPTIONS', 'CorruptionResult', 'FILL_MODES', 'ImageBootstrap',
           'ImageCounts', 'OCCLUDERS', 'ReceptiveField', 'RegionStats', 'RunCounts', 'Segmentor',
           'SeverityResult', 'compare_to_baseline', 'corrupt', 'corruption_errors',
           'corruption_names', 'evaluate_corruptions', 'evaluate_robustness',
           'evaluate_variants', 'gradient_map', 'labelled_dataset', 'mass_radius',
           'miou_from_counts', 'occlude', 'occlude_objects', 'occlusion_map',
           'receptive_field_of', 'relative_robustness', 'seed_for', 'significance', 'summarise',
           'summarise_corruptions', 'write_corruption_report', 'write_receptive_field_report',
           'write_robustness_report']
