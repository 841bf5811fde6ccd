"""The reference internet hospital (互联网医院): the regulated hospital side of follow-up care online."""

__version__ = "0.1.0"
