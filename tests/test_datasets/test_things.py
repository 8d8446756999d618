"""Thing classes of known datasets: Cityscapes' 8, ADE20K's 100 (the panoptic
annotations' things, as Mask2Former's register_ade20k_panoptic.py lists
them), the sample data's 3; found by class names."""
from __future__ import annotations

from mmseg.registry import DATASETS

from segkit.datasets.things import dataset_things, known_things


def test_each_dataset_s_things_are_its_classes() -> None:
    things = dataset_things()
    assert sorted(things) == ['ADE20KDataset', 'CityscapesDataset', 'SampleDataset']
    for dataset_type, names in things.items():
        classes = DATASETS.get(dataset_type).METAINFO['classes']
        assert len(set(names)) == len(names) and set(names) <= set(classes), dataset_type
        assert known_things(classes) == names, dataset_type


def test_the_things_by_hand() -> None:
    things = dataset_things()
    assert things['CityscapesDataset'] == ('person', 'rider', 'car', 'truck', 'bus', 'train',
                                           'motorcycle', 'bicycle')
    # the generator's thing labels, not its stuff
    assert things['SampleDataset'] == ('disc', 'box', 'triangle')
    ade = {name.strip() for name in things['ADE20KDataset']}
    assert len(ade) == 100
    assert {'person', 'car', 'bed', 'windowpane', 'chair', 'lamp', 'clock', 'flag'} <= ade
    assert not ade & {'wall', 'building', 'sky', 'floor', 'road', 'grass', 'sea', 'poster'}


def test_unknown_classes_have_no_things() -> None:
    assert known_things(('stuff', 'other stuff')) is None
    assert known_things(('person', 'car')) is None  # a few things are not a dataset
    # a checkpoint's own class list (another order, more classes) still finds them
    assert known_things(('sky', 'triangle', 'box', 'disc', 'grass')) == ('disc', 'box',
                                                                            'triangle')
