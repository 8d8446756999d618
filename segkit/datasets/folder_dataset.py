"""A dataset for a folder of images and masks, on mmseg's ``BaseSegDataset``.

::

    dict(type='FolderSegDataset', data_root='data/parts', subset='train')

finds the images and masks as :mod:`segkit.datasets.folder` does (``images/``
+ ``masks/``, ``annotations/`` or ``labels/``, split folders or not, mask
names with ``_mask``-like suffixes, any extension case); everything else
(metainfo, ``label_map``, ``reduce_zero_label``, pipelines, serialisation)
is ``BaseSegDataset``'s. Palette PNGs need nothing: mmseg's
``LoadAnnotations`` reads their indices. RGB colour masks are read with
``LoadColorAnnotations`` in the pipeline instead (see
:mod:`segkit.datasets.color_mask`).
"""
from __future__ import annotations

import os
import os.path as osp
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from segkit.errors import ConfigError, DataNotFoundError

from .class_table import CLASSES_FILE, read_class_table
from .folder import SplitDirs, find_layout, holdout, pair_files

__all__ = ['FolderSegDataset']


@DATASETS.register_module()
class FolderSegDataset(BaseSegDataset):
    """Images and masks in a folder (see the module docstring).

    The classes come from ``metainfo=dict(classes=..., palette=...)``, else
    from ``classes_file`` (or a ``classes.txt`` in the data root; see
    :mod:`segkit.datasets.class_table`), else ``num_classes`` numbered
    ones (``class_0``, ...). ``segkit config new`` writes them into the
    config.

    Args:
        data_root: The folder.
        subset: ``'train'``, ``'val'`` or ``'test'``: that split's folders
            when the data has split folders; with ``val_every``, the held-out
            part. None: all pairs of ``data_prefix`` (or of the root).
        val_every: For data without split folders: ``'val'`` is every
            ``val_every``-th pair by sorted name (starting with the first),
            ``'train'`` the others (:func:`segkit.datasets.folder.holdout`).
        classes_file: Path of a classes file (relative to ``data_root`` or absolute).
        num_classes: Numbered classes, when no names are given.
        reduce_zero_label: 0 means "other" and is ignored, and the other
            labels move down by one (mmseg's ADE20K convention). Off by
            default: 0 is a class (background) like any other.
        ignore_index: The label value that is ignored.
        data_prefix: ``dict(img_path=..., seg_map_path=...)``: the folders,
            relative to ``data_root``, instead of those found.
        ann_file: A text file of relative stems (``city/0001``), one per line:
            only these pairs.
        mask_colors: The masks are RGB colour masks, class ``i`` in
            ``mask_colors[i]``: a plain ``LoadAnnotations`` in the pipeline is
            read as ``LoadColorAnnotations`` with these colours.
        ignore_colors: With ``mask_colors``: the colours of no class.
        kwargs: ``BaseSegDataset``'s (``pipeline``, ``metainfo``, ``test_mode``, ...).

    The loading steps of the pipeline take ``reduce_zero_label`` from the
    dataset (mmseg 1.x asserts the two agree), and a colour dataset's
    loading reads colours: code that rebuilds the loading step of a config
    (segkit's robustness and compare evaluations) then reads the labels the
    config's own pipeline reads.
    """

    def __init__(self, data_root: str, subset: str | None = None,
                 val_every: int | None = None, classes_file: str | None = None,
                 num_classes: int | None = None, reduce_zero_label: bool = False,
                 ignore_index: int = 255, data_prefix: dict | None = None,
                 metainfo: dict | None = None, mask_colors: list | None = None,
                 ignore_colors: list | None = None, **kwargs) -> None:
        self.subset, self.val_every = subset, val_every
        if kwargs.get('pipeline'):
            kwargs['pipeline'] = self._loading(kwargs['pipeline'], mask_colors,
                                               ignore_colors or [], ignore_index)
        self.dirs = self.split_dirs(data_root, subset, val_every, data_prefix)
        metainfo = dict(metainfo or {})
        if not metainfo.get('classes'):
            metainfo.update(self.class_metainfo(data_root, classes_file, num_classes))
        super().__init__(data_root=data_root, metainfo=metainfo,
                         data_prefix=dict(img_path=self.dirs.img_dir,
                                          seg_map_path=self.dirs.mask_dir),
                         reduce_zero_label=reduce_zero_label, ignore_index=ignore_index,
                         img_suffix='', seg_map_suffix='', **kwargs)

    @classmethod
    def _loading(cls, steps: list, colors: list | None, ignore_colors: list,
                 ignore_index: int) -> list:
        """The pipeline with its label loading fitted to the dataset."""
        result = []
        for step in steps:
            if isinstance(step, list):  # TestTimeAug's groups
                step = cls._loading(step, colors, ignore_colors, ignore_index)
            elif isinstance(step, dict) and step.get('type') == 'TestTimeAug':
                step = dict(step, transforms=cls._loading(step['transforms'], colors,
                                                          ignore_colors, ignore_index))
            elif isinstance(step, dict) and step.get('type') in ('LoadAnnotations',
                                                                 'LoadColorAnnotations'):
                step = {k: v for k, v in step.items() if k != 'reduce_zero_label'}
                if colors is not None and step['type'] == 'LoadAnnotations':
                    step.update(type='LoadColorAnnotations', colors=colors,
                                ignore_colors=ignore_colors, ignore_index=ignore_index)
            result.append(step)
        return result

    @staticmethod
    def split_dirs(root: str, subset: str | None, val_every: int | None,
                   data_prefix: dict | None) -> SplitDirs:
        """The folders a dataset of these arguments reads (see the class docstring).

        Raises:
            ConfigError: ``subset`` / ``val_every`` that do not fit the folder.
            DataNotFoundError: no such split, or no masks beside its images.
        """
        if data_prefix and data_prefix.get('img_path'):
            return SplitDirs(data_prefix['img_path'], data_prefix.get('seg_map_path'))
        layout = find_layout(root)
        if not layout.has_split_folders:
            if subset is not None and val_every is None:
                raise ConfigError(f'{root} has no split folders: subset={subset!r} needs '
                                  'val_every (every k-th pair held out for validation)')
            dirs = layout.splits['all']
        elif subset is None or val_every is not None:
            raise ConfigError(f'{root} has split folders ({", ".join(layout.splits)}): name one '
                              'as subset=, without val_every')
        elif subset not in layout.splits:
            raise DataNotFoundError(f'{root} has no {subset} folder (it has '
                                    f'{", ".join(layout.splits)})')
        else:
            dirs = layout.splits[subset]
        if dirs.mask_dir is None:
            raise DataNotFoundError(f'{root}: {dirs.img_dir} has no mask folder beside it')
        return dirs

    @staticmethod
    def class_metainfo(root: str, classes_file: str | None, num_classes: int | None) -> dict:
        """``classes`` (and ``palette``) from a classes file or a count.

        Raises:
            ConfigError: neither is given and the root has no classes.txt.
        """
        path = classes_file and (classes_file if osp.isabs(classes_file)
                                 else osp.join(root, classes_file))
        if path or (num_classes is None and osp.isfile(osp.join(root, CLASSES_FILE))):
            table = read_class_table(path or osp.join(root, CLASSES_FILE))
            return dict(classes=table.names, palette=table.palette) if table.colors else \
                dict(classes=table.names)
        if num_classes is None:
            raise ConfigError(f'FolderSegDataset of {root}: no classes: give '
                              'metainfo=dict(classes=...), classes_file=, num_classes=, or put '
                              f'a {CLASSES_FILE} in the data root (segkit config new writes them)')
        return dict(classes=tuple(f'class_{i}' for i in range(num_classes)))

    def load_data_list(self) -> list[dict]:
        """The pairs of the split, as ``BaseSegDataset`` lists them."""
        pairs = pair_files(self.data_root, self.dirs).pairs
        if self.val_every is not None:
            pairs = holdout(pairs, self.val_every, self.subset or 'train')
        if self.ann_file:
            with open(self.ann_file, encoding='utf-8') as f:
                keep = {line.strip() for line in f if line.strip()}
            pairs = [p for p in pairs if p.key in keep]
        return [dict(img_path=os.path.join(self.data_root, p.img),
                     seg_map_path=os.path.join(self.data_root, p.mask),
                     label_map=self.label_map, reduce_zero_label=self.reduce_zero_label,
                     seg_fields=[]) for p in pairs]
