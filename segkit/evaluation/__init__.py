"""Evaluation beyond clean mIoU: occlusion robustness, what a model looks at."""
from .occlusion import FILL_MODES, occlude, seed_for
from .receptive_field import (ReceptiveField, gradient_map, mass_radius, occlusion_map,
                              receptive_field_of, write_receptive_field_report)
from .robustness import (RegionStats, SeverityResult, evaluate_robustness, summarise,
                         write_robustness_report)

__all__ = ['FILL_MODES', 'ReceptiveField', 'RegionStats', 'SeverityResult', 'evaluate_robustness',
           'gradient_map', 'mass_radius', 'occlude', 'occlusion_map', 'receptive_field_of',
           'seed_for', 'summarise', 'write_receptive_field_report', 'write_robustness_report']
