#!/usr/bin/env sh
# Regenerates the README's pictures with convt itself: sh docs/images/make.sh (from anywhere).
# Needs Pillow (pip install -e ".[images]") and, for the same look, the fonts-dejavu-core package.
# tests/test_docs_images.py runs these very lines and checks the committed pictures equal what they draw.
set -eu
cd "$(dirname "$0")"
convt show --no-torch --export explainer.gif --force >/dev/null
convt show --no-torch -i "1,2;3,4" -k "1,1;1,1" -s 1 --export overlap.png --force >/dev/null
convt show --no-torch -i "1,2,3;4,5,6;7,8,9" -k "1,1,1;1,1,1;1,1,1" -s 2 --heatmap checkerboard.png --force >/dev/null
echo "Wrote explainer.gif, overlap.png and checkerboard.png in $(pwd)"
