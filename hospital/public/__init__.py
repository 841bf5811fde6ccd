"""Read models above the areas: the public disclosure (INS-03), readable without logging in."""
