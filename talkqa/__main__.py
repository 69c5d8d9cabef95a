"""``python -m talkqa``: the same command line as ``talkqa``."""

from talkqa.cli import main

if __name__ == "__main__":
    main()
