"""The synthetic liveness bursts now live with the conformance kit's HTTP driver, which answers the liveness
challenge with them (hospital/conformance/drivers/bursts.py); the tests and bench/face_verify.py import them here."""

from hospital.conformance.drivers.bursts import burst, frame, jpeg

__all__ = ["burst", "frame", "jpeg"]
