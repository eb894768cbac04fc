"""The raw floor: python-calamine opens every file and reads every sheet to Python, nothing else.

Same parallelism as `consolidate run` (consolidate.readmany.read_all): one process below
--parallel-from files, otherwise a process pool of --workers with the same chunk size.
Deliberately imports nothing from consolidate, so its start-up is only python + calamine.
Usage: python bench/floor.py FILELIST --workers 2 --parallel-from 64
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor


def read_chunk(paths: list[str]) -> tuple[int, int]:
    from python_calamine import CalamineWorkbook

    sheets = cells = 0
    for path in paths:
        workbook = CalamineWorkbook.from_path(path)
        for name in workbook.sheet_names:
            rows = workbook.get_sheet_by_name(name).to_python()
            sheets += 1
            cells += sum(len(row) for row in rows)
    return sheets, cells


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("filelist")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--parallel-from", type=int, default=64)
    args = parser.parse_args()
    with open(args.filelist, encoding="utf-8") as handle:
        paths = [line.rstrip("\n") for line in handle if line.strip()]
    total = len(paths)
    if total < args.parallel_from or args.workers < 2:
        results = [read_chunk(paths)]
    else:
        size = max(8, total // (args.workers * 8))  # as consolidate.readmany.read_all
        chunks = [paths[i:i + size] for i in range(0, total, size)]
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            results = list(pool.map(read_chunk, chunks))
    json.dump({"files": total, "sheets": sum(r[0] for r in results),
               "cells": sum(r[1] for r in results)}, sys.stdout)


if __name__ == "__main__":
    main()
