"""Amounts in words, as Mexican invoices print them: "MIL CIENTO SESENTA PESOS 00/100 M.N."."""

from decimal import ROUND_HALF_UP, Decimal

_UNITS = [
    "", "UNO", "DOS", "TRES", "CUATRO", "CINCO", "SEIS", "SIETE", "OCHO", "NUEVE", "DIEZ", "ONCE",
    "DOCE", "TRECE", "CATORCE", "QUINCE", "DIECISÉIS", "DIECISIETE", "DIECIOCHO", "DIECINUEVE",
    "VEINTE", "VEINTIUNO", "VEINTIDÓS", "VEINTITRÉS", "VEINTICUATRO", "VEINTICINCO", "VEINTISÉIS",
    "VEINTISIETE", "VEINTIOCHO", "VEINTINUEVE",
]  # fmt: skip
_TENS = {3: "TREINTA", 4: "CUARENTA", 5: "CINCUENTA", 6: "SESENTA", 7: "SETENTA", 8: "OCHENTA", 9: "NOVENTA"}
_HUNDREDS = [
    "", "CIENTO", "DOSCIENTOS", "TRESCIENTOS", "CUATROCIENTOS", "QUINIENTOS", "SEISCIENTOS",
    "SETECIENTOS", "OCHOCIENTOS", "NOVECIENTOS",
]  # fmt: skip

# currency: (singular, plural, suffix)
CURRENCY_NAMES = {
    "MXN": ("PESO", "PESOS", "M.N."),
    "USD": ("DÓLAR", "DÓLARES", "USD"),
    "EUR": ("EURO", "EUROS", "EUR"),
}


def _below_thousand(number: int) -> str:
    if number == 100:
        return "CIEN"
    hundreds, rest = divmod(number, 100)
    words = [_HUNDREDS[hundreds]] if hundreds else []
    if rest and rest < 30:
        words.append(_UNITS[rest])
    elif rest:
        tens, units = divmod(rest, 10)
        words.append(_TENS[tens] + (f" Y {_UNITS[units]}" if units else ""))
    return " ".join(words)


def _apocope(words: str) -> str:
    """UNO before a noun or MIL/MILLONES: UN, VEINTIÚN."""
    if words.endswith("VEINTIUNO"):
        return words[: -len("VEINTIUNO")] + "VEINTIÚN"
    if words.endswith("UNO"):
        return words[:-3] + "UN"
    return words


def integer_in_words(number: int) -> str:
    if number < 0:
        raise ValueError("number must not be negative")
    if number == 0:
        return "CERO"
    words = []
    millions, rest = divmod(number, 1_000_000)
    if millions:
        words.append("UN MILLÓN" if millions == 1 else f"{_apocope(integer_in_words(millions))} MILLONES")
    thousands, units = divmod(rest, 1000)
    if thousands:
        words.append("MIL" if thousands == 1 else f"{_apocope(_below_thousand(thousands))} MIL")
    if units:
        words.append(_below_thousand(units))
    return " ".join(words)


def amount_in_words(amount, currency: str = "MXN") -> str:
    """``1160`` → "MIL CIENTO SESENTA PESOS 00/100 M.N."; in USD "... DÓLARES 00/100 USD"."""
    amount = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    integer = int(amount)
    cents = int((amount - integer) * 100)
    words = _apocope(integer_in_words(integer))
    if integer and integer % 1_000_000 == 0:
        words += " DE"
    singular, plural, suffix = CURRENCY_NAMES.get(currency, (currency, currency, currency))
    return f"{words} {singular if integer == 1 else plural} {cents:02d}/100 {suffix}"
