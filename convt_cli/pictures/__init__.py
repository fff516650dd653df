"""Pictures of the scatter steps: animated GIFs, PNG sheets and heatmaps.

``layout`` and ``heatmap`` are pure (records → cells, their text and their pixel boxes; no Pillow);
``draw`` turns a layout into pixels with Pillow, imported only there; ``export`` is what the
commands call (path checks, the missing-Pillow message, atomic writes).
"""
