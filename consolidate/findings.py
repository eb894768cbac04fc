"""Findings are data: one rule registry, one Finding type, one Report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

FEL = "fel"
VARNING = "varning"


def flat_dict(item: Any) -> dict[str, Any]:
    """A dataclass of plain fields as a dict; dataclasses.asdict deep-copies, at 40 µs an item."""
    return {f.name: getattr(item, f.name) for f in fields(item)}


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    severity: str
    title: str


_RULES = [
    # Files that cannot be read as a submission.
    Rule("tom_fil", FEL, "Tom fil"),
    Rule("gammalt_format", FEL, "Gammalt Excel-format"),
    Rule("makro", FEL, "Arbetsbok med makron"),
    Rule("ej_excel", FEL, "Inte en Excel-arbetsbok"),
    Rule("trasig_fil", FEL, "Skadad fil"),
    Rule("losenord", FEL, "Lösenordsskyddad arbetsbok"),
    Rule("for_stor", FEL, "Filen är för stor"),
    Rule("osaker_xml", FEL, "Otillåtet innehåll i filen"),
    Rule("oläsbar", FEL, "Filen kan inte läsas"),
    Rule("lank_utanfor", FEL, "Länk ut ur mappen"),
    Rule("ej_mall", FEL, "Inte en av nämndens mallar"),
    Rule("gammal_mall", FEL, "Äldre mallversion"),
    Rule("okand_enhet", FEL, "Okänd enhet"),
    Rule("fel_period", FEL, "Fel period"),
    Rule("fel_enhet_fil", FEL, "Filen gäller en annan enhet"),
    Rule("ods", FEL, "OpenDocument-format"),
    Rule("annan_katalog", VARNING, "Mallen är gjord från en äldre katalog"),
    Rule("extern_lank", VARNING, "Extern länk"),
    Rule("flik_saknas", FEL, "Fliken saknas"),
    Rule("flik_omdopt", VARNING, "Fliken har bytt namn"),
    Rule("namn_saknas", FEL, "Namngiven cell saknas"),
    Rule("sammanfogad", FEL, "Sammanfogad cell"),
    Rule("formel_utan_varde", FEL, "Formel utan sparat värde"),
    Rule("dubblett", VARNING, "Två filer för samma enhet"),
    # What was typed.
    Rule("ej_tal", FEL, "Inte ett tal"),
    Rule("tvetydig_punkt", FEL, "Tvetydig punkt i talet"),
    Rule("procent_skala", FEL, "Procent i fel skala"),
    Rule("fel_enhet", FEL, "Fel enhet"),
    # Rules on values.
    Rule("saknas", FEL, "Värde saknas"),
    Rule("heltal", FEL, "Ska vara ett heltal"),
    Rule("negativ", FEL, "Negativt värde"),
    Rule("andel_intervall", FEL, "Andel utanför 0–100 %"),
    Rule("orimligt", VARNING, "Utanför rimligt intervall"),
    Rule("summa", FEL, "Delarna blir inte SUMMA"),
    Rule("andel_antal", FEL, "Andelen stämmer inte med antalet"),
    Rule("andel_summa", FEL, "SUMMA-andelen är inte 100 %"),
    Rule("varav_storre", FEL, "Varav större än totalen"),
    Rule("varav_summa", FEL, "Delarna blir inte totalen"),
    Rule("taljare_storre", FEL, "Täljaren är större än nämnaren"),
    Rule("namnare_noll", FEL, "Nämnaren är 0"),
    Rule("manad_saknas", FEL, "Månad saknas"),
    Rule("framtida_manad", FEL, "Värde för en månad efter perioden"),
    Rule("enkat_utan_svar", FEL, "Andelar utan inkomna enkäter"),
    Rule("enkat_andel_saknas", FEL, "Andel saknas"),
    Rule("hopp", VARNING, "Stor förändring mot föregående tertial"),
    Rule("tkr_mnkr", VARNING, "tkr och mnkr förväxlade?"),
]
RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem, pointing at file, sheet and cell, with a Swedish message."""

    code: str
    severity: str
    file: str
    message: str
    unit: str = ""
    period: str = ""
    sheet: str = ""
    cell: str = ""
    scope: str = ""
    value: str = ""
    expected: str = ""

    @property
    def title(self) -> str:
        return RULES[self.code].title

    @property
    def address(self) -> str:
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet


def finding(code: str, file: str, message: str, **where: str) -> Finding:
    """Build a finding with the rule's severity; an unknown code is a programming error."""
    return Finding(code=code, severity=RULES[code].severity, file=file, message=message, **where)


@dataclass(frozen=True, slots=True)
class FileResult:
    """What became of one file: read, skipped or refused."""

    file: str
    unit: str
    period: str
    state: str  # "godkänd" | "underkänd" | "överhoppad"
    errors: int
    warnings: int
    sha256: str = ""
    modified: str = ""
    note: str = ""


@dataclass(frozen=True)
class Report:
    files: tuple[FileResult, ...] = ()
    findings: tuple[Finding, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == FEL)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == VARNING)

    @property
    def valid(self) -> bool:
        return self.errors == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "giltig": self.valid,
            "fel": self.errors,
            "varningar": self.warnings,
            "filer": [flat_dict(f) for f in self.files],
            "fynd": [{**flat_dict(f), "regel": f.title} for f in self.findings],
            **self.extra,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=False)


def sort_key(f: Finding) -> tuple[str, str, int, int, str, str]:
    """Findings in reading order: file, sheet, then row and column of the cell."""
    digits = "".join(ch for ch in f.cell if ch.isdigit())
    letters = "".join(ch for ch in f.cell if ch.isalpha())
    return (f.file, f.sheet, int(digits or 0), len(letters), letters, f.code)
