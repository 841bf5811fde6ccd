"""The pharmacist's review (审方, RX-06): approve, or reject with reasons, signed as a second JWS."""
