"""Faster readers put into pyHanko and asn1crypto; importing this module installs them.

A block-wise hex-string reader into pyHanko's parser (``signing.hexstrings``), block-wise
readers of white space, names and numbers (``signing.tokens``) and a memory of certificate
name comparisons into asn1crypto (``signing.x509names``). Every module of this library that
uses pyHanko imports this one first, so the package itself stays light: ``signing.clock``
or ``signing.pki`` load no pyHanko (a CLI listing needs none).
"""

from signing import hexstrings, tokens, x509names

hexstrings.install()
tokens.install()
x509names.install()
