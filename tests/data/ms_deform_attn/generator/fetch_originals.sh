#!/usr/bin/env bash
# Export the original files that make_golden.py imports into generator/orig/
# (git-ignored: the originals' code is never committed to this repository).
#
#   bash tests/data/ms_deform_attn/generator/fetch_originals.sh      # from the repository root
#
# Each repository is read from a local clone or bare mirror when the variable
# below names one (DEFORMABLE_DETR_GIT, MASK2FORMER_GIT, MMCV_GIT, DCNV4_GIT:
# a .git directory or a bare repository), otherwise it is cloned (blobless)
# from GitHub into a temporary directory. Every file comes from the pinned
# commit with `git archive`, nothing is edited.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ORIG="$HERE/orig"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

export_repo() {  # name url commit local_git_dir path...
    local name=$1 url=$2 commit=$3 gitdir=$4
    shift 4
    if [ -z "$gitdir" ]; then
        gitdir="$TMP/$name.git"
        git clone --quiet --bare --filter=blob:none "$url" "$gitdir"
    fi
    git --git-dir="$gitdir" rev-parse --quiet --verify "$commit^{commit}" >/dev/null \
        || { echo "$name: commit $commit not in $gitdir" >&2; exit 1; }
    rm -rf "${ORIG:?}/$name"
    mkdir -p "$ORIG/$name"
    git --git-dir="$gitdir" archive --format=tar "$commit" -- "$@" | tar -x -C "$ORIG/$name"
    echo "$name $url $commit $*" >> "$ORIG/SOURCES.txt"
}

mkdir -p "$ORIG"
: > "$ORIG/SOURCES.txt"
export_repo Deformable-DETR https://github.com/fundamentalvision/Deformable-DETR.git \
    11169a60c33333af00a4849f1808023eba96a931 "${DEFORMABLE_DETR_GIT:-}" \
    LICENSE models/ops/functions models/ops/modules models/ops/src
export_repo Mask2Former https://github.com/facebookresearch/Mask2Former.git \
    9b0651c6c1d5b3af2e6da0589b719c514ec0d69a "${MASK2FORMER_GIT:-}" \
    LICENSE mask2former/modeling/pixel_decoder/ops/functions \
    mask2former/modeling/pixel_decoder/ops/modules mask2former/modeling/pixel_decoder/ops/src
# mmcv v2.1.0 (the tag's commit); the same file is what mmcv-lite 2.1.0 installs
export_repo mmcv https://github.com/open-mmlab/mmcv.git \
    57c4e25e06e2d4f8a9357c84bcd24089a284dc88 "${MMCV_GIT:-}" \
    LICENSE mmcv/ops/multi_scale_deform_attn.py \
    mmcv/ops/csrc/common/cuda/ms_deform_attn_cuda_kernel.cuh \
    mmcv/ops/csrc/pytorch/cuda/ms_deform_attn_cuda.cu
export_repo DCNv4 https://github.com/OpenGVLab/DCNv4.git \
    4b848f7dd7da74ff03f7d278f902c6fd05b391b5 "${DCNV4_GIT:-}" \
    LICENSE DCNv4_op/DCNv4 DCNv4_op/src
echo "exported into $ORIG:"
cat "$ORIG/SOURCES.txt"
