"""ProvetSource writes against the Provet sandbox: a payment from Xero, its reversal, client changes,
Provet's validation errors in plain words, and no second payment when an answer is lost."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from provet_xero_gui.provet import records as R
from provet_xero_gui.provet.client import ProvetClient, ProvetError, ProvetRefusedError
from provet_xero_gui.provet.source import ProvetSource, xero_info
from provet_xero_gui.sandbox import clinic as C
from provet_xero_gui.sandbox.provet_server import ProvetSandbox

XERO_METHOD = 17  # the clinic's "Xero payments" method (payment_type 11)
PAYMENT_ID = "0f6c8a2e-4b1d-4c55-9e38-3b2f7a9d1c01"


def _open_invoice(provet: ProvetSandbox) -> C.Invoice:
    return next(i for i in provet.invoices(3) if i.due_sum > 5 and not i.credit_note and not i.consolidated_invoice)


def test_post_payment_body_and_answer(source: ProvetSource, provet: ProvetSandbox) -> None:
    inv = _open_invoice(provet)
    pay = source.post_payment(inv.id, Decimal("5.5"), date(2026, 9, 30), XERO_METHOD, PAYMENT_ID)
    assert isinstance(pay, R.Payment)
    assert (pay.invoice_id, pay.paid, pay.payment_date, pay.payment_type) == (
        inv.id,
        Decimal("5.50"),
        date(2026, 9, 30),
        11,
    )
    assert pay.payment_method_id == XERO_METHOD and pay.status == 3 and pay.info == f"Xero payment {PAYMENT_ID}"
    stored = provet.payment(pay.id)
    assert stored.paid == Decimal("5.50") and stored.info == xero_info(PAYMENT_ID)
    assert provet.invoice(inv.id).due_sum == inv.due_sum - Decimal("5.50")
    # the invoice's URL works as well as its id
    url_pay = source.post_payment(source.url("invoice", inv.id), Decimal("1"), date(2026, 9, 30), XERO_METHOD, "p2")
    assert url_pay.invoice_id == inv.id and url_pay.paid == Decimal("1.00")
    assert source.find_xero_payment(inv.id, PAYMENT_ID) == pay
    assert source.find_xero_payment(inv.id, "someone-else") is None


def test_post_payment_to_a_draft_is_refused_in_provets_words(source: ProvetSource, provet: ProvetSandbox) -> None:
    with pytest.raises(ProvetRefusedError) as err:
        source.post_payment(24, Decimal("1.00"), date(2026, 9, 30), XERO_METHOD, PAYMENT_ID)
    assert err.value.status == 400 and isinstance(err.value, ProvetError)
    assert "Payments can be added only to finalised invoices (status 3)" in str(err.value)
    assert str(err.value).startswith("Provet refused to create invoice payments (HTTP 400): invoice: ")
    assert provet.payments_for(24) == []


def test_post_payment_more_than_due_and_a_wrong_method(source: ProvetSource, provet: ProvetSandbox) -> None:
    inv = _open_invoice(provet)
    with pytest.raises(ProvetRefusedError, match=r"paid: The payment exceeds the amount due"):
        source.post_payment(inv.id, inv.due_sum + 1, date(2026, 9, 30), XERO_METHOD, PAYMENT_ID)
    with pytest.raises(ProvetRefusedError, match="payment_method: This payment method has payment_type 1"):
        source.post_payment(inv.id, Decimal("1.00"), date(2026, 9, 30), 2, PAYMENT_ID)  # 2 = Cash
    with pytest.raises(ValueError, match="at most 2 decimals"):
        source.post_payment(inv.id, Decimal("1.005"), date(2026, 9, 30), XERO_METHOD, PAYMENT_ID)
    assert len(provet.payments_for(inv.id)) == len(inv.payments)


def test_lost_answer_makes_no_second_payment(source: ProvetSource, provet: ProvetSandbox) -> None:
    inv = _open_invoice(provet)
    source.vat_groups()  # holds a token now, so the fault hits the payment
    provet.faults.drop_next_writes = 1  # saved, then the connection closes without an answer
    pay = source.post_payment(inv.id, Decimal("2.00"), date(2026, 9, 30), XERO_METHOD, PAYMENT_ID)
    mine = [p for p in provet.payments_for(inv.id) if p.info == xero_info(PAYMENT_ID)]
    assert [p.id for p in mine] == [pay.id]
    assert source.client.calls["POST /invoicepayment/"] == 1  # looked up, not sent again


def test_failure_before_saving_is_sent_again(source: ProvetSource, provet: ProvetSandbox) -> None:
    inv = _open_invoice(provet)
    source.vat_groups()
    provet.faults.fail_next = 1  # a 500 before anything is done: uncertain, looked up, then sent again
    pay = source.post_payment(inv.id, Decimal("2.00"), date(2026, 9, 30), XERO_METHOD, PAYMENT_ID)
    assert [p.id for p in provet.payments_for(inv.id) if p.info == xero_info(PAYMENT_ID)] == [pay.id]
    assert source.client.calls["POST /invoicepayment/"] == 2


def test_token_answer_lost_or_5xx_is_tried_again(source: ProvetSource, provet: ProvetSandbox) -> None:
    provet.clock.set_scale(100)  # the back-off waits are sandbox seconds
    provet.faults.drop_next_writes = 1  # the token POST: a token was issued, its answer lost
    assert source.vat_groups().records
    provet.expire_tokens()
    provet.faults.fail_next = 1
    assert source.vat_groups().records


def test_cancel_payment(source: ProvetSource, provet: ProvetSandbox) -> None:
    inv = _open_invoice(provet)
    pay = source.post_payment(inv.id, Decimal("3.00"), date(2026, 9, 30), XERO_METHOD, PAYMENT_ID)
    cancelled = source.cancel_payment(pay.id)
    assert cancelled.id == pay.id and cancelled.status == 99
    assert provet.invoice(inv.id).due_sum == inv.due_sum
    assert source.cancel_payment(pay.id).status == 99  # again: already done, no error
    assert source.find_xero_payment(inv.id, PAYMENT_ID) is None
    provet.faults.drop_next_writes = 1
    other = source.post_payment(inv.id, Decimal("3.00"), date(2026, 9, 30), XERO_METHOD, "p3")
    provet.faults.drop_next_writes = 1
    assert source.cancel_payment(other.id).status == 99
    with pytest.raises(ProvetError, match="HTTP 404"):
        source.cancel_payment(987654)


def test_patch_client(source: ProvetSource, provet: ProvetSandbox) -> None:
    before = provet.client(4)
    client = source.patch_client(4, {"email": "james.smith@example.org", "city": "Leeds"})
    assert isinstance(client, R.Client) and client.email == "james.smith@example.org" and client.city == "Leeds"
    assert provet.client(4).email == "james.smith@example.org" and provet.client(4).modified > before.modified
    with pytest.raises(ProvetRefusedError, match="email: Enter a valid email address"):
        source.patch_client(4, {"email": "not an address"})
    with pytest.raises(ProvetRefusedError, match="country: Use an ISO 3166 alpha-2 country code"):
        source.patch_client(4, {"country": "England"})
    with pytest.raises(ValueError):
        source.patch_client(4, {})


def test_phone_numbers(source: ProvetSource, provet: ProvetSandbox) -> None:
    added = source.add_phone_number(9, "+44 20 7946 0958")
    assert added.client_id == 9 and added.phone_number == "+44 20 7946 0958"
    changed = source.patch_phone_number(added.id, "+44 20 7946 0000")
    assert (
        changed.phone_number == "+44 20 7946 0000"
        and provet.client(9).phone_numbers[-1].phone_number == changed.phone_number
    )
    provet.faults.drop_next_writes = 1
    again = source.add_phone_number(10, "+44 7700 900456")
    assert [p.id for p in provet.client(10).phone_numbers] == [again.id]


def test_writes_spend_their_own_budget(client: ProvetClient, source: ProvetSource, provet: ProvetSandbox) -> None:
    inv = _open_invoice(provet)
    source.post_payment(inv.id, Decimal("1.00"), date(2026, 9, 30), XERO_METHOD, PAYMENT_ID)
    source.patch_client(4, {"city": "York"})
    budgets = {b.bucket: b.spent for b in client.limiter.budgets()}
    assert budgets["POST invoicepayment"] == 1 and budgets["PATCH client"] == 1
    assert client.cost == {"POST /invoicepayment/": 1, "PATCH /client/": 1}
