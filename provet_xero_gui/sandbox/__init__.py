"""Simulated Provet Cloud and Xero servers on loopback, for the demo and the tests."""
