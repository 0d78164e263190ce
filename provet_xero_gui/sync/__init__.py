"""The sync engine: mapping, translation, passes. No Qt here."""
