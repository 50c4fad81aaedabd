"""One session's training run: ``MLPRegressor.fit`` in a thread, steered between epochs.

The run trains the estimator the exported command trains, through its public
``fit(callbacks=…)``: a callback after every epoch measures the test loss, sends
the page a view every ``speed`` epochs (at most ``max_updates_per_second``), and
waits — blocked, using no CPU — while the run is paused, so that play, pause,
one step and stop all take effect between epochs. A stopped run ends at the end
of its current epoch, which the caps keep short.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from gradfit.engine.losses import get_loss
from gradfit.engine.training import Trainer
from gradfit.errors import DivergenceError
from gradfit.playground.data import Problem
from gradfit.playground.export import estimator_params, model_bytes
from gradfit.playground.limits import LIMITS, Limits
from gradfit.playground.protocol import ProtocolError, Settings
from gradfit.playground.views import Views, loss_surface

Publish = Callable[[dict[str, Any]], None]


def _quiet() -> None:
    """Silence the estimator's warning that ``max_iter`` was reached: a live run ends when
    the page stops it (and its one-epoch probe by design). Set where it is needed, since
    a test runner restores the warning filters between tests."""
    warnings.filterwarnings("ignore", message="MLPRegressor reached max_iter")


def as_frame(X: np.ndarray[Any, Any], names: tuple[str, ...]) -> Any:
    """``X`` as a DataFrame with the column names, as ``gradfit fit`` passes it."""
    import pandas as pd

    return pd.DataFrame(X, columns=list(names))


class Run:
    """A run of ``settings`` on ``problem``, started by :meth:`play` or :meth:`step`.

    Parameters
    ----------
    settings : Settings
    problem : Problem
    publish : callable
        Called from the training thread with each message for the page; it may
        block to slow the run down to the pace the page is sent at.
    limits : Limits
    """

    def __init__(
        self, settings: Settings, problem: Problem, publish: Publish, limits: Limits = LIMITS
    ) -> None:
        from gradfit.estimator import MLPRegressor

        self.settings, self.problem, self.publish, self.limits = settings, problem, publish, limits
        self.speed = 10
        self._X = as_frame(problem.X_train, problem.features)
        _quiet()
        # One epoch with the parameters recorded gives the run's initial network and
        # scalers exactly as the live fit (same seed) will start from them.
        probe = MLPRegressor(**estimator_params(settings, 1), record_parameters=True)
        probe.fit(self._X, problem.y_train)
        assert probe.history_.parameters is not None
        self._initial = probe.history_.parameters[0]
        # The estimator standardises by default, so both scalers exist.
        assert probe.x_scaler_ is not None and probe.y_scaler_ is not None
        self._x_scaler, self._y_scaler = probe.x_scaler_, probe.y_scaler_
        self.sizes = probe.net_.sizes
        self.views = Views(problem, self.sizes, settings.activation)
        self._X_test = self._x_scaler.transform(problem.X_test)
        self._Y_test = self._y_scaler.transform(problem.y_test[:, None])
        self._loss = get_loss(settings.loss)
        self.epoch = 0
        self.test_loss: list[float] = []
        self._published = 0
        self._last_publish = 0.0
        self._cond = threading.Condition()
        self._playing = False
        self._steps = 0
        self._until: int | None = None
        self._stopping = False
        self._parked = True
        self.failed: str | None = None
        self.trainer: Trainer | None = None
        self.thread: threading.Thread | None = None

    # ---- what the page sees -------------------------------------------------------

    def data_message(self) -> dict[str, Any]:
        """Everything about the run that does not change while it trains."""
        p = self.problem
        message: dict[str, Any] = {
            "type": "data",
            "settings": self.settings.as_dict(),
            "features": list(p.features),
            "target": p.target,
            "sizes": self.sizes,
            "train": {"X": p.X_train.tolist(), "y": p.y_train.tolist()},
            "test": {"X": p.X_test.tolist(), "y": p.y_test.tolist()},
            "bounds": p.bounds,
            "grid": p.grid.tolist() if p.n_in == 1 else len(p.grid),
            "truth": None if p.truth is None else p.truth.tolist(),
            "contours": None,
        }
        if self.sizes == [1, 1]:
            message["contours"] = self._contours()
        return message

    def _contours(self) -> dict[str, Any]:
        X = self._x_scaler.transform(self.problem.X_train)
        y = self._y_scaler.transform(self.problem.y_train[:, None])[:, 0]
        # Least squares on standardised data: slope = correlation, intercept 0.
        w_opt = float(np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)[0][0])
        w0, b0 = float(self._initial[0][0, 0]), float(self._initial[1][0])
        half = max(1.0, 1.3 * max(abs(w0 - w_opt), abs(b0)))
        return loss_surface(X, y, self.settings.loss, (w_opt, 0.0), half)

    def initial_update(self) -> dict[str, Any]:
        """The view of the network before training (epoch 0)."""
        view = self.views.snapshot(self._initial, self._x_scaler, self._y_scaler)
        test_loss = self._test_loss_at(self._initial)
        return {
            "type": "update",
            "epoch": 0,
            "first": 1,
            "loss": [],
            "test_loss": [],
            "initial_test_loss": test_loss,
            "view": view,
        }

    def _test_loss_at(self, params: list[Any]) -> float:
        from gradfit.engine.network import MLP

        net = MLP.from_parameters(self.sizes, self.settings.activation, params)
        return self._loss.value(net.forward(self._X_test), self._Y_test)

    # ---- steering (called from the server's event loop) -------------------------

    def play(self, until: int | None = None) -> None:
        with self._cond:
            self._playing, self._until = True, until
            self._cond.notify_all()
        self._start()

    def step(self, epochs: int = 1) -> None:
        with self._cond:
            self._steps += epochs
            self._cond.notify_all()
        self._start()

    def pause(self) -> None:
        with self._cond:
            self._playing, self._steps, self._until = False, 0, None
            self._cond.notify_all()

    def stop(self) -> None:
        """End the run at the end of the current epoch (it cannot be restarted)."""
        with self._cond:
            self._stopping, self._playing = True, False
            self._cond.notify_all()

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive() and not self._parked

    def _start(self) -> None:
        if self.thread is None and self.failed is None:
            self._parked = False
            self.thread = threading.Thread(
                target=self._main, name="gradfit-playground-run", daemon=True
            )
            self.thread.start()

    def wait_parked(self, timeout: float) -> bool:
        """Pause and wait until the thread waits between epochs (or has ended)."""
        self.pause()
        with self._cond:
            return self._cond.wait_for(
                lambda: self._parked or self.thread is None or not self.thread.is_alive(),
                timeout,
            )

    # ---- the training thread -------------------------------------------------------

    def _main(self) -> None:
        from gradfit.estimator import MLPRegressor

        model = MLPRegressor(**estimator_params(self.settings))
        _quiet()
        self._cpu_start = time.thread_time()
        try:
            model.fit(self._X, self.problem.y_train, callbacks=[self._after_epoch])
        except DivergenceError as exc:
            self.failed = " ".join(str(exc).split())
        except Exception as exc:  # the page must hear of it; the server lives on
            self.failed = f"training failed: {type(exc).__name__}: {exc}"
        finally:
            with self._cond:
                self._parked = True
                self._cond.notify_all()
        if self.failed is not None and not self._stopping:
            self.publish({"type": "error", "message": self.failed, "field": None, "request": None})
            self.publish(self.status("finished"))

    def status(self, state: str | None = None, note: str | None = None) -> dict[str, Any]:
        if state is None:
            state = "running" if self._playing or self._steps else "paused"
        return {"type": "status", "state": state, "epoch": self.epoch, "note": note}

    def _after_epoch(self, trainer: Trainer) -> None:
        """Between epochs: measure, show, and wait while paused."""
        self.trainer = trainer
        self.test_loss.append(trainer.stepper.evaluate(self._X_test, self._Y_test))
        self.epoch = trainer.epoch
        note = None
        with self._cond:
            self._steps = max(0, self._steps - 1)
            if self._until is not None and self.epoch >= self._until:
                self._playing, self._until = False, None
            if time.thread_time() - self._cpu_start > self.limits.max_cpu_seconds:
                self._playing, self._steps = False, 0
                note = (
                    f"this run used its {self.limits.max_cpu_seconds:g} s of CPU time and "
                    "paused; reset to start a new one"
                )
            going = self._playing or self._steps
        if going and self.epoch - self._published >= self.speed:
            self._pace()
            self._send_update(trainer)
        self._wait_while_paused(trainer, note)

    def _wait_while_paused(self, trainer: Trainer, note: str | None) -> None:
        """Return when the run is to go on; while paused, show the last epoch, say so
        once, and wait without using the CPU. Stopping ends the fit."""
        announced = False
        while True:
            with self._cond:
                if self._stopping:
                    trainer.stop = True
                    return
                if self._playing or self._steps:
                    self._parked = False
                    return
                if announced:
                    self._parked = True
                    self._cond.notify_all()
                    self._cond.wait()
                    continue
            # Outside the lock: sending may wait for the page.
            if self._published < self.epoch:
                self._send_update(trainer)
            self.publish(self.status("paused", note))
            announced = True

    def _pace(self) -> None:
        """Wait (idle) until the next update is due; stopping or pausing cuts it short."""
        due = self._last_publish + 1.0 / self.limits.max_updates_per_second
        with self._cond:
            self._cond.wait_for(
                lambda: self._stopping or not (self._playing or self._steps),
                max(0.0, due - time.monotonic()),
            )

    def _send_update(self, trainer: Trainer) -> None:
        start, end = self._published, self.epoch
        params = trainer.stepper.get_parameters()
        self.publish(
            {
                "type": "update",
                "epoch": end,
                "first": start + 1,
                "loss": trainer.history.loss[start:end],
                "test_loss": self.test_loss[start:end],
                "view": self.views.snapshot(params, self._x_scaler, self._y_scaler),
            }
        )
        self._published, self._last_publish = end, time.monotonic()

    # ---- taking it away ----------------------------------------------------------

    def fitted_model(self) -> tuple[Any, int]:
        """The estimator as it is now, fitted: ``fit(resume_from=…)`` of this run's state
        with ``max_iter`` = the epochs run, which trains nothing more. Pauses the run."""
        from gradfit.estimator import MLPRegressor

        if not self.wait_parked(timeout=5.0) or self.trainer is None:
            raise ProtocolError("train at least one epoch before exporting")
        if self.failed is not None:
            raise ProtocolError(f"the run ended ({self.failed}); reset it to export a model")
        state = self.trainer.state_dict()
        model = MLPRegressor(**estimator_params(self.settings, state["epoch"]))
        model.fit(self._X, self.problem.y_train, resume_from=state)
        return model, state["epoch"]

    def model_file(self) -> tuple[bytes, int]:
        model, epochs = self.fitted_model()
        return model_bytes(model, self.problem.target), epochs
