"""Only here because cffi's out-of-line API mode hooks into setuptools through setup()."""
from setuptools import setup

setup(cffi_modules=["reference/build_core.py:ffibuilder"])
