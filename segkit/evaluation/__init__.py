"""Evaluation beyond clean mIoU: occlusion robustness."""
from .occlusion import FILL_MODES, occlude, seed_for
from .robustness import (RegionStats, SeverityResult, evaluate_robustness, summarise,
                         write_robustness_report)

__all__ = ['FILL_MODES', 'RegionStats', 'SeverityResult', 'evaluate_robustness', 'occlude',
           'seed_for', 'summarise', 'write_robustness_report']
