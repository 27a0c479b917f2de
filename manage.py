#!/usr/bin/env python
"""Django's command line for developers; users run the ``cartera`` command instead."""

import sys

from cartera.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], prog="manage.py"))
