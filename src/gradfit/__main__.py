"""``python -m gradfit``: the command line."""

from gradfit.cli import main

if __name__ == "__main__":
    main()
