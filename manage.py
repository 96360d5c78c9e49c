#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qdperf.settings")
    # A developer's command line with nothing configured runs in development mode; a deployment
    # sets SECRET_KEY (and the WSGI app never defaults), and DEBUG=0 with no key still refuses.
    if "DEBUG" not in os.environ and "SECRET_KEY" not in os.environ:
        os.environ["DEBUG"] = "1"
        print("注意：未设置 SECRET_KEY，manage.py 以开发模式（DEBUG=1）运行。", file=sys.stderr)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
