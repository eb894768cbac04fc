"""Fetch the catalog's key figures from Kolada's API (--hamta) and keep the answer, dated, in the
shared folder, so that the comparison can be made again from the file (--jamforelse FIL).

The HTTP client is the standard library's urllib: one GET per chunk of ids, with a time-out, read
to a bounded size. It uses the computer's own trust store for HTTPS (on Windows the system's
certificates, where a municipality installs the root of its TLS-inspecting proxy) and its proxy
settings (on Windows read from the registry as well as HTTPS_PROXY), which is what a desktop in a
municipal network needs; a third-party client would add a dependency and its own certificate
bundle for two or three requests a tertial."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from . import __version__
from .atomic import write_atomically
from .catalog import Catalog
from .compare_spec import COUNTRY
from .errors import os_reason
from .findings import finding
from .koladadata import API_FORMAT, KoladaData
from .model import Finding
from .periods import Period

BASE_ENV = "CONSOLIDATE_KOLADA_URL"      # another server with Kolada's API (tests, a mirror)
TIMEOUT_ENV = "CONSOLIDATE_KOLADA_TIMEOUT"
DEFAULT_BASE = "https://api.kolada.se/v3"
DEFAULT_TIMEOUT = 20.0  # seconds per request
CACHE_FOLDER = "jamforelse"
YEARS = 6               # the board's year and the five before it
MAX_IDS = 25            # ids per list in one request; Kolada's v3 refuses longer lists
MAX_PAGES = 50
MAX_BYTES = 20 * 1024 * 1024


class FetchError(Exception):
    """Why a fetch failed, in Swedish."""


def fetch_kolada(catalog: Catalog, period: Period,
                 folder: Path) -> tuple[KoladaData | None, list[Finding]]:
    """Kolada's values for the catalog's key figures and places, saved as
    `folder/jamforelse/kolada_DATE.json` and read back from there; (None, [why]) when it fails."""
    spec = catalog.comparison
    kpis = sorted({i.kolada for i in catalog.indicators
                   if i.kolada and spec.link(i.id).comparable})
    places = [p for p in (spec.municipality, COUNTRY, *spec.similar, spec.group) if p]
    base = os.environ.get(BASE_ENV, DEFAULT_BASE).strip().rstrip("/")
    if not kpis:
        return None, [finding("jamforelse_utan_kolada", _host(base), file_name="Kolada")]
    years = [str(y) for y in range(period.year - YEARS + 1, period.year + 1)]
    urls: list[str] = []
    records: list[Any] = []
    try:
        timeout = _timeout()
        if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
            raise FetchError(f"{BASE_ENV}={base} är ingen http- eller https-adress")
        for kpi_part in _chunks(kpis):
            for place_part in _chunks(places):
                url: str | None = (f"{base}/data/kpi/{','.join(kpi_part)}/municipality/"
                                   f"{','.join(place_part)}/year/{','.join(years)}")
                pages = 0
                while url:
                    pages += 1
                    if pages > MAX_PAGES:
                        raise FetchError(f"svaret har fler än {MAX_PAGES} sidor")
                    urls.append(url)
                    page = _get(url, timeout)
                    records.extend(page["values"])
                    url = _next(page, base)
    except FetchError as exc:
        return None, [finding("jamforelse_hamtning", _host(base), url=base, why=str(exc))]
    now = dt.datetime.now().astimezone()
    doc = {"kalla": "Kolada (RKA), " + base, "hamtad": now.isoformat(timespec="seconds"),
           "url": urls, "count": len(records), "next_url": None, "values": records}
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    target = folder / CACHE_FOLDER / f"kolada_{now.date().isoformat()}.json"
    from .kolada import read_json

    try:
        target.parent.mkdir(exist_ok=True)
        write_atomically(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    except OSError as exc:
        data = KoladaData(target.name, API_FORMAT)
        read_json(text, data)
        return data, [finding("jamforelse_sparad", target.name, file_name=str(target),
                              why=os_reason(exc, writing=True))]
    from .kolada import place_names, read_kolada

    return read_kolada(target, place_names(catalog)), []


def _chunks(ids: list[str]) -> list[list[str]]:
    return [ids[i:i + MAX_IDS] for i in range(0, len(ids), MAX_IDS)]


def _timeout() -> float:
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = 0.0
    if not 0 < value <= 600:
        raise FetchError(f"{TIMEOUT_ENV}={text} är inget antal sekunder (0–600)")
    return value


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url or "Kolada"


def _next(page: dict[str, Any], base: str) -> str | None:
    """The next page's address (v3: next_url, v2: next_page), only on Kolada's own server."""
    url = page.get("next_url") or page.get("next_page")
    if not url:
        return None
    if not isinstance(url, str):
        raise FetchError("svaret hänvisar till nästa sida på ett sätt som inte går att följa")
    mine, theirs = urllib.parse.urlsplit(base), urllib.parse.urlsplit(url)
    if (theirs.scheme, theirs.netloc) != (mine.scheme, mine.netloc):
        raise FetchError(f"svaret hänvisar till en annan server ({theirs.netloc}) för nästa sida")
    return url


def _get(url: str, timeout: float) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={
        "Accept": "application/json", "User-Agent": f"consolidate/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"servern svarade HTTP {exc.code}"
                         + (" (adressen finns inte)" if exc.code == 404 else "")) from None
    except (TimeoutError, socket.timeout):
        raise FetchError(f"inget svar inom {timeout:g} sekunder") from None
    except urllib.error.URLError as exc:
        raise FetchError(_reason(exc.reason, timeout)) from None
    except OSError as exc:  # a connection reset while reading
        raise FetchError(f"förbindelsen bröts ({os_reason(exc)})") from None
    if len(body) > MAX_BYTES:
        raise FetchError(f"svaret är större än {MAX_BYTES // 2**20} MB")
    try:
        page = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FetchError("svaret är inte JSON") from None
    if not isinstance(page, dict) or not isinstance(page.get("values"), list):
        raise FetchError("svaret är inte Koladas data (värdena ska ligga under \"values\")")
    return page


def _reason(reason: object, timeout: float) -> str:
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"inget svar inom {timeout:g} sekunder"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return ("serverns certifikat kunde inte kontrolleras; datorns betrodda certifikat saknar "
                "utfärdaren")
    if isinstance(reason, ssl.SSLError):
        return "den krypterade förbindelsen kunde inte upprättas"
    if isinstance(reason, socket.gaierror):
        return "servern hittades inte (ingen nätverksanslutning, eller fel adress)"
    if isinstance(reason, ConnectionRefusedError):
        return "servern tog inte emot anslutningen"
    if isinstance(reason, OSError):
        return f"kunde inte ansluta ({os_reason(reason)})"
    return "kunde inte ansluta"
