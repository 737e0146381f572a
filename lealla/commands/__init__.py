"""absl entry points of the `lealla` subcommands: flags live only here."""
