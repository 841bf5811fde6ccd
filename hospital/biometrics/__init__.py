"""Face enrolment and verification (FACE-01, FACE-02, FACE-04).

Kept free of imports on purpose: the app process and the pool's worker processes import only the modules
they need, so dlib and its models load in the workers alone (see `pool.py`).
"""
