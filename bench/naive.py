"""The naive reference pipeline, written the way such a consolidation usually is.

One process; per file openpyxl.load_workbook(data_only=True), the unit from the _meta sheet,
every input read cell by cell through the workbook's defined names, the sum-to-SUMMA,
shares-to-100 %, varav, numerator <= denominator, negative and text checks in a Python loop,
one pandas DataFrame per file, pd.concat at the end, and the result written with
DataFrame.to_excel (openpyxl engine): a summary, the long data and the list of errors.
Imports nothing from consolidate; table structure comes from the catalog TOML.
Usage: python bench/naive.py FILELIST --katalog KATALOG --out OUT.xlsx
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib


def to_number(value):  # noqa: ANN001, ANN201 - written as such scripts are
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    share = text.endswith("%")
    text = text.rstrip("%").replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return "text"
    return number / 100 if share else number


def main() -> None:
    import openpyxl
    import pandas as pd

    parser = argparse.ArgumentParser()
    parser.add_argument("filelist")
    parser.add_argument("--katalog", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    with open(args.filelist, encoding="utf-8") as handle:
        paths = [line.rstrip("\n") for line in handle if line.strip()]
    with open(args.katalog, "rb") as handle:
        catalog = tomllib.load(handle)
    tables = {t["id"]: t for t in catalog["tabell"]}

    started = time.perf_counter()
    frames = []
    problems = []
    for path in paths:
        wb = openpyxl.load_workbook(path, data_only=True)
        meta = {row[0]: row[1] for row in wb["_meta"].iter_rows(values_only=True) if row[0]}
        unit, period = meta.get("enhet"), meta.get("period")
        records = []
        for name, defined in wb.defined_names.items():
            for sheet, ref in defined.destinations:
                raw = wb[sheet][ref.replace("$", "")].value
                records.append({"file": path, "unit": unit, "period": period, "name": name,
                                "sheet": sheet, "cell": ref.replace("$", ""), "raw": raw})
        values = {}
        errors = []
        for rec in records:
            name = rec["name"]
            if name.endswith("_kommentar"):
                rec["value"] = None
                continue
            number = to_number(rec["raw"])
            if number == "text":
                errors.append((rec, f"text i en sifferruta: {rec['raw']!r}"))
                number = None
            elif number is not None and number < 0:
                errors.append((rec, f"negativt värde {number}"))
            rec["value"] = number
            values[name] = number
        for table_id, table in tables.items():
            prefix = f"tab_{table_id}_"
            cells = {k[len(prefix):]: v for k, v in values.items() if k.startswith(prefix)}
            if not cells:
                continue
            if table["typ"] == "fordelning":
                total = cells.get("summa_antal")
                parts = [v for k, v in cells.items() if k.endswith("_antal") and k != "summa_antal"]
                if total is not None and None not in parts and abs(sum(parts) - total) > 1e-9:
                    errors.append(({"name": prefix + "summa_antal"},
                                   f"delarna {sum(parts)} men SUMMA {total}"))
                if table.get("andel"):
                    summa_share = cells.get("summa_andel")
                    if summa_share is not None and abs(summa_share - 1.0) > 0.0005:
                        errors.append(({"name": prefix + "summa_andel"},
                                       f"SUMMA-andelen {summa_share} är inte 100 %"))
                    for key, share in cells.items():
                        if key.endswith("_andel") and key != "summa_andel" and share is not None:
                            count = cells.get(key[: -len("andel")] + "antal")
                            if (count is not None and total
                                    and abs(share - count / total) > 0.0005 + 1e-9):
                                errors.append(({"name": prefix + key},
                                               f"andelen {share} men {count}/{total}"))
            elif table["typ"] == "varav" and table.get("fullstandig"):
                total = cells.get("total_antal")
                parts = [v for k, v in cells.items() if k != "total_antal"]
                if total is not None and None not in parts and abs(sum(parts) - total) > 1e-9:
                    errors.append(({"name": prefix + "total_antal"},
                                   f"varav-raderna {sum(parts)} men totalen {total}"))
        for name, num in values.items():
            if name.endswith("_taljare"):
                den = values.get(name[: -len("taljare")] + "namnare")
                if num is not None and den is not None and num > den:
                    errors.append(({"name": name}, f"täljaren {num} större än nämnaren {den}"))
        frame = pd.DataFrame(records)
        frame["accepted"] = not errors
        frames.append(frame)
        for rec, message in errors:
            problems.append({"file": path, "unit": unit, "name": rec["name"], "message": message})
    read_seconds = time.perf_counter() - started

    data = pd.concat(frames, ignore_index=True)
    accepted = data[data["accepted"]]
    board = (accepted[accepted["name"].str.startswith("ind_")
                      & ~accepted["name"].str.endswith("_kommentar")]
             .groupby("name", as_index=False)["value"].sum())
    combine_seconds = time.perf_counter() - started - read_seconds
    with pd.ExcelWriter(args.out, engine="openpyxl") as writer:
        board.to_excel(writer, sheet_name="Sammanställning", index=False)
        data.drop(columns=["raw"]).to_excel(writer, sheet_name="Data", index=False)
        pd.DataFrame(problems, columns=["file", "unit", "name", "message"]).to_excel(
            writer, sheet_name="Fel", index=False)
    write_seconds = time.perf_counter() - started - read_seconds - combine_seconds
    rejected = data.loc[~data["accepted"], "file"].nunique()
    json.dump({"files": len(paths), "rejected": int(rejected), "rows": len(data),
               "read_check_s": round(read_seconds, 3), "concat_s": round(combine_seconds, 3),
               "write_s": round(write_seconds, 3)}, sys.stdout)


if __name__ == "__main__":
    main()
