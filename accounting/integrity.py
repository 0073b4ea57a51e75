"""The books' own invariants, read-only: pólizas numbered 1..n per kind and month with their
sequence at n, and every póliza balanced (debits = credits = its total)."""

from collections import defaultdict

from django.db.models import Sum

from .models import JournalEntry, JournalLine, JournalSequence


def entry_numbering_breaks(company) -> list[str]:
    numbers = defaultdict(list)
    rows = JournalEntry.objects.filter(company=company).values_list("kind", "year", "month", "number")
    for kind, year, month, number in rows:
        numbers[(kind, year, month)].append(number)
    last = {(s.kind, s.year, s.month): s.last_number for s in JournalSequence.objects.filter(company=company)}
    breaks = []
    for key in sorted(set(numbers) | set(last)):
        kind, year, month = key
        found = sorted(numbers.get(key, []))
        expected = list(range(1, last.get(key, 0) + 1))
        if found != expected:
            missing = sorted(set(expected) - set(found))[:5]
            repeated = sorted({n for n in found if found.count(n) > 1})[:5]
            extra = sorted(set(found) - set(expected))[:5]
            breaks.append(
                f"Pólizas tipo {kind} de {year}-{month:02d}: {len(found)} números para el consecutivo "
                f"{last.get(key, 0)} (faltan {missing}, repetidos {repeated}, fuera del consecutivo {extra})."
            )
    return breaks


def unbalanced_entries(company) -> list[str]:
    sums = (
        JournalLine.objects.filter(entry__company=company)
        .values("entry")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
    )
    totals = dict(JournalEntry.objects.filter(company=company).values_list("pk", "total"))
    breaks = []
    seen = set()
    for row in sums:
        seen.add(row["entry"])
        total = totals.get(row["entry"])
        if row["debit"] != row["credit"] or row["debit"] != total:
            breaks.append(
                f"Póliza {row['entry']}: cargos {row['debit']}, abonos {row['credit']}, total {total}."
            )
    for pk in sorted(set(totals) - seen):
        breaks.append(f"Póliza {pk}: no tiene partidas.")
    return breaks
