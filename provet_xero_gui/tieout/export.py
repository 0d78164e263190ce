"""A tie-out as an accountant reads it: CSV (one row per line and per document behind a difference) and
plain text for the terminal. No Qt here; the PDF is made by the window (ui/tieout_view.py)."""

from __future__ import annotations

import csv
import html
import io
from decimal import Decimal

from provet_xero_gui.tieout import (
    EQUAL,
    EXPLAINED,
    STATUS_WORDS,
    UNEXPLAINED,
    TieOutReport,
    cause_words,
)

CSV_COLUMNS = (
    "Date", "Day status", "Line", "Provet", "Xero", "Difference", "Line status",
    "Document", "Cause", "Amount", "Reason", "What to do",
)  # fmt: skip


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def report_csv(report: TieOutReport) -> str:
    """Every day's lines, each followed by the documents that make up its difference."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for day in report.days:
        status = STATUS_WORDS[day.status]
        if not day.lines:
            w.writerow([day.day.isoformat(), status, "(nothing that day)", "", "", "", "", "", "", "", "", ""])
        for line in day.lines:
            w.writerow([
                day.day.isoformat(), status, line.label, _money(line.provet_total), _money(line.xero_total),
                _money(line.difference), STATUS_WORDS[line.status], "", "", "", "", "",
            ])  # fmt: skip
            for d in line.differences:
                w.writerow([
                    day.day.isoformat(), status, line.label, "", "", "", "", d.document, cause_words(d.cause),
                    _money(d.amount), d.reason, d.fix,
                ])  # fmt: skip
    return out.getvalue()


def summary_words(report: TieOutReport) -> str:
    n = len(report.days)
    return (
        f"{n} day{'s' if n != 1 else ''}: {report.count(EQUAL)} tie out, {report.count(EXPLAINED)} differ with the "
        f"reason known, {report.count(UNEXPLAINED)} differ without one"
    )


def calls_words(report: TieOutReport) -> str:
    parts = ", ".join(f"{k} {v}" for k, v in report.xero_calls_by_endpoint.items())
    return f"{report.xero_calls}" + (f" ({parts})" if parts else "")


def report_text(report: TieOutReport) -> str:
    """The terminal's version: a line per day, then what makes each difference, then what is held by rule."""
    org = f" — {report.organisation}" if report.organisation else ""
    lines = [
        f"Tie-out of Provet and Xero, {report.start.isoformat()} to {report.end.isoformat()}{org}",
        f"  {summary_words(report)}",
        f"  Xero calls: {calls_words(report)}",
        "",
        f"  {'Date':<12}{'Status':<14}{'Sales Provet':>14}{'Sales Xero':>14}{'Paid Provet':>14}{'Paid Xero':>14}"
        f"{'Held':>12}",
    ]
    for day in report.days:
        held = sum((ln.provet_total for ln in day.held), Decimal(0))
        lines.append(
            f"  {day.day.isoformat():<12}{STATUS_WORDS[day.status]:<14}"
            f"{_money(day.total('sales', 'provet')):>14}{_money(day.total('sales', 'xero')):>14}"
            f"{_money(day.total('payments', 'provet')):>14}{_money(day.total('payments', 'xero')):>14}"
            f"{_money(held) if held else '':>12}"
        )
    differing = [d for d in report.days if any(ln.differences for ln in d.compared)]
    if differing:
        lines += ["", "Differences, document by document:"]
    for day in differing:
        lines.append(f"{day.day.isoformat()} — {STATUS_WORDS[day.status]}")
        for line in day.compared:
            if not line.differences:
                continue
            extra = f", unexplained {_money(line.unexplained)}" if line.unexplained else ""
            lines.append(
                f"  {line.label}: Provet {_money(line.provet_total)}, Xero {_money(line.xero_total)}, "
                f"difference {_money(line.difference)}{extra}"
            )
            for d in line.differences:
                fix = f" — {d.fix}" if d.fix and d.cause != "rounding" else ""
                lines.append(f"    {_money(d.amount):>10}  {d.document}: {cause_words(d.cause)}, {d.reason}{fix}")
    held_lines = [(day, ln) for day in report.days for ln in day.held]
    if held_lines:
        lines += ["", "Held by rule (left out of the totals above):"]
        for day, line in held_lines:
            docs = ", ".join(d.document for d in line.differences)
            lines.append(f"  {day.day.isoformat()}  {line.label}: {_money(line.provet_total)} ({docs})")
    if report.notes:
        lines += ["", "Notes:", *(f"  {n}" for n in report.notes)]
    return "\n".join(lines)


_COLOURS = {EQUAL: "#d8f0d8", EXPLAINED: "#ffe6a8", UNEXPLAINED: "#f7c4bf", "held": "#e6e6e6"}


def report_html(report: TieOutReport) -> str:
    """The tie-out as one HTML page (what the window prints to PDF): the summary, a table of the days, and
    for each day that differs the lines and the documents behind them. Status is in words as well as colour."""
    org = f" — {html.escape(report.organisation)}" if report.organisation else ""
    out = [
        "<html><head><meta charset='utf-8'><style>",
        "body{font-family:sans-serif;font-size:9pt} h1{font-size:14pt} h2{font-size:11pt;margin-top:12pt}",
        "table{border-collapse:collapse;width:100%} td,th{border:1px solid #999;padding:2pt 4pt}",
        "th{background:#eee;text-align:left} td.n{text-align:right}",
        "</style></head><body>",
        f"<h1>Tie-out of Provet and Xero, {report.start.isoformat()} to {report.end.isoformat()}{org}</h1>",
        f"<p>{html.escape(summary_words(report))}. Xero calls used: {html.escape(calls_words(report))}.</p>",
        "<table><tr><th>Date</th><th>Status</th><th>Sales Provet</th><th>Sales Xero</th><th>Paid Provet</th>"
        "<th>Paid Xero</th><th>Held by rule</th></tr>",
    ]
    for day in report.days:
        held = sum((ln.provet_total for ln in day.held), Decimal(0))
        out.append(
            f"<tr><td>{day.day.isoformat()}</td><td style='background:{_COLOURS[day.status]}'>"
            f"{STATUS_WORDS[day.status]}</td><td class='n'>{_money(day.total('sales', 'provet'))}</td>"
            f"<td class='n'>{_money(day.total('sales', 'xero'))}</td>"
            f"<td class='n'>{_money(day.total('payments', 'provet'))}</td>"
            f"<td class='n'>{_money(day.total('payments', 'xero'))}</td>"
            f"<td class='n'>{_money(held) if held else ''}</td></tr>"
        )
    out.append("</table>")
    for day in report.days:
        lines = [ln for ln in day.lines if ln.differences]
        if not lines:
            continue
        out.append(f"<h2>{day.day.isoformat()} — {STATUS_WORDS[day.status]}</h2>")
        out.append(
            "<table><tr><th>Line / document</th><th>Provet</th><th>Xero</th><th>Difference</th>"
            "<th>Cause</th><th>Reason</th></tr>"
        )
        for line in lines:
            out.append(
                f"<tr style='background:{_COLOURS[line.status]}'><td><b>{html.escape(line.label)}</b></td>"
                f"<td class='n'>{_money(line.provet_total)}</td><td class='n'>{_money(line.xero_total)}</td>"
                f"<td class='n'>{_money(line.difference)}</td><td>{STATUS_WORDS[line.status]}</td><td></td></tr>"
            )
            for d in line.differences:
                fix = f" {html.escape(d.fix)}" if d.fix and d.cause != "rounding" else ""
                out.append(
                    f"<tr><td>&nbsp;&nbsp;{html.escape(d.document)}</td><td></td><td></td>"
                    f"<td class='n'>{_money(d.amount)}</td><td>{html.escape(cause_words(d.cause))}</td>"
                    f"<td>{html.escape(d.reason)}.{fix}</td></tr>"
                )
        out.append("</table>")
    if report.notes:
        out.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in report.notes) + "</ul>")
    out.append("</body></html>")
    return "\n".join(out)
