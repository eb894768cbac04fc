"""Tertial follow-up for a Swedish social services board: templates, validation, master workbook."""

__version__ = "0.1.0"
