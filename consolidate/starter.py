"""`consolidate init`: a new board's folder with its own catalog, a LÄSMIG and the folders run
expects."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from .atomic import write_atomically
from .catalog_parse import DEFAULT_CATALOG
from .errors import UsageError, os_reason
from .locate import FILENAME as CATALOG_FILE
from .periods import Period

README_FILE = "LÄSMIG.md"
SUBMISSIONS = "inlamning"  # one sub-folder per tertial: `run` reads them all as the history
TEMPLATES = "mallar"
FEEDBACK = "aterkoppling"
OUTBOX = "utskick"

_CATALOG_HEAD = """\
# =================================================================================================
# Nämndens egen katalog, skapad med `consolidate init` {date} som en kopia av exempelkatalogen.
# Kommandona som körs i den här mappen (eller på en mapp i den) använder den här filen.
#
# Ändra först:
#   1. [namnd]: nämndens namn, kommun och kontakt (avsändaren när sammanställningen skickas).
#   2. [[enhet]]: nämndens egna enheter med id (små bokstäver, utan mellanslag), namn och e-post.
#      Ta bort exemplets enheter och byt deras id i listorna `enheter = [...]` längre ner.
#   3. [[indikator]] och [[tabell]]: vilka enheter som rapporterar vad, nuläge, börläge och
#      rimliga gränser. Ta bort det nämnden inte följer upp.
#   4. [jamforelse]: kommunens id i Kolada och liknande kommuner (exemplets id är påhittade).
# Kontrollera sedan filen med `consolidate katalog`, och skriv nya mallar efter varje ändring
# av indikatorer eller tabeller (mallarna bär katalogens fingeravtryck).
# =================================================================================================

"""

_README = """\
# {board} – tertialuppföljning med consolidate

Den här mappen skapades med `consolidate init` {date}. Kör kommandona nedan i den här mappen
(i Utforskaren: skriv `powershell` i adressfältet och tryck Enter; PowerShell klarar också en
nätverkssökväg som `\\\\server\\delat`, vilket cmd inte gör). Varje kommando skriver först vilken
katalog det använder (`Katalog: katalog.toml`).

| mapp eller fil | innehåll |
| --- | --- |
| `{catalog}` | nämndens katalog: enheter, indikatorer och tabeller. Allt byggs från den. |
| `{templates}/` | mallarna som skickas till enheterna, en mapp per tertial. |
| `{submissions}/` | de ifyllda arbetsböckerna, en mapp per tertial (`{submissions}/{period}/`). \
Sammanställningen hamnar här. |
| `{feedback}/` | återkopplingskopior till enheter vars filer har fel, en mapp per tertial. |
| `{outbox}/` | e-postmeddelanden (.eml) som öppnas i Outlook med ett dubbelklick. |
| `utskickslogg.txt` | en rad för varje meddelande som skrivits eller skickats: när, till vem, \
ämne, bilaga med SHA-256 och vad som hände (görs vid första utskicket). |

## 1. Redigera katalogen

Öppna `{catalog}` i Anteckningar och ändra det som står överst i filen. Spara som UTF-8.

## 2. Kontrollera katalogen

```
consolidate katalog
```

## 3. Skriv och skicka mallarna

```
consolidate template --period {period} --out {templates}/{period}
consolidate mail --mallar {templates}/{period} --utkorg {outbox}
```

Det andra kommandot lägger ett meddelande per enhet med dess mall och sista dag för inlämning i
`{outbox}/`. Lägg de ifyllda filerna i `{submissions}/{period}/`.

## 4. Kontrollera inlämningarna

```
consolidate check {submissions}/{period} --feedback {feedback}/{period}
consolidate mail --feedback {feedback}/{period} --utkorg {outbox}
```

Det första kommandot visar fel och varningar per fil och skriver en kopia med felen markerade för
varje fil; det andra lägger ett meddelande per enhet med dess kopia i `{outbox}/`.

## 5. Följ inlämningarna och påminn

```
consolidate status {submissions}
consolidate mail --paminnelse {submissions} --utkorg {outbox}
```

`status` visar vilka enheter som har lämnat in, vilka som saknas eller är underkända (med första
felet) och hur många dagar som är kvar; det skriver ingen sammanställning och kan köras hur ofta som
helst. Det andra kommandot skriver en påminnelse till varje enhet som saknas eller är underkänd; de
underkända får en kopia med felen markerade.

## 6. Sammanställ

```
consolidate run {submissions}
```

Alla tertialer i `{submissions}/` läses (de ger historiken), och sammanställningen för den senaste
skrivs till `{submissions}/sammanställning_{period}.xlsx`. Kommandot säger vilka enheter som saknas
eller har fel. Stäng sammanställningen i Excel innan du kör kommandot igen.

## 7. Skicka sammanställningen

```
consolidate mail {submissions}/sammanställning_{period}.xlsx --to namnd@kommun.se --utkorg {outbox}
```

Byt adressen mot nämndens. Med `--smtp server:587 --starttls --user NAMN` skickas meddelandet \
direkt. Saknas en enhet, eller är den underkänd utan en giltig fil, skickas sammanställningen bara \
med `--ofullstandig`, och ämnesraden och texten säger då vilka enheter det gäller.

## Nästa tertial och nästa år

Skapa `{submissions}/ÅÅÅÅ-Tn/` för tertialen och byt perioden i kommandona ovan. När nämnden antar
en ny plan: ändra katalogen, kontrollera den och skriv nya mallar.

## Vilken katalog som används

1. `--katalog FIL` på kommandoraden,
2. annars miljövariabeln `CONSOLIDATE_KATALOG`,
3. annars `katalog.toml` i mappen som kommandot arbetar på eller i en mapp ovanför (därför hittar
   `consolidate run {submissions}` den här katalogen), annars i den aktuella mappen eller ovanför,
4. annars exempelkatalogen som följer med consolidate – då säger kommandot det.
"""


def start_board(folder: Path, today: dt.date | None = None) -> list[Path]:
    """Make a board's folder: katalog.toml, LÄSMIG.md and the folders; refuses a folder with files.

    Whole or nothing: when a step fails, what was made is removed again."""
    today = today or dt.date.today()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} är en fil. Ange en ny eller tom mapp för nämnden.")
    if folder.is_dir() and any(folder.iterdir()):
        raise UsageError(f"Mappen {folder} är inte tom. consolidate init skapar en nämnd bara i en "
                         "ny eller tom mapp, så att inget skrivs över; ange en ny mapp.")
    period = Period(today.year, (today.month - 1) // 4 + 1)
    folders = [folder / TEMPLATES,
               *(folder / SUBMISSIONS / str(Period(today.year, t)) for t in (1, 2, 3)),
               folder / FEEDBACK, folder / OUTBOX]
    made: list[Path] = []
    try:
        for path in [folder, folder / SUBMISSIONS, *folders]:
            if not path.is_dir():
                path.mkdir(parents=path == folder)
                made.append(path)
        catalog = folder / CATALOG_FILE
        text = (_CATALOG_HEAD.format(date=today.isoformat())
                + DEFAULT_CATALOG.read_text(encoding="utf-8"))
        made.append(_write_text(catalog, text))
        readme = _README.format(board=folder.absolute().name, date=today.isoformat(), period=period,
                                catalog=CATALOG_FILE, templates=TEMPLATES, submissions=SUBMISSIONS,
                                feedback=FEEDBACK, outbox=OUTBOX)
        made.append(_write_text(folder / README_FILE, readme))
    except BaseException as exc:
        for path in reversed(made):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            where = exc.filename or folder
            raise UsageError(f"Kan inte skapa {where}: {os_reason(exc, writing=True)}.") from None
        raise
    return [catalog, folder / README_FILE, *folders]


def _write_text(path: Path, text: str) -> Path:
    # newline="" keeps \n: Notepad has read Unix line ends since Windows 10 1809
    return write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8", newline=""))
