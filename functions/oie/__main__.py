"""`python -m oie …` is the `oie` command."""

from oie.cli.main import cli

cli()
