"""The provincial supervision platform: the gateway protocol (SM4/SM3) and a simulator of the platform (SUP)."""
