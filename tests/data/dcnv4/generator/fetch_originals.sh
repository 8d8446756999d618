#!/usr/bin/env bash
# Export the original OpenGVLab/DCNv4 files that make_golden.py imports into
# generator/orig/ (git-ignored: the original code is never committed here).
#
#   bash tests/data/dcnv4/generator/fetch_originals.sh      # from the repository root
#
# The repository is read from a local clone or bare mirror when DCNV4_GIT
# names one (a .git directory or a bare repository), otherwise it is cloned
# (blobless) from GitHub into a temporary directory. Files come from the
# pinned commit with `git archive`, unedited.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ORIG="$HERE/orig"
URL=https://github.com/OpenGVLab/DCNv4.git
COMMIT=4b848f7dd7da74ff03f7d278f902c6fd05b391b5
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

GITDIR=${DCNV4_GIT:-}
if [ -z "$GITDIR" ]; then
    GITDIR="$TMP/DCNv4.git"
    git clone --quiet --bare --filter=blob:none "$URL" "$GITDIR"
fi
git --git-dir="$GITDIR" rev-parse --quiet --verify "$COMMIT^{commit}" >/dev/null \
    || { echo "commit $COMMIT not in $GITDIR" >&2; exit 1; }

PATHS=(LICENSE README.md DCNv4_op
       classification/models classification/configs classification/ops_dcnv3
       classification/config.py classification/main.py classification/utils.py
       classification/README.md
       segmentation/mmseg_custom/models/backbones segmentation/configs/ade20k
       segmentation/configs/_base_/models segmentation/README.md)
rm -rf "$ORIG"
mkdir -p "$ORIG"
git --git-dir="$GITDIR" archive --format=tar "$COMMIT" -- "${PATHS[@]}" | tar -x -C "$ORIG"
echo "DCNv4 $URL $COMMIT ${PATHS[*]}" > "$ORIG/SOURCES.txt"
echo "exported into $ORIG:"
cat "$ORIG/SOURCES.txt"
