"""``python -m altinn_corr``."""

from altinn_corr.cli import main

if __name__ == "__main__":
    main()
