"""``python -m mmme``: the same command line as the ``mmme`` script."""

from mmme.cli import main

if __name__ == "__main__":
    main()
