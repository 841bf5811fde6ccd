"""Quality and safety: ratings, complaints and disputes, adverse events (QA-01, SUP-04)."""
