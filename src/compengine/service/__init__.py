"""The service layer: operations shared by the CLI and the API, over the core and the store."""
