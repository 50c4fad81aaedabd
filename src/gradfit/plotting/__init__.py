"""Figures of data, fits and training, drawn with matplotlib (``pip install 'gradfit[plot]'``).

Every function takes arrays or an engine :class:`~gradfit.engine.History`, returns a
:class:`matplotlib.figure.Figure` (rendered with Agg, no window, no pyplot state)
and, given ``path=``, saves it as PNG. matplotlib is imported only when a figure is drawn.
"""

from gradfit.plotting._canvas import png_bytes, save
from gradfit.plotting.classification import (
    plot_confusion_matrix,
    plot_decision_regions,
    plot_training,
)
from gradfit.plotting.data import plot_data, plot_fit
from gradfit.plotting.history import as_history, plot_loss, plot_parameters
from gradfit.plotting.parity import max_parameter_difference, plot_parity
from gradfit.plotting.surface import intercept_slope_path, line_loss, plot_descent
from gradfit.plotting.uncertainty import plot_band, plot_calibration

__all__ = [
    "as_history",
    "intercept_slope_path",
    "line_loss",
    "max_parameter_difference",
    "plot_band",
    "plot_calibration",
    "plot_confusion_matrix",
    "plot_data",
    "plot_decision_regions",
    "plot_descent",
    "plot_fit",
    "plot_loss",
    "plot_parameters",
    "plot_parity",
    "plot_training",
    "png_bytes",
    "save",
]
