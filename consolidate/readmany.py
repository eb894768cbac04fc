"""Reading many workbooks at once: in worker processes when there are many, values as one
frame."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .catalog import Catalog
from .errors import UsageError
from .model import Submission
from .read import columns_of, frame_from_columns, frame_of, read_submission

if TYPE_CHECKING:
    import polars as pl

PARALLEL_FROM = 64  # below this, starting worker processes costs more than it saves
# How worker processes start: "fork", "spawn" or "forkserver"; unset, the platform's default (spawn
# on Windows and macOS, fork on Linux up to Python 3.13). The tests run both fork and spawn.
START_METHOD_ENV = "CONSOLIDATE_START_METHOD"
Progress = Callable[[int, int], None]


_WORKER_CATALOG: Catalog | None = None


def _init_worker(catalog: Catalog) -> None:
    """Each worker gets the catalog once, so its cached lookups and layouts live for all chunks."""
    global _WORKER_CATALOG
    _WORKER_CATALOG = catalog


def _read_chunk(args: tuple[list[str], str | None]) -> tuple[list[Submission], list[list[Any]]]:
    """Read a chunk in a worker; values travel back as column lists and become one frame in the
    parent at once, instead of living on as millions of row tuples."""
    paths, root = args
    assert _WORKER_CATALOG is not None
    subs = [read_submission(Path(p), _WORKER_CATALOG, Path(root) if root else None) for p in paths]
    return [replace(s, cells=()) for s in subs], columns_of(subs)


def _pool_context(start_method: str | None) -> Any:
    import multiprocessing

    method = start_method or os.environ.get(START_METHOD_ENV) or None
    if method is None:
        return None
    if method not in multiprocessing.get_all_start_methods():
        raise UsageError(f"{START_METHOD_ENV}={method} går inte här; välj en av "
                         f"{', '.join(multiprocessing.get_all_start_methods())}.")
    return multiprocessing.get_context(method)


def read_all(paths: Sequence[Path], catalog: Catalog, root: Path | None = None,
             progress: Progress | None = None, workers: int | None = None,
             start_method: str | None = None) -> tuple[list[Submission], pl.DataFrame]:
    """Read files, in parallel processes when there are many; returns the files and all values.

    start_method (else the environment variable CONSOLIDATE_START_METHOD) picks how the worker
    processes start; everything a worker needs travels by pickling, so spawn works as fork does."""
    total = len(paths)
    # a wrong setting is said on every run, not only on large ones
    context = _pool_context(start_method)
    if total < PARALLEL_FROM or (workers or os.cpu_count() or 1) < 2:
        out = []
        for done, path in enumerate(paths, start=1):
            out.append(read_submission(path, catalog, root))
            if progress:
                progress(done, total)
        return out, frame_of(out)
    count = workers or min(os.cpu_count() or 2, 8)
    size = max(8, total // (count * 8))
    chunks = [[str(p) for p in paths[i:i + size]] for i in range(0, total, size)]
    results: list[Submission] = []
    frames: list[pl.DataFrame] = []
    with ProcessPoolExecutor(max_workers=count, mp_context=context, initializer=_init_worker,
                             initargs=(catalog,)) as pool:
        # map() submits every chunk, so the workers start now, from a process that has not yet
        # imported polars or pandera; those imports then run while the workers read. (Spawned
        # workers import only what reading needs: consolidate.readmany does not import polars
        # at the top.)
        chunk_results = pool.map(_read_chunk, [(c, str(root) if root else None) for c in chunks])
        import polars as pl

        from . import validate  # noqa: F401 - needed right after reading
        for subs, columns in chunk_results:
            results.extend(subs)
            frames.append(frame_from_columns(columns))
            if progress:
                progress(len(results), total)
    return results, pl.concat(frames) if frames else frame_of([])
