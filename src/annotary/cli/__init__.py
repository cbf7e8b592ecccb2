"""The `annotary` command line: thin commands that call one service each."""
