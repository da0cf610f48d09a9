"""The record exported for an auditor or the ICO: ICO template columns, as CSV, XLSX or JSON."""
