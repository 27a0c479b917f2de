"""Bulk import of accounts, contacts and interactions from CSV and XLSX files."""
