"""The audit trail: every action and every read of a document or of personal data."""
