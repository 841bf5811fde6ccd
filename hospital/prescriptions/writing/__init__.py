"""Writing a prescription (RX-01…RX-05, RX-07, REV-05): the doctor writes and signs it, revises a rejected one,
and exports a reviewed one."""
