"""provet-xero: keeps a veterinary clinic's Xero books in step with Provet Cloud."""

__version__ = "0.1.0"
