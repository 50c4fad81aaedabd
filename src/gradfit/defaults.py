"""gradfit's defaults, in one place: the estimators' signatures and the CLI read them here,
with the choices of the parameters whose options the CLI offers (:data:`BACKENDS`,
:data:`PRECISIONS`; the solvers are :data:`gradfit.engine.optim.OPTIMIZERS`).

They are chosen for what most users fit: a small table of numbers (a hundred to ten
thousand rows, a few dozen columns), where a network's danger is to learn the noise.
What the literature on small tabular data finds robust, and what they do here:

- **Hold out a validation split and keep the best epoch** (early stopping; Prechelt,
  "Early stopping — but when?", 1998; the baseline MLPs of Gorishniy et al., "Revisiting
  deep learning models for tabular data", 2021, and Kadra et al., "Well-tuned simple nets
  excel on tabular datasets", 2021). A random :data:`HOLD_OUT` (a fifth) of the rows is
  held out (``validation_fraction`` unset); training stops when their loss has not
  improved for ``n_iter_no_change=50`` epochs, and the parameters of the epoch with the
  lowest validation loss are put back. A patience of 50 epochs rides out the noise of a
  small validation set; ``max_iter=1000`` is then only a ceiling. When the held-out part
  would have fewer than :data:`MIN_VALIDATION_ROWS` rows (under 150 rows in all) it is
  too small to judge epochs by, and costly to give up, so ``early_stopping="auto"``
  switches it off: the network trains on every row and stops when the training loss
  stops improving.
- **Five networks, each holding out its own fold** (``n_members="auto"``): when a split
  is held out, the fit trains :data:`AUTO_MEMBERS` networks at once, member ``k``
  holding out fold ``k`` of a 5-fold cross-validation split and training on the other
  four (k-fold bagging, as AutoGluon-Tabular does; Erickson et al. 2020), and predicts
  their mean. A single network gives up a fifth of a small table to its validation
  split, and its held-out score wavers with which fifth it was (and with its random
  start); here every row trains four of the five members, and averaging them cancels
  much of what each learnt from its own noise. Early stopping watches the members'
  mean loss on their own held-out folds, and the fitted model scores each row
  out-of-bag (by the member that did not train on it). The members are one batched
  computation, and cost up to five times one network. Below
  :data:`MIN_VALIDATION_ROWS` held-out rows, where nothing is held out, ``"auto"`` is
  one network: five members that all train on every row differ only in their
  starting weights, which on ``mcycle`` (133 rows) gained nothing. So is it on large
  tables, beyond :data:`AUTO_MEMBERS_MAX_WORK` multiply-adds an epoch, to keep a fit of
  10,000 rows × 50 columns within 10 s.
- **Standardise inputs and targets** inside the estimator, so that one learning rate and
  one initialisation suit every table whatever its units.
- **Robust to outlying inputs at prediction**: ``clip_inputs=True`` clips each input to
  the range seen in training before predicting. Beyond that range a ReLU network
  extends its last linear piece, which nothing in the data supports; one far row in
  new data (quantreg's ``engel``: an income twice the training maximum) can then
  outweigh all others. Held at the edge, the prediction behaves as a tree ensemble's.
- **A moderate network**: one hidden layer of 100 ReLU units, Adam at
  ``learning_rate_init=0.003`` in minibatches of up to 200 rows. Two hidden layers of 128
  gained nothing beyond the noise on the benchmark's data sets (``benchmarks/realdata.py``)
  at several times the work; neither did a larger L2 penalty (``alpha``), nor five
  members sharing one held-out split. On the two sets where one network trailed
  (diabetes below ``RidgeCV``, auto-mpg below scikit-learn's MLP), neither did a
  learning-rate schedule (halving on a plateau of the validation loss), ``alpha``
  chosen on the held-out split from a small grid, early stopping on a moving average
  of the parameters, a longer patience or smaller batches: none lifted both
  (``benchmarks/realdata_tried.py``). The k-fold bagging above lifted both, and ten of
  the twelve sets in all, the four unseen ones among them.

Measured on the benchmark's suite (mean held-out R² over eight data sets, five random
80/20 splits each), early stopping with the best epoch restored is what lifts the
network from overfitting to above scikit-learn's ``MLPRegressor`` and ``RidgeCV``,
clipping the inputs what keeps one far row from ruining a split, and five members on
their own folds what lifts it above both on every set; the README's "Defaults for real
data" section has the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

BACKENDS = ("numpy", "torch")
"""``backend``: the engine's hand-written backprop, or PyTorch autograd."""

PRECISIONS = ("full", "bf16-mixed")
"""``precision`` (the torch backend's). ``full``: every operation in the parameters' dtype.
``bf16-mixed`` (PyTorch Lightning's name): the forward runs under
``torch.autocast(dtype=torch.bfloat16)``, so the matrix products take bfloat16 inputs (8
bits of mantissa) and the element-wise operations follow them; the parameters, their
gradients, the optimizer's state and the loss stay float32. The backward of each product
runs in bfloat16 too, its results accumulated into float32 gradients."""

AUTO_BATCH = 200
"""``batch_size="auto"`` is ``min(200, n_samples)``, as in scikit-learn."""

HOLD_OUT = 0.2
"""The share of rows held out for early stopping when ``validation_fraction`` is unset."""

AUTO_MEMBERS = 5
"""``n_members="auto"`` trains this many networks when the fit holds out validation rows."""

AUTO_MEMBERS_MAX_WORK = 20_000_000
"""``n_members="auto"`` trains :data:`AUTO_MEMBERS` networks only while one network's
epoch is at most this many multiply-adds (training rows × Σ n_in·n_out over its layers;
10,000 rows of 20 inputs with the default layer of 100 units), one beyond. There one
network's variance is smaller and five would cost five times as long: the 10,000 × 50 table
of ``benchmarks/realdata.py`` (41 million) took 12 s with five against 3 s with one, over
the 10 s that a fit of that size is allowed. The rule is scikit-learn's kind of "auto"
(``HistGradientBoostingRegressor`` stops early from 10,000 rows)."""

MAX_UNITS = 100_000
"""The most units a layer may have (``hidden_layer_sizes``, ``--hidden``, ``--sizes``): a
typo such as ``10**9`` would ask for more memory than any machine has, slowly."""

MAX_MEMBERS = 1000
"""The most networks in an ensemble (``n_members``, ``--ensemble``), for the same reason."""

MIN_VALIDATION_ROWS = 30
"""``early_stopping="auto"`` holds out a split only when it would have this many rows (150
rows in all at :data:`HOLD_OUT`): the usual rule of thumb for a mean — here the validation
loss — to be a steady enough estimate to pick an epoch by."""


@dataclass(frozen=True)
class Defaults:
    """The default value of each estimator parameter that the CLI also exposes."""

    hidden_layer_sizes: tuple[int, ...] = (100,)
    activation: str = "relu"
    solver: str = "adam"
    alpha: float = 1e-4
    batch_size: int | str | None = "auto"
    learning_rate_init: float = 0.003
    momentum: float = 0.9
    max_iter: int = 1000
    tol: float = 1e-4
    n_iter_no_change: int = 50
    early_stopping: bool | str = "auto"
    n_members: int | str = "auto"
    validation_fraction: float | None = None
    clip_inputs: bool = True
    backend: str = "numpy"
    loss: str = "mse"
    dtype: str = "float64"
    precision: str = "full"


DEFAULTS = Defaults()
"""The regressor's defaults (:class:`~gradfit.MLPRegressor`)."""

CLASSIFIER_DEFAULTS = replace(
    DEFAULTS,
    early_stopping=False,
    learning_rate_init=0.001,
    n_iter_no_change=10,
    clip_inputs=False,
    n_members=1,
)
"""The classifier's defaults (:class:`~gradfit.MLPClassifier`): the regressor's but five,
measured on scikit-learn's iris, wine, breast_cancer and digits, on five of R's data sets
chosen after them, and on four more chosen after those (5 stratified splits each,
``benchmarks/classification.py``; the README's "Classification" has the tables):

- ReLU units, as the regressor's (and scikit-learn's). Until 2026-12-03 the classifier had
  tanh units, chosen on scikit-learn's four sets, where relu fell behind logistic
  regression on breast_cancer (0.9754 against 0.9807). On the four sets checked that day,
  tanh's training loss flattened early on carData's ``Mroz`` and the runs stopped after
  78-111 epochs (0.6781, below logistic regression's 0.6980 and scikit-learn's MLP's
  0.7642; relu's ran 239-373 epochs and reached 0.7695). Over all thirteen sets relu's
  mean accuracy is the higher, 0.8200 against 0.8151 (``classification_tried.py``, its
  ``tanh`` row). The four below were chosen with tanh units, and their figures are from
  then.
- ``early_stopping=False``: holding out a fifth of the rows (the regressor's
  ``"auto"``) cost accuracy on breast_cancer (0.9737) and digits (0.9739). A
  cross-entropy keeps falling while the predicted labels stop changing, so the
  training loss with patience ``n_iter_no_change`` ends the run without giving up
  rows; the network trains on all of them.
- ``learning_rate_init=0.001`` and ``n_iter_no_change=10``, scikit-learn's own: with
  no held-out rows to stop on, the regressor's patience of 50 epochs at 0.003 let the
  cross-entropy drive the logits on: on R's sets the log loss doubled (fgl 1.79 against
  0.92, Pima 0.89 against 0.48) and the accuracy fell (mean 0.8745 against 0.8889);
  on scikit-learn's four the accuracy held or rose (breast_cancer 0.9825 to 0.9860).
- ``clip_inputs=False``: the regressor clips each input to its training range because
  beyond it a ReLU network's output grows without bound and one far row can dominate
  an R². A classifier's probabilities are bounded, and a row misjudged costs one row of
  accuracy; clipping columns one by one instead changes the relations between them. On
  R's crabs a crab smaller than every training one in four of its five measurements
  (split 4) was clipped into a crab of another shape, and predicted wrongly; unclipped,
  crabs reaches 1.0000 (scikit-learn's MLP's, against 0.9950) and no other set's
  accuracy changes.

- ``n_members=1``: one network, also with ``early_stopping=True``. The regressor's five
  members on folds of their own did not help the classifier: five members each stopped
  early on its own held-out fifth scored 0.9728 on digits (one network: 0.9767), and the
  bagged five of ``benchmarks/classification_tried.py`` lost breast_cancer and Pima
  against logistic regression.

Not kept (``benchmarks/classification_tried.py``, the README's table): scikit-learn's
Glorot initialisation, relu or sigmoid units, ``alpha`` from 0.001 to 1, batches of 32 or
64 rows, ``learning_rate_init=0.003``, a patience of 20, ``tol=1e-5``, 256 units or two
layers of 100, a deep ensemble of 5, bagging 5, a moving average of the parameters, the
number of epochs chosen on a held-out split then refitted, quantile-normalised inputs.
Those that lift digits, fgl or biopsy (where scikit-learn's MLP is ahead by two, three
and two test rows) lose breast_cancer or Pima against logistic regression.

The ``loss`` field does not apply: a classifier's loss follows from its labels
(softmax or sigmoid cross-entropy)."""


def members(n_members: int | None, held_out: bool, in_memory: bool, work: int) -> int:
    """The networks a fit trains: ``n_members`` as given, or for ``"auto"`` (``None``)
    :data:`AUTO_MEMBERS` when it stops early on held-out rows (``held_out``) of data in
    memory (``in_memory``: an ensemble trains on arrays) and one network's epoch is
    ``work`` ≤ :data:`AUTO_MEMBERS_MAX_WORK` multiply-adds; else one."""
    if n_members is not None:
        return n_members
    small = work <= AUTO_MEMBERS_MAX_WORK
    return AUTO_MEMBERS if held_out and in_memory and small else 1


def holds_out(early_stopping: bool | str, n_samples: int, fraction: float | None) -> bool:
    """Whether a fit on ``n_samples`` rows stops early on a held-out split.

    ``True``/``False`` as given; ``"auto"`` when the split, ``fraction`` of the rows
    (:data:`HOLD_OUT` when ``None``), has at least :data:`MIN_VALIDATION_ROWS` rows.
    """
    if early_stopping == "auto":
        return (fraction or HOLD_OUT) * n_samples >= MIN_VALIDATION_ROWS
    return bool(early_stopping)
