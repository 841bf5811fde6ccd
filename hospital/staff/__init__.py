"""Staff admission and credentials: doctors, pharmacists, nurses (STAFF-01 … STAFF-04)."""
