"""Security: leak detection, the incident register and its emergency procedure (SEC-02)."""
