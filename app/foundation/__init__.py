"""Pure helpers below storage, reports and ingest: one policy each for untrusted text, durable
writes, file digests, bounded reads and OS errors. Imports nothing from the project but app.model
(an import-linter contract holds this), so every layer may use it."""
