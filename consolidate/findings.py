"""The rule registry: every finding's code, severity, title and Swedish message template.

As frictionless does with its error types, the code that finds a problem passes values; the
sentence is the rule's template, so one rule reads the same wherever it is found."""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter
from typing import Any

from .model import Finding, Severity

FEL = Severity.ERROR
VARNING = Severity.WARNING


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    severity: Severity
    title: str
    message: str  # str.format template; its fields are what the finder passes

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(name for _, name, _, _ in Formatter().parse(self.message) if name)


_SAVE_AGAIN = "Spara arbetsboken igen i Excel och lämna in den på nytt."
_SAVE_XLSX = "Öppna den och spara som Excel-arbetsbok (.xlsx), och lämna in den filen."
_MAKE_SMALLER = ("Ta bort bilder, inklistrade data och extra flikar, eller fyll i en ny mall, och "
                 "lämna in igen.")

_RULES = [
    # The file itself: it cannot be read as a submission.
    Rule("oläsbar", FEL, "Filen kan inte läsas", "Filen kan inte läsas: {reason}."),
    Rule("lank_utanfor", FEL, "Länk ut ur mappen",
         "Filen är en länk (genväg) till en fil utanför mappen och läses inte. Lägg själva "
         "arbetsboken i mappen."),
    Rule("tom_fil", FEL, "Tom fil", "Filen är tom (0 byte). " + _SAVE_AGAIN),
    Rule("for_stor", FEL, "Filen är för stor",
         "Filen är {size_mb} MB; en ifylld mall är under 1 MB och en fil över {limit_mb} MB "
         "läses inte. Kontrollera att det är rätt fil. " + _MAKE_SMALLER),
    Rule("gammalt_format", FEL, "Gammalt Excel-format",
         "Filen är i det gamla Excel-formatet (.xls). Öppna den i Excel och spara som "
         "Excel-arbetsbok (.xlsx)."),
    Rule("losenord", FEL, "Lösenordsskyddad arbetsbok",
         "Arbetsboken är lösenordsskyddad och kan inte läsas. Ta bort lösenordet (Arkiv > "
         "Info > Skydda arbetsbok) och lämna in igen."),
    Rule("ej_excel", FEL, "Inte en Excel-arbetsbok",
         "Filen är {what}, inte en Excel-arbetsbok. " + _SAVE_XLSX),
    Rule("ods", FEL, "OpenDocument-format",
         "Filen är sparad i OpenDocument-format ({suffix}). Spara som Excel-arbetsbok (.xlsx) i "
         "LibreOffice: Arkiv > Spara som > Excel 2007-365."),
    Rule("mallfil", FEL, "Sparad som Excel-mall",
         "Filen är sparad som Excel-mall ({suffix}), inte som arbetsbok. Öppna den och spara som "
         "Excel-arbetsbok (.xlsx), och lämna in den filen."),
    Rule("makro", FEL, "Arbetsbok med makron",
         "Arbetsboken innehåller makron. Makron körs aldrig; spara som Excel-arbetsbok (.xlsx) "
         "utan makron och lämna in igen."),
    Rule("makro_andelse", FEL, "Ändelse för arbetsbok med makron",
         "Filen har ändelsen {suffix} (arbetsbok med makron). Spara som Excel-arbetsbok (.xlsx) "
         "och lämna in igen."),
    # The package: zip, parts and their sizes (what the guard refuses).
    Rule("trasig_fil", FEL, "Skadad fil",
         "Filen är skadad eller avkortad (zip-arkivet går inte att öppna). " + _SAVE_AGAIN),
    Rule("trasig_del", FEL, "Skadat innehåll",
         "Arbetsbokens del {part} är skadad och går inte att packa upp. " + _SAVE_AGAIN),
    Rule("forfalskad_storlek", FEL, "Felaktig storlek i filen",
         "Arbetsbokens del {part} är större än filen anger ({declared} byte), så filen är skadad "
         "eller förfalskad och läses inte. " + _SAVE_AGAIN),
    Rule("dubbel_del", FEL, "Samma del två gånger",
         "Arbetsboken innehåller delen {part} två gånger (med samma namn, eller med namn som bara "
         "skiljer sig i stora och små bokstäver) och läses inte. " + _SAVE_AGAIN),
    Rule("for_stor_uppackad", FEL, "Filen packas upp till för mycket",
         "Filen packas upp till mer än {limit_mb} MB (en ifylld mall till under 1 MB) och läses "
         "inte. " + _MAKE_SMALLER),
    Rule("for_stor_del", FEL, "En del av filen är för stor",
         "Arbetsbokens del {part} packas upp till {size_mb} MB, men högst {limit_mb} MB per del "
         "läses; filen läses inte. " + _MAKE_SMALLER),
    Rule("for_hart_packad", FEL, "Orimligt hårt packad",
         "Arbetsbokens del {part} packas upp till {ratio} gånger sin packade storlek. Mer än "
         "{limit} gånger läses inte, eftersom bara en zip-bomb packas så hårt; filen läses inte. "
         + _SAVE_AGAIN),
    Rule("del_saknas", FEL, "Del saknas", "Arbetsboken saknar delen {part}. " + _SAVE_AGAIN),
    Rule("trasig_xml", FEL, "Skadad XML",
         "Arbetsbokens del {part} är inte giltig XML. " + _SAVE_AGAIN),
    Rule("osaker_xml", FEL, "Otillåtet innehåll i filen",
         "Arbetsbokens del {part} innehåller otillåtna XML-konstruktioner (entiteter eller "
         "externa referenser) och läses inte."),
    Rule("ovanlig_struktur", FEL, "Ovanlig inre struktur",
         "Arbetsbokens huvuddel ligger i {part} i stället för xl/workbook.xml, och i den formen "
         "kan filen inte läsas. " + _SAVE_XLSX),
    Rule("for_manga_flikar", FEL, "För många flikar",
         "Arbetsboken har {count} flikar; mallen har färre än 20 och högst {limit} läses, så "
         "filen läses inte. Ta bort de extra flikarna eller fyll i en ny mall, och lämna in igen."),
    Rule("for_stor_flik", FEL, "Innehåll långt utanför mallen",
         "Fliken '{sheet_name}' har innehåll i {place}, långt utanför mallen ({limits} läses), så "
         "filen läses inte. Ta bort det innehållet och lämna in igen."),
    Rule("flik_utan_innehall", FEL, "Fliken saknar innehåll",
         "Fliken '{sheet_name}' finns i arbetsboken, men dess innehåll ({part}) saknas i filen. "
         + _SAVE_AGAIN),
    Rule("trasig_flik", FEL, "Skadad flik",
         "Fliken '{sheet_name}' kan inte läsas (skadat innehåll). " + _SAVE_AGAIN),
    # Identity: whose template, for which period, and where the file lies.
    Rule("ej_mall", FEL, "Inte en av nämndens mallar",
         "Arbetsboken är inte en av nämndens mallar (den dolda fliken _meta saknas eller är "
         "ändrad). Hämta mallen för er enhet och perioden och fyll i den."),
    Rule("gammal_mall", FEL, "Äldre mallversion",
         "Arbetsboken är gjord med mallversion {version}; nu gäller version {current}. Flytta "
         "över värdena till den nya mallen."),
    Rule("okand_enhet", FEL, "Okänd enhet",
         "Enheten '{unit_id}' i arbetsboken finns inte i katalogen."),
    Rule("ogiltig_period", FEL, "Okänd period i mallen",
         "Perioden '{period_text}' i arbetsbokens dolda flik _meta går inte att tolka. Hämta "
         "mallen för er enhet och perioden och fyll i den."),
    Rule("fel_period", FEL, "Fel period",
         "{source} anger {named}, men mallen gäller {period_text}. Kontrollera att rätt mall har "
         "fyllts i för rätt period och att filen ligger i rätt mapp."),
    Rule("fel_enhet_fil", FEL, "Filen gäller en annan enhet",
         "Filnamnet anger enheten '{named}', men mallen gäller {unit_name} ({unit_id}). "
         "Kontrollera att rätt enhets mall har använts."),
    Rule("ny_indikator", FEL, "Indikator som tillkommit efter mallen",
         "Indikatorn \"{label}\" {when} och saknas i mallen; hämta den nya mallen för "
         "{period_text} och fyll i den."),
    Rule("ny_tabell", FEL, "Tabell som tillkommit efter mallen",
         "Tabellen \"{label}\" {when} och saknas i mallen; hämta den nya mallen för {period_text} "
         "och fyll i den."),
    Rule("utgatt", VARNING, "Ingår inte längre i planen",
         "{what} \"{label}\" {why} och efterfrågas inte för {period_text}; det som står i "
         "mallen läses inte."),
    Rule("enhet_utanfor_plan", FEL, "Enheten ingår inte i periodens plan",
         "Mallen gäller {unit_name} {period_text}, men {why} enligt katalogen. Lämna in på "
         "mallen för den enhet som rapporterar för perioden."),
    Rule("extern_lank", VARNING, "Extern länk",
         "Arbetsboken har länkar till andra filer. Länkarna följs inte; bara sparade värden "
         "läses."),
    Rule("dubblett", VARNING, "Två filer för samma enhet",
         "Det finns flera filer för {unit_name} {period_text}. Den här filen används inte: "
         "{why}"),
    Rule("internt_fel", FEL, "Fel i consolidate",
         "Ett fel i consolidate, inte i filen ({error}), stoppade läsningen. Filen är "
         "oförändrad; hör av dig till den som kör sammanställningen."),
    # The comparison with Kolada (--jamforelse, --hamta): never stops a run, the master is written
    # with what can be compared.
    Rule("jamforelse_fil", VARNING, "Jämförelsefilen kan inte användas",
         "{file_name} kan inte användas för jämförelsen: {why}. Sammanställningen görs utan "
         "jämförelser."),
    Rule("jamforelse_rader", VARNING, "Delar av jämförelsefilen kan inte läsas",
         "{count} {what} i {file_name} kunde inte läsas och används inte; den första: {example}."),
    Rule("jamforelse_hamtning", VARNING, "Hämtningen från Kolada misslyckades",
         "Jämförelsevärdena kunde inte hämtas från {url}: {why}. Sammanställningen görs utan "
         "jämförelser; kör igen senare, eller ange en sparad fil med --jamforelse FIL."),
    Rule("jamforelse_sparad", VARNING, "Svaret från Kolada kunde inte sparas",
         "Svaret från Kolada kunde inte sparas som {file_name} ({why}). Jämförelsen görs ändå, "
         "men kan inte göras om med --jamforelse."),
    Rule("jamforelse_utan_kolada", VARNING, "Inga Kolada-id i katalogen",
         "Ingen indikator i katalogen har ett Kolada-id (kolada = \"N33100\"), så {file_name} "
         "har inget att jämföras med."),
    Rule("jamforelse_nyckeltal_saknas", VARNING, "Nyckeltalet saknas i jämförelsefilen",
         "Nyckeltalet {kpi} (indikatorn \"{label}\") finns inte i {file_name}; indikatorn "
         "visas utan jämförelse."),
    Rule("jamforelse_okant_nyckeltal", VARNING, "Nyckeltal som katalogen inte känner",
         "{file_name} innehåller nyckeltal som ingen indikator i katalogen har som Kolada-id: "
         "{kpis}. De används inte; kontrollera kolada-id:na i katalogen."),
    Rule("jamforelse_kommun_saknas", VARNING, "Kommunen saknas i jämförelsefilen",
         "{place} ({place_id}) finns inte i {file_name}, så kolumnen {column} är tom. {hint}"),
    Rule("jamforelse_varde_saknas", VARNING, "Värde saknas i jämförelsefilen",
         "{file_name} har inget värde för {kpi} (indikatorn \"{label}\") för {place} till och "
         "med {year}."),
    Rule("jamforelse_gammalt_ar", VARNING, "Senaste året saknas i jämförelsefilen",
         "Det senaste värdet för {kpi} (indikatorn \"{label}\") för {place} i {file_name} är "
         "från {year}; {missing} saknas. Jämförelsen visar {year}."),
    # Where the input cells are.
    Rule("flik_saknas", FEL, "Fliken saknas",
         "Fliken '{sheet_name}' saknas (borttagen eller omdöpt). Byt tillbaka namnet eller "
         "använd en ny mall och fyll i fliken."),
    Rule("flik_omdopt", VARNING, "Fliken har bytt namn",
         "Fliken '{sheet_name}' har bytt namn till '{new_name}'. Värdena läses ändå via "
         "cellernas namn, men byt gärna tillbaka namnet."),
    Rule("namn_saknas", FEL, "Namngiven cell saknas",
         "Cellen för \"{label}\" hittas inte: det definierade namnet {name} är borttaget eller "
         "pekar på en raderad cell (#REFERENS!). Värdet läses inte; skriv in det i en ny mall."),
    Rule("sammanfogad", FEL, "Sammanfogad cell",
         "Cellen {ref} (\"{label}\") ingår i den sammanfogade cellen {merged}, så dess värde har "
         "gått förlorat. Dela upp den sammanfogade cellen och fyll i värdet igen."),
    Rule("formel_utan_varde", FEL, "Formel utan sparat värde",
         "{label}: cellen {ref} innehåller en formel utan sparat värde. Öppna och spara filen i "
         "Excel och lämna in den igen; värdet läses inte som 0."),
    Rule("excel_fel", FEL, "Cellen visar ett Excel-fel",
         "{label}: cellen {ref} visar {error}: {meaning}. Rätta formeln eller skriv in värdet."),
    # What was typed (numbers.parse_cell).
    Rule("ej_tal", FEL, "Inte ett tal",
         "{label}: Texten \"{typed}\" är inte ett tal. Skriv {how}, t.ex. {example}."),
    Rule("fel_celltyp", FEL, "Inte ett tal (datum, klockslag eller sanningsvärde)",
         "{label}: Cellen innehåller {what} ({shown}), inte ett tal."),
    Rule("ogiltigt_tal", FEL, "Ogiltigt tal",
         "{label}: Talet i cellen är för stort eller ogiltigt och kan inte användas. Skriv in "
         "värdet igen."),
    Rule("tvetydig_punkt", FEL, "Tvetydig punkt i talet",
         "{label}: Punkten i \"{typed}\" är tvetydig. Skriv tusental med mellanslag och "
         "decimaler med komma: {suggestion}."),
    Rule("procent_skala", FEL, "Procent i fel skala",
         "{label}: Värdet {shown} i en procentcell blir {as_percent} %. Skriv {number} % (eller "
         "{fraction}) om du menar {number} procent."),
    Rule("fel_enhet", FEL, "Fel enhet",
         "{label}: Enheten i \"{typed}\" passar inte här: cellen ska anges {written_in}, så "
         "skriv {suggestion}."),
    # Rules on values.
    Rule("saknas", FEL, "Värde saknas",
         "{label}: {typed_blank}värdet saknas. Skriv 0 om värdet är noll."),
    Rule("heltal", FEL, "Ska vara ett heltal",
         "{label}: {shown} är inte ett heltal; ett antal skrivs utan decimaler."),
    Rule("negativ", FEL, "Negativt värde",
         "{label}: {shown} är negativt; värdet ska vara 0 eller större."),
    Rule("andel_intervall", FEL, "Andel utanför 0–100 %",
         "{label}: {shown} ligger utanför 0–100 %."),
    Rule("orimligt", VARNING, "Utanför rimligt intervall",
         "{label}: {shown} ligger utanför det rimliga intervallet {span}. Kontrollera värdet; "
         "stämmer det, förklara det i kommentaren till nämnden."),
    Rule("summa", FEL, "Delarna blir inte SUMMA",
         "Delarna blir {parts} men SUMMA är {total}. Rätta delarna eller SUMMA."),
    Rule("andel_antal", FEL, "Andelen stämmer inte med antalet",
         "{label}: {shown} stämmer inte med {count} av {total} = {expected_share}. Andelen ska "
         "vara antalet delat med SUMMA; kontrollera andelen och antalet."),
    Rule("andel_summa", FEL, "SUMMA-andelen är inte 100 %",
         "SUMMA-raden har andelen {shown}; den ska vara 100 %."),
    Rule("varav_storre", FEL, "Varav större än totalen",
         "{label}: {shown} är större än totalen {total}."),
    Rule("varav_summa", FEL, "Delarna blir inte totalen",
         "Varav-raderna blir {parts} men totalen är {total}; de ska vara lika."),
    Rule("taljare_storre", FEL, "Täljaren är större än nämnaren",
         "{label}: täljaren {num} är större än nämnaren {den}."),
    Rule("namnare_noll", FEL, "Nämnaren är 0",
         "{label}: nämnaren är 0, så andelen kan inte räknas ut."),
    Rule("manad_saknas", FEL, "Månad saknas",
         "{label}: {month} saknas. Månaderna {months} ska fyllas i för {period_text}."),
    Rule("framtida_manad", FEL, "Värde för en månad efter perioden",
         "{label}: {month} ligger efter periodens slut ({period_text}) men är ifyllt. Lämna "
         "senare månader tomma."),
    Rule("enkat_utan_svar", FEL, "Andelar utan inkomna enkäter",
         "{label}: andelen {shown} är ifylld men antal inkomna enkäter är 0."),
    Rule("enkat_andel_saknas", FEL, "Andel saknas",
         "{label}: andelen saknas fast {answers} enkäter kommit in."),
    Rule("hopp", VARNING, "Stor förändring mot föregående tertial",
         "{label}: {shown} jämfört med {previous} {before} ({previous_period}). "
         "Stämmer förändringen?"),
    Rule("tkr_mnkr", VARNING, "tkr och mnkr förväxlade?",
         "{label}: {shown} är ungefär 1 000 gånger {direction} än {before} "
         "({previous}). Har tkr och mnkr förväxlats?"),
    Rule("storleksordning", VARNING, "Annan storleksordning än föregående tertial",
         "{label}: {shown} är ungefär {times} gånger {direction} än {before} "
         "({previous}, {previous_period}). Har ett decimaltecken eller en siffra blivit fel? "
         "Stämmer värdet, förklara förändringen i kommentaren till nämnden."),
    Rule("manad_avvikande", VARNING, "Månad långt över årets övriga",
         "{label}: {month} är {shown}, minst {factor} gånger medianen för årets övriga ifyllda "
         "månader ({median}). Stämmer värdet?"),
]
RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}


def finding(code: str, file: str, /, *, unit: str = "", period: str = "", sheet: str = "",
            cell: str = "", scope: str = "", value: str = "", expected: str = "",
            **params: Any) -> Finding:
    """A finding of a rule, its message filled from the rule's template with `params`.

    An unknown code, a missing or an unexpected parameter is a programming error and raises."""
    rule = RULES[code]
    unexpected = set(params) - rule.fields
    if unexpected:
        raise TypeError(f"rule {code!r} has no field(s) {sorted(unexpected)}")
    return Finding(code=code, severity=rule.severity, file=file,
                   message=rule.message.format(**params),
                   title=rule.title, unit=unit, period=period, sheet=sheet, cell=cell, scope=scope,
                   value=value, expected=expected)
