"""Process bodies for the distributed tests (importable by spawned processes), and the
single-process reference they are compared with."""

from __future__ import annotations

import os
import socket
import time

import numpy as np
import torch.multiprocessing as mp

SAMPLES, FEATURES, BATCH = 100, 5, 16  # 100 = 6 global batches of 16 and one of 4 (split 2 + 2)


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, FEATURES)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int64")
    return x, y


def model(optimizer: str):
    import ember
    from ember import layers

    ember.utils.set_random_seed(0)
    built = ember.Sequential([layers.Input((FEATURES,)), layers.Dense(8, activation="relu"),
                              layers.Dense(2, activation="softmax")])
    built.compile(ember.optimizers.get({"sgd": ember.optimizers.SGD(0.1), "adam": ember.optimizers.Adam(0.01)}[optimizer]),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    return built


def train_and_report(optimizer: str, folder: str, rank: int) -> dict[str, np.ndarray]:
    """One epoch of fit, then evaluate and predict; the numbers to compare, as arrays."""
    import ember

    x, y = data()
    built = model(optimizer)
    callbacks = [ember.callbacks.CSVLogger(os.path.join(folder, f"log_{optimizer}_{rank}.csv"))]
    history = built.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, callbacks=callbacks, validation_data=(x[:30], y[:30]))
    results = built.evaluate(x, y, batch_size=BATCH, verbose=0, return_dict=True)
    report = {f"weight_{i}": w for i, w in enumerate(built.get_weights())}
    report.update({f"history_{k}": np.array(v) for k, v in history.history.items()})
    report.update({f"evaluate_{k}": np.array(v) for k, v in results.items()})
    report["predict"] = built.predict(x, batch_size=BATCH, verbose=0)
    report["step_kind"] = np.array(built.make_step().kind)
    built.save(os.path.join(folder, f"model_{optimizer}_{rank}.ember"))
    return report


def train_two_input_model(folder: str, rank: int) -> dict[str, np.ndarray]:
    """A functional model with two inputs and two outputs, validation_split, class_weight and
    sample weights: the paths beyond a Sequential on arrays."""
    import ember
    from ember import layers

    x, y = data()
    ember.utils.set_random_seed(0)
    first, second = ember.Input((3,), name="first"), ember.Input((2,), name="second")
    hidden = layers.Dense(6, activation="tanh")(layers.Concatenate()([first, second]))
    label = layers.Dense(2, activation="softmax", name="label")(hidden)
    value = layers.Dense(1, name="value")(hidden)
    built = ember.Model([first, second], [label, value])
    built.compile("adam", ["sparse_categorical_crossentropy", "mse"], metrics=[["accuracy"], ["mae"]])
    weights = np.linspace(0.5, 1.5, SAMPLES).astype("float32")
    history = built.fit([x[:, :3], x[:, 3:]], [y, x[:, :1]], batch_size=BATCH, epochs=2, verbose=0,
                        validation_split=0.2, sample_weight=[weights, weights])
    report = {f"weight_{i}": w for i, w in enumerate(built.get_weights())}
    report.update({f"history_{k}": np.array(v) for k, v in history.history.items()})
    for index, output in enumerate(built.predict([x[:, :3], x[:, 3:]], batch_size=BATCH, verbose=0)):
        report[f"predict_{index}"] = output
    return report


def early_stopping_epochs() -> int:
    import ember

    x, y = data()
    built = model("sgd")
    stop = ember.callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=1)
    return len(built.fit(x, y, batch_size=BATCH, epochs=10, verbose=0, callbacks=[stop]).history["loss"])


def data_parallel_worker(rank: int, world: int, port: int, folder: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    import ember

    ember.distribution.initialize(timeout=60)
    try:
        for optimizer in ("sgd", "adam"):
            np.savez(os.path.join(folder, f"report_{optimizer}_{rank}.npz"), **train_and_report(optimizer, folder, rank))
        np.savez(os.path.join(folder, f"early_{rank}.npz"), epochs=np.array(early_stopping_epochs()))
        np.savez(os.path.join(folder, f"two_inputs_{rank}.npz"), **train_two_input_model(folder, rank))
    finally:
        ember.distribution.shutdown()


def unequal_data_worker(rank: int, world: int, port: int, folder: str) -> None:
    """Rank 1 gets fewer samples than rank 0: both must raise the same clear error."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    import ember

    ember.distribution.initialize(timeout=30)
    x, y = data()
    samples = SAMPLES if rank == 0 else SAMPLES - 10
    try:
        model("sgd").fit(x[:samples], y[:samples], batch_size=BATCH, verbose=0)
    except ValueError as error:
        with open(os.path.join(folder, f"error_{rank}.txt"), "w") as file:
            file.write(str(error))
    finally:
        ember.distribution.shutdown()


def transformer(seed: int = 0):
    import ember
    from ember import layers

    ember.utils.set_random_seed(seed)
    built = ember.Sequential([layers.Input((8,), dtype="int64"), layers.Embedding(40, 16),
                              layers.TransformerEncoder(32, 2), layers.GlobalAveragePooling1D(),
                              layers.Dense(2, activation="softmax")])
    built.compile(ember.optimizers.Adam(0.003), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return built


def token_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, 40, (64, 8))
    return tokens, (tokens[:, 0] < 20).astype("int64")


def sharded_worker(rank: int, world: int, port: int, folder: str) -> None:
    """The same Transformer trained under DataParallel and under FullyShardedDataParallel."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    import ember
    from torch.distributed.tensor import DTensor

    ember.distribution.initialize(timeout=60)
    try:
        x, y = token_data()
        report = {}
        for name, strategy in (("ddp", ember.distribution.DataParallel),
                               ("fsdp", ember.distribution.FullyShardedDataParallel)):
            ember.distribution.set_distribution(strategy())
            built = transformer()
            history = built.fit(x, y, batch_size=16, epochs=3, verbose=0, validation_data=(x[:20], y[:20]))
            report[f"{name}_loss"] = np.array(history.history["loss"])
            report[f"{name}_val_loss"] = np.array(history.history["val_loss"])
            report[f"{name}_predict"] = built.predict(x, batch_size=16, verbose=0)
            kernel = built.layers[-1].kernel
            report[f"{name}_local_kernel"] = np.array(kernel.to_local().numel() if isinstance(kernel, DTensor)
                                                      else kernel.numel())
            report[f"{name}_weights_0"] = built.get_weights()[0]
            built.save(os.path.join(folder, f"{name}.ember"))
        ember.distribution.set_distribution(ember.distribution.DataParallel())
        try:
            built.predict(x, verbose=0)
        except RuntimeError as error:
            report["other_distribution_error"] = np.array(str(error))
        np.savez(os.path.join(folder, f"sharded_{rank}.npz"), **report)
    finally:
        ember.distribution.set_distribution(None)
        ember.distribution.shutdown()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class KillAt:
    """A callback that SIGKILLs its own process at the `count`-th training batch of the first run
    (a marker file says the kill happened, so the relaunched run goes on)."""

    def __new__(cls, count: int, marker: str):
        import signal

        import ember

        class Kill(ember.callbacks.Callback):
            seen = 0

            def on_train_batch_end(self, batch, logs=None):
                Kill.seen += 1
                if Kill.seen == count and not os.path.exists(marker):
                    open(marker, "w").close()
                    os.kill(os.getpid(), signal.SIGKILL)

        return Kill()


def train_with_backup(folder: str, kill_at: int | None, dropout: float, rank: int = 0) -> dict[str, np.ndarray]:
    """3 epochs with BackupAndRestore every 3 batches (and a kill at batch `kill_at` on rank 0's
    first run when given); the final weights and History."""
    import ember
    from ember import layers

    x, y = data()
    ember.utils.set_random_seed(0)
    built = ember.Sequential([layers.Input((FEATURES,)), layers.Dense(8, activation="relu"), layers.Dropout(dropout),
                              layers.Dense(2, activation="softmax")])
    built.compile(ember.optimizers.Adam(ember.optimizers.schedules.ExponentialDecay(0.01, 5, 0.5)),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    callbacks = [ember.callbacks.BackupAndRestore(os.path.join(folder, "backup"), save_freq=3)]
    if kill_at is not None:
        callbacks.append(KillAt(kill_at, os.path.join(folder, f"killed_{rank}")))
    history = built.fit(x, y, batch_size=BATCH, epochs=3, verbose=0, callbacks=callbacks)
    report = {f"weight_{i}": w for i, w in enumerate(built.get_weights())}
    report.update({f"history_{k}": np.array(v) for k, v in history.history.items()})
    return report


def backup_worker(folder: str, kill_at: int) -> None:
    """One process: train with backups, killed once at `kill_at`; the report when it finishes."""
    report = train_with_backup(folder, kill_at, dropout=0.3)
    np.savez(os.path.join(folder, "report.npz"), **report)


def data_parallel_backup_worker(rank: int, world: int, port: int, folder: str, kill_at: int) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    import ember

    ember.distribution.initialize(timeout=30)
    try:
        report = train_with_backup(folder, kill_at if rank == 1 else None, dropout=0.0, rank=rank)
        np.savez(os.path.join(folder, f"report_{rank}.npz"), **report)
    finally:
        ember.distribution.shutdown()


def run_each(function, world: int, *arguments, timeout: float = 120.0) -> list[tuple[int, float]]:
    """`function(rank, world, *arguments)` in `world` spawned processes, each watched on its own:
    (exit code, seconds it ran) per rank; any still running at `timeout` is killed (code None)."""
    context = mp.get_context("spawn")
    started = time.monotonic()
    processes = [context.Process(target=function, args=(rank, world, *arguments)) for rank in range(world)]
    for process in processes:
        process.start()
    ended: dict[int, float] = {}
    while len(ended) < world and time.monotonic() - started < timeout:
        for rank, process in enumerate(processes):
            if rank not in ended and not process.is_alive():
                ended[rank] = time.monotonic() - started
        time.sleep(0.05)
    results = []
    for rank, process in enumerate(processes):
        if process.is_alive():
            process.kill()
            process.join()
            results.append((None, timeout))
        else:
            results.append((process.exitcode, ended[rank]))
    return results


def run_processes(function, world: int, *arguments, timeout: float = 120.0) -> None:
    """`function(rank, world, *arguments)` in `world` spawned processes; raises if any fails or
    they outlive `timeout` (then all are killed)."""
    context = mp.start_processes(function, args=(world, *arguments), nprocs=world, join=False, start_method="spawn")
    deadline = time.monotonic() + timeout
    try:
        while not context.join(timeout=1.0):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {world} processes did not finish within {timeout} s")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()


def restarted_training(folder: str) -> None:
    """Run by `torchrun --max-restarts=1`: rank 1 kills itself at the 10th batch of the first
    attempt (torchrun then restarts both), BackupAndRestore resumes; rank 0 saves the report."""
    import ember

    rank = int(os.environ["RANK"])
    report = train_with_backup(folder, 10 if rank == 1 else None, dropout=0.0, rank=rank)
    np.savez(os.path.join(folder, f"restarted_{rank}.npz"), restart=np.array(int(os.environ["TORCHELASTIC_RESTART_COUNT"])),
             **report)
    ember.distribution.shutdown()


if __name__ == "__main__":
    import sys

    restarted_training(sys.argv[1])
