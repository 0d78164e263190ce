"""Writes to Xero and Provet as types: one class per kind of write (sync/writes/base.py says what one is).

Importing this package registers every kind, so a journal entry of any of them can be replayed.
"""

from provet_xero_gui.sync.writes.allocations import AllocateCreditNote
from provet_xero_gui.sync.writes.base import Ref, Services, Write
from provet_xero_gui.sync.writes.contacts import CreateContacts, UpdateContacts
from provet_xero_gui.sync.writes.create_credit_notes import CreateCreditNotes
from provet_xero_gui.sync.writes.create_invoices import CreateInvoices
from provet_xero_gui.sync.writes.payments import CancelProvetPayment, CreatePayments, DeletePayment, PostProvetPayment
from provet_xero_gui.sync.writes.voids import VoidCreditNote, VoidInvoice

__all__ = [
    "AllocateCreditNote", "CancelProvetPayment", "CreateContacts", "CreateCreditNotes", "CreateInvoices",
    "CreatePayments", "DeletePayment", "PostProvetPayment", "Ref", "Services", "UpdateContacts", "VoidCreditNote",
    "VoidInvoice", "Write",
]  # fmt: skip
