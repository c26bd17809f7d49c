"""`python -m jsonp2cors` runs the command line."""

from jsonp2cors.cli import main

if __name__ == "__main__":
    main()
