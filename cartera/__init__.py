"""Cartera: self-hosted account management and sales coordination for account teams."""

__version__ = "0.1.0"
