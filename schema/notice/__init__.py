"""A privacy notice written from the register: pure functions from a document to text."""
