"""Plot where the learned DCLS taps went: python tools/plot_dcls_positions.py CONFIG CHECKPOINT --out taps.png"""
import argparse

from segkit.utils.cli import run_cli


def main() -> None:
    parser = argparse.ArgumentParser(description='Plot learned DCLS tap positions per stage.')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', default='dcls_positions.png')
    args = parser.parse_args()
    import segkit.mmseg  # noqa: F401  (fixes + registration)
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmseg.registry import MODELS

    from segkit.apis import load_config
    from segkit.apis.dcls_positions import collect_dcls_positions, plot_dcls_positions

    cfg = load_config(args.config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    positions = collect_dcls_positions(model)
    plot_dcls_positions(positions, args.out, title=f'DCLS taps: {args.checkpoint}')
    print(f'{len(positions)} position sets plotted to {args.out}')


if __name__ == '__main__':
    run_cli(main)
