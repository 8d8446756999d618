"""Make Cityscapes train-id labels: python tools/dataset_converters/cityscapes.py DATA_ROOT

Writes *_gtFine_labelTrainIds.png beside every *_gtFine_polygons.json and the
split lists train.txt / val.txt / test.txt in DATA_ROOT.
"""
import argparse
import sys

from segkit.utils.cli import run_cli


def main() -> int:
    parser = argparse.ArgumentParser(description='Convert Cityscapes polygons to train ids.')
    parser.add_argument('data_root', help='Cityscapes root (holds leftImg8bit/ and gtFine/)')
    parser.add_argument('--gt-dir', default='gtFine', help='annotation folder name')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    args = parser.parse_args()
    from segkit.datasets.cityscapes_converter import convert_cityscapes

    result = convert_cityscapes(args.data_root, args.gt_dir, args.nproc)
    splits = ', '.join(f'{k}: {v}' for k, v in result['splits'].items())
    print(f'converted {result["converted"]} files ({splits})')
    for error in result['failed']:
        print(f'failed: {error}', file=sys.stderr)
    return 1 if result['failed'] else 0


if __name__ == '__main__':
    run_cli(main)
