"""The value rules of CONTRACT §1, one converter per field, each run over a whole column at once.

A converter takes every cell of one column and returns ``(values, [(cell index, message)])``. The fast
path is C-level (``map``, ``min``/``max``, one regex search over the joined column); only a column that
fails it is walked cell by cell, to find the offenders and say how to fix each.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from product_importer.ingest.limits import (
    DEFAULT_CURRENCY,
    MAX_DESCRIPTION,
    MAX_NAME,
    MAX_PRICE_DECIMALS,
    MAX_PRICE_DIGITS,
    MAX_QUANTITY,
    MAX_SHORT_TEXT,
    MAX_SKU,
)
from product_importer.ingest.profiles import SPREADSHEET_WORDS

# A column rule: all cells of one column -> (values, [(cell index, message)]).
Converter = Callable[[Sequence[str]], tuple[list[Any], list[tuple[int, str]]]]
Problems = list[tuple[int, str]]

# ISO 4217 (list one, 2025) plus codes withdrawn recently enough to linger in exports.
CURRENCY_CODES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN
    BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS
    KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN
    MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR
    SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD
    USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU
    XTS XUA XXX YER ZAR ZMW ZWG ZWL
    """.split()  # noqa: SIM905 - a table reads better than 180 quoted strings
)
CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW",
                    "₽": "RUB", "₺": "TRY", "₪": "ILS", "R$": "BRL", "CHF": "CHF", "kr": "SEK", "zł": "PLN"}

_PRICE = re.compile(r"(?:[0-9]+(?:\.[0-9]{1,4})?)?")  # empty allowed: the default
DECIMAL_COMMA_DELIMITERS = frozenset(";\t")  # files where a decimal comma is read (CONTRACT §1)
_PRICE_COMMA = re.compile(r"[0-9]+,[0-9]{1,4}")  # a decimal comma, read in ';' and tab files
_LOOSE_PRICE_COMMA = re.compile(r"[+-]?[0-9]*,[0-9]*")  # ,5 and 5, too (a spreadsheet reads them)
_QUANTITY = re.compile(r"[0-9]*")
# 3, +3, 3.0, 12.00, -0, and .0 as a spreadsheet reads it (3,0 only in ';' and tab files)
_INTEGRAL = re.compile(r"(?:\+?([0-9]+)|-(0+))(?:[.,]0*)?|[+-]?[.,]0+")
# A number as a spreadsheet reads it (CONTRACT §1: read the file the way the spreadsheet meant it):
# an optional sign, then digits with an optional decimal part or a decimal part alone (.5, 5., +2, -0).
_SPREADSHEET_NUMBER = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # C0, C1 and the Unicode line separators
# A spreadsheet's scientific notation: digits, an optional decimal part, E, a sign, digits.
_SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]+)?[eE][+-][0-9]+")
_SCIENTIFIC_LINE = re.compile(r"^[0-9]+(?:[.,][0-9]+)?[eE][+-][0-9]+$", re.MULTILINE)
_FLOAT_BARCODE = re.compile(r"[0-9]+[.,]0+")  # pandas & co. wrote an integer column as floats (',': decimal comma)
_FLOAT_BARCODE_LINE = re.compile(r"^[0-9]+[.,]0+$", re.MULTILINE)
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)?")
_SYMBOL_AROUND = re.compile(r"^([^\d\s.,+-]{1,3})\s*(.+?)$|^(.+?)\s*([^\d\s.,]{1,3})$")
_THOUSANDS_COMMA = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")  # 1,299.00
_THOUSANDS_DOT = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+")  # 1.299,00
_DOT_GROUPS = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")  # 1.000, 2.500, 1.000.000: in a ';' file, thousands
_COMMA_GROUPS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")  # 1,299, 1,000,000: the same, from a '.' decimal locale
_THOUSANDS_SPACE = re.compile(r"[0-9]{1,3}(?:[ \u00a0\u202f'’][0-9]{3})+(?:[.,][0-9]+)?")  # 1 299,00  1'299.00


# What a spreadsheet writes into a CSV for a formula that failed (a lookup that found nothing, a broken
# reference): Excel's error values (in English and as Excel writes them in its other languages), Google
# Sheets' and LibreOffice's (Err:5xx). No product value looks like one: a field holding one fails its row.
SPREADSHEET_ERRORS = frozenset(
    """
    #N/A #VALUE! #REF! #DIV/0! #NUM! #NAME? #NULL! #SPILL! #CALC! #GETTING_DATA #FIELD! #BLOCKED! #CONNECT!
    #BUSY! #UNKNOWN! #PYTHON! #EXTERNAL! #ERROR!
    #NV #WERT! #BEZUG! #ZAHL! #VALEUR! #NOMBRE! #NOM? #NUL! #N/D #¡VALOR! #¡REF! #¡DIV/0! #¡NUM! #¿NOMBRE?
    #¡NULO! #VALORE! #RIF! #NOME? #NULLO! #N/B #WAARDE! #VERW! #DEEL/0! #GETAL! #NAAM? #LEEG! #VALOR! #NÚM!
    #NULO! #ИМЯ? #Н/Д #ЗНАЧ! #ССЫЛКА! #ДЕЛ/0! #ЧИСЛО! #ПУСТО!
    """.split()  # noqa: SIM905 - a table reads better than 60 quoted strings
) | frozenset(f"Err:{code}" for code in range(501, 600))


def spreadsheet_error(field: str, value: str) -> str:
    """The row error of a field whose cell is a spreadsheet's error value (``SPREADSHEET_ERRORS``)."""
    return (f"{field} is {value}, a spreadsheet formula's error, not a value (a lookup that found nothing, a "
            "broken reference): fix the formula or type the value, then export the file again")


def text(field: str, *, required: bool, limit: int, no_control: bool = False, spreadsheet_number: bool = False,
         float_suffix: bool = False) -> Converter:
    """Trimmed text of at most ``limit`` characters; empty is an error if required, else None.

    ``spreadsheet_number``: a value in scientific notation is refused (a spreadsheet rounded the
    digits away). ``float_suffix``: digits followed by ``.0`` are refused (a program wrote a number
    column as decimals).
    """
    too_long = f"{field} is longer than {limit} characters"

    def convert(cells: Sequence[str]) -> tuple[list[Any], Problems]:
        values: list[Any] = list(map(str.strip, cells))
        shortest = min(map(len, values))
        fine = max(map(len, values)) <= limit and (not required or shortest > 0)
        if fine and no_control:
            fine = all(map(str.isprintable, values))
        joined = "\n".join(values) if spreadsheet_number or float_suffix else ""
        if fine and spreadsheet_number and _maybe_scientific(joined):
            fine = _SCIENTIFIC_LINE.search(joined) is None
        if fine and float_suffix and (".0" in joined or ",0" in joined):
            fine = _FLOAT_BARCODE_LINE.search(joined) is None
        bad: Problems = []
        if not fine:
            for i, value in enumerate(values):
                if not value:
                    if required:
                        bad.append((i, f"{field} is required"))
                elif len(value) > limit:
                    bad.append((i, f"{too_long} ({len(value):,})"))
                elif no_control and _CONTROL.search(value):
                    bad.append((i, f"{field} contains control characters (tabs, line breaks)"))
                elif no_control and (invisible := _invisible(value)) is not None:
                    bad.append((i, f"{field} contains an invisible character ({invisible}): remove it, or two "
                                   "SKUs that look the same would be different products"))
                elif spreadsheet_number and _SCIENTIFIC.fullmatch(value):
                    bad.append((i, f"{field} {value} is in scientific notation: a spreadsheet rounded "
                                   "its digits away; format the column as text and export again"))
                elif float_suffix and _FLOAT_BARCODE.fullmatch(value):
                    point = "," if "," in value else "."
                    bad.append((i, f"{field} {value} ends in {point}0: a program wrote it as a decimal "
                                   f"number; write {value.partition(point)[0]}"))
        if not required and shortest == 0:
            values = [value or None for value in values]
        return values, bad

    return convert


def _invisible(value: str) -> str | None:
    """``U+200B ZERO WIDTH SPACE at position 3`` for the first format character (Unicode category Cf:
    zero-width spaces and joiners, the BOM, soft hyphens, direction marks) in ``value``, else None."""
    for position, char in enumerate(value, start=1):
        if unicodedata.category(char) == "Cf":
            return f"U+{ord(char):04X} {unicodedata.name(char, 'FORMAT CHARACTER')} at position {position}"
    return None


def _maybe_scientific(joined: str) -> bool:
    """A cheap test before the regex: E+, E-, e+ or e- somewhere in the column."""
    return "E+" in joined or "E-" in joined or "e+" in joined or "e-" in joined


def description(cells: Sequence[str]) -> tuple[list[Any], Problems]:
    """Text up to MAX_DESCRIPTION characters; a line break is "\\n" however the spreadsheet wrote it (Excel
    on Windows writes CRLF inside a cell, old Mac Excel a lone CR): re-saving a file changes nothing."""
    values: list[Any] = [None if not cell or cell.isspace() else cell for cell in cells]
    if any("\r" in cell for cell in cells):
        values = [v.replace("\r\n", "\n").replace("\r", "\n") if v is not None and "\r" in v else v for v in values]
    bad: Problems = []
    if max(map(len, cells)) > MAX_DESCRIPTION:
        bad = [
            (i, f"description is longer than {MAX_DESCRIPTION:,} characters ({len(value):,})")
            for i, value in enumerate(values)
            if value is not None and len(value) > MAX_DESCRIPTION
        ]
    return values, bad


def _separated(delimiter: str) -> str:
    """How a message names the file's delimiter: ``comma-separated``, ``pipe-separated (|)``."""
    names = {",": "comma-separated", "|": "pipe-separated (|)", ";": "semicolon-separated", "\t": "tab-separated"}
    return names.get(delimiter, f"separated by {delimiter!r}")


def price(delimiter: str, *, decimal_comma: bool = False) -> Converter:
    """Decimal >= 0, at most 4 decimals (zeros after the fourth are dropped: Magento writes ``34.000000``),
    '.' as the separator (or ',' in ';' and tab files, and where a profile says so: ``decimal_comma``)."""
    decimal_comma = decimal_comma or delimiter in DECIMAL_COMMA_DELIMITERS

    def convert(cells: Sequence[str]) -> tuple[list[Any], Problems]:
        values = list(map(str.strip, cells))
        # In a file that writes decimals with a comma, "1.000" is a thousands separator (German Excel's
        # 1.000 is a thousand) once the column shows it: a decimal comma in it, or two dot groups.
        grouped = decimal_comma and any(map(_DOT_GROUPS.fullmatch, values)) and any(
            "," in v or v.count(".") > 1 for v in values)
        comma_grouped = _comma_grouped(values) if decimal_comma else False
        if not grouped and all(map(_PRICE.fullmatch, values)) and max(map(len, values)) <= MAX_PRICE_DIGITS:
            return [value or None for value in values], []
        out: list[Any] = []
        bad: Problems = []
        for i, value in enumerate(values):
            if grouped and _DOT_GROUPS.fullmatch(value):
                bad.append((i, _dot_thousands("price", value, delimiter)))
                out.append(None)
                continue
            if comma_grouped and _COMMA_GROUPS.fullmatch(value):
                bad.append((i, _comma_thousands("price", value, delimiter)))
                out.append(None)
                continue
            if decimal_comma and _LOOSE_PRICE_COMMA.fullmatch(value):
                value = value.replace(",", ".")
            value = _plain_price(value)
            if not _PRICE.fullmatch(value):
                bad.append((i, price_problem(value, delimiter)))
            elif len(value.partition(".")[0]) > MAX_PRICE_DIGITS:
                bad.append((i, f"price has more than {MAX_PRICE_DIGITS} digits before the decimal point"))
            out.append(value or None)
        return out, bad

    return convert


def _dot_thousands(field: str, value: str, delimiter: str) -> str:
    """``1.000`` in a ';' or tab file, where a spreadsheet writes decimals with a comma: a thousand."""
    plain = value.replace(".", "")
    message = (f"{field} {value}: in a file that is {_separated(delimiter)}, decimals are written with a comma, "
               f"so a point followed by three digits is a thousands separator: write {plain}")
    if field == "price" and value.count(".") == 1:
        message += f" (or {value.replace('.', ',')} if the point was a decimal point)"
    return message


def _comma_grouped(values: Sequence[str]) -> bool:
    """In a file whose delimiter makes ',' the decimal separator: whether this column shows its commas are
    thousands separators instead (a tab-separated export from a '.' locale: 1,299 beside 19.99 or 1,000,000),
    so that a comma followed by three digits is ambiguous (1,299 would read 1.299, a thousand times too small)."""
    return any(map(_COMMA_GROUPS.fullmatch, values)) and any(
        v.count(",") > 1 or ("." in v and (_PRICE.fullmatch(v) or _THOUSANDS_COMMA.fullmatch(v))) for v in values)


_POINT_DECIMAL = re.compile(r"[0-9]*\.[0-9]{1,2}|[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+")  # 19.99, .5, 1,299.00


def shows_decimal_points(cells: Sequence[str]) -> bool:
    """Whether a price column writes decimals with a point (``19.99``; ``1,299.00``): then, in a ';' or tab
    file, the file's commas may be thousands separators (``_comma_grouped``), in its other columns too."""
    return "." in "".join(cells) and any(_POINT_DECIMAL.fullmatch(cell.strip()) for cell in cells)


def _comma_thousands(field: str, value: str, delimiter: str) -> str:
    """``1,299`` in a ';' or tab file whose column also writes ``19.99``: a thousands separator, or a decimal
    comma; the file does not say which."""
    plain = value.replace(",", "")
    message = (f"{field} {value}: in a file that is {_separated(delimiter)} a comma is a decimal comma, but this "
               "file also writes decimal points or several thousands separators, so this comma may be a "
               f"thousands separator: write {plain}")
    if value.count(",") == 1:
        whole, _, decimals = value.partition(",")
        if field == "quantity" and not decimals.strip("0"):
            message += f" (or {whole} if the comma was a decimal comma)"
        else:  # (1.299 here would be a thousand too, next to decimal commas: the column must say one thing)
            message += " (or, if it was a decimal comma, write every decimal of this column with a comma)"
    return message


def _plain_price(value: str) -> str:
    """``.5`` → ``0.5``, ``5.`` → ``5``, ``+2`` → ``2``, ``-0.00`` → ``0.00``, ``34.000000`` → ``34.0000``:
    what a spreadsheet reads as that number, written plainly; any other value as it is."""
    match = _SPREADSHEET_NUMBER.fullmatch(value)
    if match is None or not value.strip("+-."):  # no digit at all
        return value
    sign, whole, decimals = match.groups()
    if sign == "-" and (whole + (decimals or "")).strip("0"):
        return value  # a negative price: price_problem says so
    if decimals and len(decimals) > MAX_PRICE_DECIMALS and not decimals[MAX_PRICE_DECIMALS:].strip("0"):
        decimals = decimals[:MAX_PRICE_DECIMALS]  # 34.000000 (Magento's decimal(20,6)) is 34.0000 exactly
    plain = (whole or "0") + (f".{decimals}" if decimals else "")
    return plain if len(decimals or "") <= MAX_PRICE_DECIMALS else value


def price_problem(value: str, delimiter: str) -> str:
    """What is wrong with a price cell, and how to write it (``delimiter``: the file's)."""
    decimal_comma = delimiter in DECIMAL_COMMA_DELIMITERS
    point = "," if decimal_comma else "."
    if value.endswith("%") and _NUMBER.fullmatch(value[:-1].strip()):  # (not a currency symbol: a tester)
        return f"price {value} is a percentage, not a price: write the price itself, like 12{point}50"
    around = _SYMBOL_AROUND.match(value)
    if around is not None:
        symbol, number = (around.group(1), around.group(2)) if around.group(1) else (around.group(4), around.group(3))
        code = symbol.upper() if symbol.upper() in CURRENCY_CODES else CURRENCY_SYMBOLS.get(symbol)
        if _NUMBER.fullmatch(number) or _THOUSANDS_COMMA.fullmatch(number) or _THOUSANDS_DOT.fullmatch(number):
            where = f"put {code} in the currency column" if code else "put the currency's code in the currency column"
            if _THOUSANDS_COMMA.fullmatch(number):  # $1,032.00: what to write has no thousands separator either
                number = number.replace(",", "") if "." in number or not decimal_comma else number
            elif _THOUSANDS_DOT.fullmatch(number):  # 1.299,00 €
                number = number.replace(".", "") if decimal_comma else number.replace(".", "").replace(",", ".")
            return f"price {value}: remove the currency symbol and write {number}; {where}"
    if value.startswith("-") and _NUMBER.fullmatch(value[1:]):
        return "price must be 0 or more"
    if decimal_comma and _THOUSANDS_DOT.fullmatch(value):
        plain = value.replace(".", "")
        return f"price {value}: remove the thousands separator: write {plain}"
    if _THOUSANDS_COMMA.fullmatch(value):
        plain = value.replace(",", "")
        if "." in value or decimal_comma:
            return f"price {value}: remove the thousands separator: write {plain}"
        return (f"price {value}: remove the thousands separator ({plain}); a decimal comma is read only "
                f"in files separated by ';' or tab, here write decimals with a point ({value.replace(',', '.')})")
    if _THOUSANDS_SPACE.fullmatch(value):
        return f"price {value}: remove the thousands separator: write {re.sub(r'[^0-9.,]', '', value)}"
    if not decimal_comma and _PRICE_COMMA.fullmatch(value):
        return (f"price {value}: this file is {_separated(delimiter)}, so decimals need a point: write "
                f"{value.replace(',', '.')} (a decimal comma is read only in files separated by ';' or tab)")
    if re.fullmatch(r"[0-9]+[.,][0-9]{5,}", value):
        return f"price {value} has more than {MAX_PRICE_DECIMALS} decimal places"
    return f"price must be a number >= 0 with at most {MAX_PRICE_DECIMALS} decimals, like 12{point}50"


def currency(cells: Sequence[str]) -> tuple[list[Any], Problems]:
    values = [cell.strip().upper() or DEFAULT_CURRENCY for cell in cells]
    if set(values) <= CURRENCY_CODES and all(map(str.isascii, cells)):
        return values, []
    bad: Problems = []
    # upper() makes ASCII of a few other letters (dotless i -> "I"): the cell itself must be ASCII
    for i, value in enumerate(values):
        if value not in CURRENCY_CODES or not cells[i].isascii():
            code = CURRENCY_SYMBOLS.get(cells[i].strip())
            hint = f"write {code}, not the symbol" if code else "like USD"
            bad.append((i, f"currency must be a 3-letter ISO 4217 code, {hint}"))
    return values, bad


def quantity(delimiter: str, *, decimal_comma: bool = False, thousands_comma: bool = False) -> Converter:
    """Integer >= 0; an integral decimal (``3.0``) counts (``3,0`` too in ';' and tab files, or where a
    profile says so). ``thousands_comma``: the file shows elsewhere that its commas may be thousands
    separators (its prices have decimal points: ``shows_decimal_points``), so ``1,000`` is ambiguous."""
    decimal_comma = decimal_comma or delimiter in DECIMAL_COMMA_DELIMITERS

    def convert(cells: Sequence[str]) -> tuple[list[Any], Problems]:
        values = list(map(str.strip, cells))
        if all(map(_QUANTITY.fullmatch, values)) and max(map(len, values)) <= 18:  # < 10**18: fits a bigint
            return [int(value) if value else 0 for value in values], []
        numbers: list[Any] = []
        bad: Problems = []
        comma_grouped = (thousands_comma or _comma_grouped(values)) if decimal_comma else False
        for i, value in enumerate(values):
            if decimal_comma and _DOT_GROUPS.fullmatch(value) and "." in value:
                # "1.000" in a ';' or tab file: a thousand (Excel's thousands format), not 1.0
                bad.append((i, _dot_thousands("quantity", value, delimiter)))
                numbers.append(0)
                continue
            if comma_grouped and _COMMA_GROUPS.fullmatch(value):
                # "1,000" beside "2.5" or "1,000,000": a thousand from a '.' decimal locale, or 1,000 = 1?
                bad.append((i, _comma_thousands("quantity", value, delimiter)))
                numbers.append(0)
                continue
            integral = _INTEGRAL.fullmatch(value)
            if integral is not None and ("," not in value or decimal_comma):
                digits = integral.group(1) or integral.group(2) or "0"  # (.0: no digits before the point)
                if len(digits.lstrip("0")) > 19 or int(digits) > MAX_QUANTITY:
                    bad.append((i, f"quantity is larger than {MAX_QUANTITY}"))
                    numbers.append(0)
                else:
                    numbers.append(int(digits))
                continue
            numbers.append(0)
            if not value:
                numbers[-1] = 0
                continue
            bad.append((i, quantity_problem(value, delimiter)))
        return numbers, bad

    return convert


def quantity_problem(value: str, delimiter: str) -> str:
    decimal_comma = delimiter in DECIMAL_COMMA_DELIMITERS
    if value.startswith("-") and _NUMBER.fullmatch(value[1:]):
        return ("quantity must be 0 or more (a platform writes a negative stock for items sold or backordered "
                "beyond it: write 0)")
    if not decimal_comma and re.fullmatch(r"[0-9]+,0{0,2}", value):
        return (f"quantity {value}: this file is {_separated(delimiter)}, so a decimal comma is not read here: "
                f"write {value.partition(',')[0]}")
    if _THOUSANDS_COMMA.fullmatch(value) or _THOUSANDS_SPACE.fullmatch(value) or _THOUSANDS_DOT.fullmatch(value):
        return f"quantity {value}: remove the thousands separator: write {re.sub(r'[^0-9]', '', value)}"
    if _NUMBER.fullmatch(value):
        return f"quantity must be a whole number >= 0 ({value} is not)"
    return "quantity must be a whole number >= 0, like 12"


def active(words: Mapping[str, bool]) -> Converter:
    accepted = "/".join(w for w in words if w and w not in SPREADSHEET_WORDS)
    message = (f"active must be one of {accepted} (any case), or a spreadsheet's TRUE/FALSE in its language "
               "(WAHR/FALSCH, VRAI/FAUX, VERDADERO/FALSO, …)")

    def convert(cells: Sequence[str]) -> tuple[list[Any], Problems]:
        values = list(map(words.get, map(str.lower, map(str.strip, cells))))
        if None not in values:
            return values, []
        return values, [(i, message) for i, value in enumerate(values) if value is None]

    return convert


def converters(delimiter: str, active_words: Mapping[str, bool], *, decimal_comma: bool = False) -> dict[str, Converter]:
    """The column rules of a file with this delimiter (a decimal comma is read in ';' and tab files, and in
    any file when ``decimal_comma``: a profile whose exporter writes the shop's decimal separator)."""
    return {
        "sku": text("sku", required=True, limit=MAX_SKU, no_control=True, spreadsheet_number=True),
        "name": text("name", required=True, limit=MAX_NAME),
        "description": description,
        "price": price(delimiter, decimal_comma=decimal_comma),
        "currency": currency,
        "quantity": quantity(delimiter, decimal_comma=decimal_comma),
        "active": active(active_words),
        "brand": text("brand", required=False, limit=MAX_SHORT_TEXT),
        "category": text("category", required=False, limit=MAX_SHORT_TEXT),
        "barcode": text("barcode", required=False, limit=MAX_SHORT_TEXT, spreadsheet_number=True,
                        float_suffix=True),
    }
