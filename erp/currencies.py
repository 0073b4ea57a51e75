"""The currencies every installation starts with (the seed migration and ``ensure_currencies``)."""

# ISO code, name, decimals (SAT's c_Moneda), national
SEED_CURRENCIES = [
    ("MXN", "Peso mexicano", 2, True),
    ("USD", "Dólar americano", 2, False),
    ("EUR", "Euro", 2, False),
]
